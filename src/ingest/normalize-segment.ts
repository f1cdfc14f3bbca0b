import { buildEvent, isRecord, optionalString } from './build-event.js';
import type { CampaignInfo, EventType, PageInfo } from './ingest-event.js';
import type { NormalizedBatch } from './normalized-batch.js';
import type { RequestInfo } from './request-info.js';

const TYPES = new Set<EventType>(['track', 'page', 'screen', 'identify', 'group', 'alias']);

/** Route suffixes of the Segment HTTP API, long and analytics.js short forms. */
export const SEGMENT_ROUTES: Record<string, EventType | 'batch'> = {
  identify: 'identify',
  i: 'identify',
  track: 'track',
  t: 'track',
  page: 'page',
  p: 'page',
  screen: 'screen',
  s: 'screen',
  group: 'group',
  g: 'group',
  alias: 'alias',
  a: 'alias',
  batch: 'batch',
  b: 'batch',
  import: 'batch',
};

function mergeContext(batchContext: unknown, itemContext: unknown): Record<string, unknown> {
  const item = isRecord(itemContext) ? itemContext : {};
  if (!isRecord(batchContext)) return { ...item };
  const merged: Record<string, unknown> = { ...batchContext, ...item };
  for (const [key, value] of Object.entries(batchContext)) {
    if (isRecord(value) && isRecord(item[key])) merged[key] = { ...value, ...(item[key] as Record<string, unknown>) };
  }
  return merged;
}

function pageInfo(properties: Record<string, unknown>, context: Record<string, unknown>): PageInfo | null {
  const page = isRecord(context['page']) ? context['page'] : {};
  const url = optionalString(properties['url']) ?? optionalString(page['url']);
  const path = optionalString(properties['path']) ?? optionalString(page['path']);
  const referrer = optionalString(properties['referrer']) ?? optionalString(page['referrer']);
  const title = optionalString(properties['title']) ?? optionalString(page['title']);
  if (!url && !path && !referrer) return null;
  return { url, path: path ?? (url ? safePath(url) : null), referrer, title };
}

function safePath(url: string): string | null {
  try {
    return new URL(url).pathname;
  } catch {
    return null;
  }
}

function campaignInfo(context: Record<string, unknown>): CampaignInfo | null {
  const c = context['campaign'];
  if (!isRecord(c)) return null;
  const info = {
    source: optionalString(c['source']),
    medium: optionalString(c['medium']),
    name: optionalString(c['name']),
    term: optionalString(c['term']),
    content: optionalString(c['content']),
    channel: optionalString(c['channel']),
  };
  return info.source || info.medium || info.name || info.channel ? info : null;
}

/**
 * Normalises a Segment / RudderStack / analytics.js body (one message or `{batch}`) into IngestEvents.
 * @example normalizeSegment({ batch: [{ type: 'track', event: 'Signed Up', userId: 'u1' }] }, 'batch', request, 120)
 */
export function normalizeSegment(
  body: Record<string, unknown>,
  route: EventType | 'batch',
  request: RequestInfo,
): NormalizedBatch {
  const result: NormalizedBatch = { events: [], rejected: [] };
  let items: unknown[];
  if (route === 'batch') {
    if (!Array.isArray(body['batch'])) {
      result.rejected.push({ index: -1, reason: 'body must have a "batch" array of messages' });
      return result;
    }
    items = body['batch'];
  } else {
    items = [body];
  }
  items.forEach((item, index) => {
    if (!isRecord(item)) {
      result.rejected.push({ index, reason: 'message must be a JSON object' });
      return;
    }
    const messageId = typeof item['messageId'] === 'string' ? item['messageId'] : undefined;
    const type = route === 'batch' ? item['type'] : route;
    if (typeof type !== 'string' || !TYPES.has(type as EventType)) {
      result.rejected.push({
        index,
        reason: `unknown type ${JSON.stringify(type)}; expected one of ${[...TYPES].join(', ')}`,
        ...(messageId ? { messageId } : {}),
      });
      return;
    }
    const context = mergeContext(body['context'], item['context']);
    const properties = isRecord(item['properties']) ? item['properties'] : {};
    const library = isRecord(context['library']) ? optionalString(context['library']['name']) : null;
    // RudderStack's browser SDK sends identify traits only in context.traits.
    const traits = item['traits'] ?? (type === 'identify' ? context['traits'] : undefined);
    const built = buildEvent(
      {
        type: type as EventType,
        messageId: item['messageId'],
        name: type === 'track' ? item['event'] : (item['name'] ?? properties['name']),
        anonymousId: item['anonymousId'],
        userId: item['userId'],
        previousId: item['previousId'],
        groupId: item['groupId'],
        traits,
        properties: item['properties'],
        context,
        timestamp: item['timestamp'],
        originalTimestamp: item['originalTimestamp'],
        sentAt: item['sentAt'] ?? body['sentAt'],
        page: pageInfo(properties, context),
        campaign: campaignInfo(context),
        ip: context['ip'],
        userAgent: context['userAgent'],
        library,
      },
      request,
      item,
    );
    if (built.ok) result.events.push(built.event);
    else
      result.rejected.push({ index, reason: built.reason, ...(built.messageId ? { messageId: built.messageId } : {}) });
  });
  return result;
}
