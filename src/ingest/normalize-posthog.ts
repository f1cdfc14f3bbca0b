import { buildEvent, isRecord, optionalString, type RawEventFields } from './build-event.js';
import type { CampaignInfo, PageInfo } from './ingest-event.js';
import type { NormalizedBatch } from './normalized-batch.js';
import type { RequestInfo } from './request-info.js';

/** The PostHog body's events: `{batch:[…]}`, a bare array, or one event (capture / e endpoints). */
export function posthogItems(body: unknown): unknown[] | null {
  if (Array.isArray(body)) return body;
  if (!isRecord(body)) return null;
  if (Array.isArray(body['batch'])) return body['batch'];
  if (Array.isArray(body['data'])) return body['data'];
  if (typeof body['event'] === 'string') return [body];
  return null;
}

/** The project key PostHog clients send: `api_key` on the body, or `token` in an event's properties. */
export function posthogApiKey(body: unknown, items: unknown[]): string | null {
  if (isRecord(body)) {
    const key = optionalString(body['api_key']) ?? optionalString(body['token']);
    if (key) return key;
  }
  for (const item of items) {
    if (isRecord(item)) {
      const key =
        optionalString(item['api_key']) ??
        (isRecord(item['properties']) ? optionalString(item['properties']['token']) : null);
      if (key) return key;
    }
  }
  return null;
}

function campaignFrom(properties: Record<string, unknown>): CampaignInfo | null {
  const info = {
    source: optionalString(properties['utm_source']),
    medium: optionalString(properties['utm_medium']),
    name: optionalString(properties['utm_campaign']),
    term: optionalString(properties['utm_term']),
    content: optionalString(properties['utm_content']),
  };
  return info.source || info.medium || info.name ? info : null;
}

function pageFrom(properties: Record<string, unknown>): PageInfo | null {
  const url = optionalString(properties['$current_url']);
  const referrer = optionalString(properties['$referrer']);
  let path = optionalString(properties['$pathname']);
  if (!path && url) {
    try {
      path = new URL(url).pathname;
    } catch {
      path = null;
    }
  }
  if (!url && !path && !referrer) return null;
  return { url, path, referrer: referrer === '$direct' ? null : referrer, title: optionalString(properties['title']) };
}

function traitsFrom(properties: Record<string, unknown>): Record<string, unknown> | null {
  const set = isRecord(properties['$set']) ? properties['$set'] : {};
  const setOnce = isRecord(properties['$set_once']) ? properties['$set_once'] : {};
  const merged = { ...setOnce, ...set };
  return Object.keys(merged).length > 0 ? merged : null;
}

/**
 * Normalises PostHog capture events ($pageview, $identify, $create_alias, custom events) into IngestEvents.
 * `distinct_id` is treated as the anonymous id unless the event identifies (then it is the user id).
 * @example normalizePosthog([{ event: '$pageview', distinct_id: 'a1', properties: { $current_url: 'https://x.io/' } }], body, request, 100)
 */
export function normalizePosthog(items: unknown[], body: unknown, request: RequestInfo): NormalizedBatch {
  const result: NormalizedBatch = { events: [], rejected: [] };
  const batchSentAt = isRecord(body) ? body['sent_at'] : undefined;
  items.forEach((item, index) => {
    if (!isRecord(item)) {
      result.rejected.push({ index, reason: 'event must be a JSON object' });
      return;
    }
    const uuid = typeof item['uuid'] === 'string' ? item['uuid'] : undefined;
    const event = item['event'];
    if (typeof event !== 'string' || event === '') {
      result.rejected.push({
        index,
        reason: 'event must have a non-empty "event" name',
        ...(uuid ? { messageId: uuid } : {}),
      });
      return;
    }
    const properties = isRecord(item['properties']) ? item['properties'] : {};
    const distinctId = item['distinct_id'] ?? properties['distinct_id'];
    const common = {
      messageId: item['uuid'],
      properties,
      context: { library: { name: optionalString(properties['$lib']), version: properties['$lib_version'] } },
      timestamp: item['timestamp'],
      sentAt: batchSentAt ?? item['sent_at'],
      campaign: campaignFrom(properties),
      page: pageFrom(properties),
      ip: properties['$ip'],
      userAgent: properties['$raw_user_agent'] ?? properties['$useragent'],
      library: optionalString(properties['$lib']),
      traits: traitsFrom(properties),
    };
    let raw: RawEventFields;
    if (event === '$identify') {
      raw = {
        ...common,
        type: 'identify',
        name: null,
        userId: distinctId,
        anonymousId: properties['$anon_distinct_id'],
      };
    } else if (event === '$create_alias') {
      raw = {
        ...common,
        type: 'alias',
        name: null,
        userId: distinctId,
        anonymousId: null,
        previousId: properties['alias'],
      };
    } else if (event === '$groupidentify') {
      raw = {
        ...common,
        type: 'group',
        name: optionalString(properties['$group_type']),
        anonymousId: distinctId,
        userId: null,
        groupId: properties['$group_key'],
        traits: properties['$group_set'],
      };
    } else if (event === '$pageview' || event === '$screen') {
      raw = {
        ...common,
        type: event === '$pageview' ? 'page' : 'screen',
        name: optionalString(properties['$screen_name']) ?? optionalString(properties['title']),
        anonymousId: distinctId,
        userId: null,
        anonymousMayBeUser: true,
      };
    } else {
      raw = { ...common, type: 'track', name: event, anonymousId: distinctId, userId: null, anonymousMayBeUser: true };
    }
    const built = buildEvent(raw, request, item);
    if (built.ok) result.events.push(built.event);
    else
      result.rejected.push({ index, reason: built.reason, ...(built.messageId ? { messageId: built.messageId } : {}) });
  });
  return result;
}
