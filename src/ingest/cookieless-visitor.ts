import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../storage/database-schema.js';

/**
 * The visitor id of a cookieless browser (the tracker's data-cookieless mode stores nothing): a hash of the day's salt,
 * the workspace, the site's host, the full client IP and the user agent, as Plausible does. The IP is used here only,
 * never stored; the same person gets a new id every day.
 * @example cookielessVisitorId(salt, 'ws_1', 'shop.example', '203.0.113.7', 'Mozilla/5.0 …') // 'ck_…'
 */
export function cookielessVisitorId(
  salt: string,
  workspaceId: string,
  host: string,
  ip: string,
  userAgent: string,
): string {
  const hash = createHash('sha256').update(`${salt}\n${workspaceId}\n${host}\n${ip}\n${userAgent}`).digest('base64url');
  return `ck_${hash.slice(0, 22)}`;
}

/** Items of a Segment body that the tracker sent in cookieless mode without an id. */
export function cookielessItems(body: Record<string, unknown>): Array<Record<string, unknown>> {
  const items = Array.isArray(body['batch']) ? (body['batch'] as unknown[]) : [body];
  return items.filter((item): item is Record<string, unknown> => {
    if (typeof item !== 'object' || item === null) return false;
    const i = item as Record<string, unknown>;
    const kerma = (i['context'] as { kerma?: { mode?: unknown } } | undefined)?.kerma;
    return kerma?.mode === 'cookieless' && !i['anonymousId'] && !i['userId'];
  });
}

/** The host of the page an item was sent from (its context.page.url), else the request's Origin. */
export function itemHost(item: Record<string, unknown>, origin: string | undefined): string {
  const url = (item['context'] as { page?: { url?: unknown } } | undefined)?.page?.url;
  for (const candidate of [url, origin]) {
    if (typeof candidate !== 'string') continue;
    try {
      return new URL(candidate).host;
    } catch {
      // not a URL: try the next
    }
  }
  return '';
}

/**
 * The user agent the page itself reported (context.userAgent), else the request's: a beacon sent as a page unloads
 * can carry a different header than the page's fetches, and one browser must hash to one visitor.
 */
export function itemUserAgent(item: Record<string, unknown>, header: string | undefined): string {
  const reported = (item['context'] as { userAgent?: unknown } | undefined)?.userAgent;
  return typeof reported === 'string' && reported ? reported : (header ?? '');
}

const salts = new Map<string, string>();

/**
 * Today's salt for a workspace (UTC day), created at first use; the insert is idempotent, so several Kerma
 * processes agree on it. Salts of earlier days are deleted when a new one is made.
 */
export async function dailySalt(db: Kysely<Database>, workspaceId: string, now: number): Promise<string> {
  const day = new Date(now).toISOString().slice(0, 10);
  const key = `${workspaceId}/${day}`;
  const cached = salts.get(key);
  if (cached) return cached;
  await db
    .insertInto('visitor_salts')
    .values({ workspace_id: workspaceId, day, salt: randomBytes(32).toString('base64url'), created_at: now })
    .onConflict((oc) => oc.columns(['workspace_id', 'day']).doNothing())
    .execute();
  const { salt } = await db
    .selectFrom('visitor_salts')
    .select('salt')
    .where('workspace_id', '=', workspaceId)
    .where('day', '=', day)
    .executeTakeFirstOrThrow();
  // Keep yesterday's for events that straddle midnight; older ones go.
  const yesterday = new Date(now - 86_400_000).toISOString().slice(0, 10);
  await db.deleteFrom('visitor_salts').where('workspace_id', '=', workspaceId).where('day', '<', yesterday).execute();
  if (salts.size > 1000) salts.clear();
  salts.set(key, salt);
  return salt;
}
