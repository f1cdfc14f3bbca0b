import type { Kysely } from 'kysely';
import type { Touch } from '../attribution/touch.js';
import { localDaysRange } from '../ingest/local-day.js';
import type { Stage } from '../lifecycle/stages.js';
import type { Database } from '../storage/database-schema.js';
import { parseJson } from '../storage/ingest-rows.js';
import type { Conversion } from './format-offline-conversions.js';

const firstText = (traits: Record<string, unknown>, keys: string[]) => {
  for (const key of keys) {
    const value = traits[key];
    if ((typeof value === 'string' && value.trim() !== '') || typeof value === 'number') return String(value).trim();
  }
  return null;
};

/**
 * Contacts that first reached `stage` on a day from `from` to `to` (YYYY-MM-DD, inclusive, in the workspace time
 * zone), with the deal value, email, phone, Meta lead id and the newest Google / Meta click ids of their visits
 * before that moment.
 */
export async function loadConversions(
  db: Kysely<Database>,
  workspace: { id: string; timeZone: string },
  options: { stage: Stage; from: string; to: string },
): Promise<Conversion[]> {
  const range = localDaysRange(options.from, options.to, workspace.timeZone);
  const firsts = await db
    .selectFrom('stage_changes')
    .select(['contact_id', (eb) => eb.fn.min('at').as('at')])
    .where('workspace_id', '=', workspace.id)
    .where('to_stage', '=', options.stage)
    .groupBy('contact_id')
    .having((eb) => eb.fn.min('at'), '>=', range.start)
    .having((eb) => eb.fn.min('at'), '<', range.end)
    .execute();
  const reached = new Map(firsts.map((f) => [f.contact_id, Number(f.at)]));
  const ids = [...reached.keys()];
  const conversions: Conversion[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const page = ids.slice(i, i + 500);
    const [contacts, values, sessions] = await Promise.all([
      db
        .selectFrom('contacts')
        .select(['id', 'email', 'traits', 'first_touch', 'last_touch'])
        .where('workspace_id', '=', workspace.id)
        .where('id', 'in', page)
        .execute(),
      db
        .selectFrom('stage_changes')
        .select(['contact_id', 'value', 'currency', 'at', 'seq'])
        .where('workspace_id', '=', workspace.id)
        .where('to_stage', '=', options.stage)
        .where('value', 'is not', null)
        .where('contact_id', 'in', page)
        .orderBy('at', 'desc')
        .orderBy('seq', 'desc')
        .execute(),
      db
        .selectFrom('sessions')
        .select(['contact_id', 'touch', 'started_at'])
        .where('workspace_id', '=', workspace.id)
        .where('contact_id', 'in', page)
        .orderBy('started_at', 'desc')
        .execute(),
    ]);
    for (const c of contacts) {
      const at = reached.get(c.id)!;
      const traits = parseJson<Record<string, unknown>>(c.traits) ?? {};
      // The newest value given for the stage (a won deal's amount may be corrected after the win).
      const deal = values.find((v) => v.contact_id === c.id);
      const touches: Array<{ touch: Touch; at: number }> = [];
      for (const s of sessions) {
        if (s.contact_id !== c.id || Number(s.started_at) > at) continue;
        const touch = parseJson<Touch>(s.touch);
        if (touch) touches.push({ touch, at: Number(s.started_at) });
      }
      for (const raw of [c.last_touch, c.first_touch]) {
        const touch = parseJson<Touch>(raw);
        if (touch && Date.parse(touch.at) <= at) touches.push({ touch, at: Date.parse(touch.at) });
      }
      const click = (id: string) => touches.find((t) => t.touch.clickIds?.[id]);
      const google = click('gclid');
      const meta = click('fbclid');
      conversions.push({
        contactId: c.id,
        stage: options.stage,
        at,
        value: deal ? Number(deal.value) : null,
        currency: deal?.currency ?? null,
        email: c.email,
        phone: firstText(traits, ['phone', 'phone_number', 'mobile']),
        country: firstText(traits, ['country_code', 'country'])?.toUpperCase() ?? null,
        gclid: google?.touch.clickIds['gclid'] ?? null,
        gclidAt: google?.at ?? null,
        fbclid: meta?.touch.clickIds['fbclid'] ?? null,
        fbclidAt: meta?.at ?? null,
        leadId: firstText(traits, ['lead_id', 'fb_lead_id', 'meta_lead_id']),
      });
    }
  }
  return conversions.sort((a, b) => a.at - b.at || a.contactId.localeCompare(b.contactId));
}
