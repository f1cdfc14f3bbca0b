import type { ScoringModel } from './scoring-model.js';

export interface AccountMember {
  id: string;
  email: string | null;
  traits: Record<string, unknown>;
  score: number;
}

export interface AccountScore {
  account: string;
  score: number;
  contacts: number;
  /** The contacts that make the score, best first (at most three). */
  top: Array<{ id: string; score: number }>;
}

// Mailbox providers say nothing about the company behind an address.
const PERSONAL_DOMAINS = new Set([
  'gmail.com',
  'googlemail.com',
  'yahoo.com',
  'hotmail.com',
  'outlook.com',
  'live.com',
  'icloud.com',
  'me.com',
  'aol.com',
  'gmx.de',
  'gmx.net',
  'web.de',
  'proton.me',
  'protonmail.com',
  'yandex.ru',
  'mail.ru',
]);

function accountKey(config: ScoringModel['account'], member: AccountMember): string | null {
  if (config.key === 'company') {
    const company = member.traits[config.companyTrait];
    return typeof company === 'string' && company.trim() !== '' ? company.trim().toLowerCase() : null;
  }
  const domain = member.email?.split('@')[1]?.toLowerCase();
  return domain && !PERSONAL_DOMAINS.has(domain) ? domain : null;
}

/**
 * Account (company) scores from contact scores: contacts grouped by email domain (personal mailboxes left out) or by
 * a company trait, then summed, maxed, or the sum of the best three (the default: one keen intern does not make a hot
 * account, three engaged people do).
 * @example accountScores(model.account, contacts)[0] // { account: 'acme.io', score: 182, contacts: 5, top: [...] }
 */
export function accountScores(config: ScoringModel['account'], members: AccountMember[]): AccountScore[] {
  const groups = new Map<string, AccountMember[]>();
  for (const m of members) {
    const key = accountKey(config, m);
    if (key === null) continue;
    const list = groups.get(key) ?? [];
    list.push(m);
    groups.set(key, list);
  }
  const out: AccountScore[] = [];
  for (const [account, list] of groups) {
    list.sort((a, b) => b.score - a.score);
    const score =
      config.aggregate === 'max'
        ? list[0]!.score
        : (config.aggregate === 'top3' ? list.slice(0, 3) : list).reduce((s, m) => s + m.score, 0);
    out.push({
      account,
      score,
      contacts: list.length,
      top: list.slice(0, 3).map((m) => ({ id: m.id, score: m.score })),
    });
  }
  return out.sort((a, b) => b.score - a.score || a.account.localeCompare(b.account));
}
