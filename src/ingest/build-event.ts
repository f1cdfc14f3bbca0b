import { createHash } from 'node:crypto';
import { isPlaceholderId } from '../identity/is-placeholder-id.js';
import { anonymizeIp } from './anonymize-ip.js';
import { classifyUserAgent } from './classify-user-agent.js';
import { correctClockSkew, parseTime } from './correct-clock-skew.js';
import type { CampaignInfo, EventType, IngestEvent, PageInfo } from './ingest-event.js';
import type { RequestInfo } from './request-info.js';

/** Fields a wire format yields before the shared rules (ids, time, page, client) are applied. */
export interface RawEventFields {
  type: EventType;
  messageId: unknown;
  name: unknown;
  anonymousId: unknown;
  userId: unknown;
  previousId?: unknown;
  groupId?: unknown;
  traits: unknown;
  properties: unknown;
  context: Record<string, unknown>;
  timestamp: unknown;
  originalTimestamp?: unknown;
  sentAt: unknown;
  page: PageInfo | null;
  campaign: CampaignInfo | null;
  ip: unknown;
  userAgent: unknown;
  library: string | null;
  anonymousMayBeUser?: boolean;
}

// Kept in their own columns (url, path, referrer, user_agent, ip, library), so not stored twice in the context JSON.
const CONTEXT_IN_COLUMNS = new Set(['page', 'userAgent', 'ip', 'library']);

function storedContext(context: Record<string, unknown>): string {
  const rest: Record<string, unknown> = {};
  for (const key in context) if (!CONTEXT_IN_COLUMNS.has(key)) rest[key] = context[key];
  return JSON.stringify(rest);
}

/** UTF-8 size without encoding when the answer is clear from the length (a char is 1 to 3 bytes). */
function byteSize(text: string, limit: number): number {
  return text.length * 3 <= limit ? text.length : Buffer.byteLength(text);
}

export type BuildResult = { ok: true; event: IngestEvent } | { ok: false; reason: string; messageId?: string };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An id as a string: strings and finite numbers are accepted (Segment allows numeric user ids). */
export function idString(value: unknown): string | null | 'invalid' {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string')
    return value.length > 0 && value.length <= 512 ? value : value === '' ? null : 'invalid';
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return 'invalid';
}

export function optionalString(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** Turns wire fields into an IngestEvent, or says why the event is refused. */
export function buildEvent(raw: RawEventFields, request: RequestInfo, rawItem: unknown): BuildResult {
  const messageIdRaw = idString(raw.messageId);
  if (messageIdRaw === 'invalid')
    return { ok: false, reason: 'messageId must be a non-empty string of at most 512 characters' };
  // Without a messageId, a hash of the payload still lets an identical retry be recognised.
  const messageId = messageIdRaw ?? `h-${createHash('sha256').update(JSON.stringify(rawItem)).digest('base64url')}`;
  const fail = (reason: string): BuildResult => ({ ok: false, reason, messageId });

  const anonymous = idString(raw.anonymousId);
  const user = idString(raw.userId);
  if (anonymous === 'invalid') return fail('anonymousId must be a string or number');
  if (user === 'invalid') return fail('userId must be a string or number');
  const anonymousId = anonymous && !isPlaceholderId(anonymous) ? anonymous : null;
  const userId = user && !isPlaceholderId(user) ? user : null;
  const previous = idString(raw.previousId);
  const previousId = previous && previous !== 'invalid' && !isPlaceholderId(previous) ? previous : null;
  const group = idString(raw.groupId);
  const groupId = group && group !== 'invalid' ? group : null;

  if (raw.type === 'alias') {
    if (!userId || !previousId)
      return fail('alias needs userId and previousId (placeholder ids such as "null" do not count)');
  } else if (
    !anonymousId &&
    !userId &&
    !(raw.type === 'identify' && isRecord(raw.traits) && typeof raw.traits['email'] === 'string')
  ) {
    return fail(
      'an event needs userId or anonymousId, or for identify an email trait (placeholder ids such as "anonymous" or "null" do not count)',
    );
  }
  if (raw.type === 'group' && !groupId) return fail('group needs groupId');
  const name = optionalString(raw.name);
  if (raw.type === 'track' && !name) return fail('track needs a non-empty "event" name');
  if (raw.properties !== undefined && raw.properties !== null && !isRecord(raw.properties)) {
    return fail('properties must be an object');
  }
  if (raw.traits !== undefined && raw.traits !== null && !isRecord(raw.traits)) return fail('traits must be an object');

  const times = {
    timestamp: parseTime(raw.timestamp),
    originalTimestamp: parseTime(raw.originalTimestamp),
    sentAt: parseTime(raw.sentAt),
  };
  for (const [field, value] of Object.entries(times)) {
    if (value === 'invalid')
      return fail(`${field} is not an ISO 8601 date (or epoch milliseconds) between 1970 and 2200`);
  }
  const timestamp = correctClockSkew({
    timestamp: times.timestamp as number | null,
    originalTimestamp: times.originalTimestamp as number | null,
    sentAt: times.sentAt as number | null,
    receivedAt: request.receivedAt,
  });

  const userAgent = optionalString(raw.userAgent) ?? request.browserUserAgent;
  const client = classifyUserAgent(userAgent);
  const ipRaw = optionalString(raw.ip) ?? request.ip;
  const ip = ipRaw ? (request.keepFullIp ? ipRaw : anonymizeIp(ipRaw)) : null;
  const context = raw.context;
  if ('ip' in context) context['ip'] = ip;
  const properties = isRecord(raw.properties) ? raw.properties : {};
  const traits = isRecord(raw.traits) ? raw.traits : null;
  const json = {
    properties: JSON.stringify(properties),
    context: storedContext(context),
    traits: traits ? JSON.stringify(traits) : null,
  };
  const size =
    byteSize(json.properties, request.maxEventBytes) +
    byteSize(json.context, request.maxEventBytes) +
    (json.traits ? byteSize(json.traits, request.maxEventBytes) : 0);
  if (size > request.maxEventBytes) {
    return fail(
      `event is ${size} bytes (properties, traits and context); the limit is ${request.maxEventBytes} bytes per event`,
    );
  }

  return {
    ok: true,
    event: {
      messageId,
      type: raw.type,
      name,
      anonymousId,
      userId,
      previousId,
      groupId,
      traits,
      properties,
      context,
      timestamp,
      receivedAt: request.receivedAt,
      page: raw.page,
      campaign: raw.campaign,
      ip,
      userAgent,
      browser: client.browser,
      os: client.os,
      device: client.device,
      isBot: client.isBot,
      library: raw.library,
      json,
      ...(raw.anonymousMayBeUser ? { anonymousMayBeUser: true } : {}),
    },
  };
}
