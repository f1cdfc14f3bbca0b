import type { RawRow } from './raw-row.js';

/** What behaviour features need of an event. */
export interface BehaviourEvent {
  type: string;
  name: string | null;
  path: string | null;
  at: number;
}

/** The page groups and event names that get their own count, learned from the training contacts and stored. */
export interface BehaviourVocabulary {
  pageGroups: string[];
  eventNames: string[];
}

const DAY_MS = 86_400_000;
const SESSION_GAP_MS = 30 * 60_000;
export const WINDOWS_DAYS = [7, 30, 90] as const;

/** `/pricing/enterprise?x` → `/pricing`; `/` stays `/`. */
export function pageGroup(path: string | null): string {
  if (!path) return '/';
  const first = path.split(/[?#]/)[0]!.split('/').filter(Boolean)[0];
  return first ? `/${first.toLowerCase()}` : '/';
}

/**
 * The most frequent page groups and track-event names among some contacts' events (by how many contacts have them),
 * `size` of each: the vocabulary of the per-page and per-event counts.
 */
export function learnVocabulary(histories: BehaviourEvent[][], size = 15): BehaviourVocabulary {
  const groups = new Map<string, number>();
  const names = new Map<string, number>();
  for (const events of histories) {
    const seenGroups = new Set<string>();
    const seenNames = new Set<string>();
    for (const e of events) {
      if (e.type === 'page') seenGroups.add(pageGroup(e.path));
      else if (e.type === 'track' && e.name) seenNames.add(e.name);
    }
    for (const g of seenGroups) groups.set(g, (groups.get(g) ?? 0) + 1);
    for (const n of seenNames) names.set(n, (names.get(n) ?? 0) + 1);
  }
  const top = (m: Map<string, number>) =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, size)
      .map(([k]) => k);
  return { pageGroups: top(groups), eventNames: top(names) };
}

/**
 * Behaviour of one contact as of a moment (events after it are not seen, so a model trained on the moment an
 * outcome was decided does not learn from what came after): page views and track events over 7, 30, 90 days and in
 * all, active days and sessions (30 minutes of inactivity ends one), days since the last event and since creation,
 * and counts per page group and event name of the vocabulary, in all and over 30 days. Column names start with `behaviour.`.
 * @example behaviourFeatures(events, createdAt, Date.now(), vocabulary)['behaviour.page_views_30d']
 */
export function behaviourFeatures(
  events: BehaviourEvent[],
  createdAt: number,
  asOf: number,
  vocabulary: BehaviourVocabulary,
): RawRow {
  const seen = events.filter((e) => e.at <= asOf && (e.type === 'page' || e.type === 'track' || e.type === 'screen'));
  seen.sort((a, b) => a.at - b.at);
  const row: RawRow = {
    'behaviour.days_since_created': Math.max(0, (asOf - createdAt) / DAY_MS),
    'behaviour.days_since_last_event': seen.length ? (asOf - seen[seen.length - 1]!.at) / DAY_MS : null,
  };
  for (const days of WINDOWS_DAYS) {
    const since = asOf - days * DAY_MS;
    const inWindow = seen.filter((e) => e.at > since);
    row[`behaviour.page_views_${days}d`] = inWindow.filter((e) => e.type !== 'track').length;
    row[`behaviour.track_events_${days}d`] = inWindow.filter((e) => e.type === 'track').length;
    row[`behaviour.active_days_${days}d`] = new Set(inWindow.map((e) => Math.floor(e.at / DAY_MS))).size;
  }
  row['behaviour.page_views_all'] = seen.filter((e) => e.type !== 'track').length;
  row['behaviour.track_events_all'] = seen.filter((e) => e.type === 'track').length;
  let sessions = 0;
  for (let i = 0; i < seen.length; i++) if (i === 0 || seen[i]!.at - seen[i - 1]!.at > SESSION_GAP_MS) sessions++;
  row['behaviour.sessions'] = sessions;
  const recent = asOf - 30 * DAY_MS;
  for (const g of vocabulary.pageGroups) row[`behaviour.page:${g}`] = row[`behaviour.page:${g}:30d`] = 0;
  for (const n of vocabulary.eventNames) row[`behaviour.event:${n}`] = row[`behaviour.event:${n}:30d`] = 0;
  for (const e of seen) {
    const key = e.type === 'track' ? `behaviour.event:${e.name}` : `behaviour.page:${pageGroup(e.path)}`;
    if (!(key in row)) continue;
    row[key] = (row[key] as number) + 1;
    if (e.at > recent) row[`${key}:30d`] = (row[`${key}:30d`] as number) + 1;
  }
  return row;
}
