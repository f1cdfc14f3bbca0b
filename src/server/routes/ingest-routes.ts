import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KermaError } from '../../errors.js';
import {
  cookielessItems,
  cookielessVisitorId,
  dailySalt,
  itemHost,
  itemUserAgent,
} from '../../ingest/cookieless-visitor.js';
import type { EventType } from '../../ingest/ingest-event.js';
import { normalizePosthog, posthogApiKey, posthogItems } from '../../ingest/normalize-posthog.js';
import { normalizeSegment, SEGMENT_ROUTES } from '../../ingest/normalize-segment.js';
import type { NormalizedBatch } from '../../ingest/normalized-batch.js';
import type { RequestInfo } from '../../ingest/request-info.js';
import type { AppDeps } from '../app-deps.js';
import { ingestKey, ownerOfKey } from '../authenticate.js';
import { parseJsonBody, readBody } from '../read-body.js';

const CORS_HEADERS = 'Content-Type, Authorization, AnonymousId, SentAt, X-Write-Key';

function allowBrowsers(request: FastifyRequest, reply: FastifyReply): void {
  // Browsers send from the customer's own site; echo its origin (analytics.js XHR sends credentials mode "include").
  const origin = request.headers.origin;
  reply.header('Access-Control-Allow-Origin', origin ?? '*');
  if (origin) reply.header('Access-Control-Allow-Credentials', 'true');
  reply.header('Vary', 'Origin');
}

function requestInfo(request: FastifyRequest, deps: AppDeps, receivedAt: number): RequestInfo {
  const browser = request.headers.origin !== undefined;
  return {
    receivedAt,
    ip: request.ip ?? null,
    browserUserAgent: browser ? (request.headers['user-agent'] ?? null) : null,
    keepFullIp: deps.config.keepFullIp,
    maxEventBytes: deps.config.maxEventBytes,
  };
}

/** Stores the accepted events durably, then answers: 200 with what was refused, 400 if nothing was acceptable. */
async function commit(
  deps: AppDeps,
  reply: FastifyReply,
  workspace: { id: string; timeZone: string },
  batch: NormalizedBatch,
) {
  const { events, rejected } = batch;
  deps.metrics.events.inc({ result: 'rejected' }, rejected.length);
  if (events.length === 0) {
    if (rejected.length === 0) return reply.send({ success: true, accepted: 0, duplicates: 0 });
    throw new KermaError('bad_request', `no event was accepted: ${rejected[0]!.reason}`, { rejected });
  }
  if (!deps.committer.hasRoom(events.length)) {
    reply.header('Retry-After', '1');
    throw new KermaError('rate_limited', 'ingest queue is full; retry after a second');
  }
  let outcome: Awaited<ReturnType<typeof deps.committer.submit>>;
  try {
    outcome = await deps.committer.submit({ workspaceId: workspace.id, timeZone: workspace.timeZone, events });
  } catch (error) {
    deps.logger.error({ err: error }, 'ingest commit failed');
    reply.header('Retry-After', '5');
    throw new KermaError(
      'unavailable',
      'events could not be stored right now (database unavailable); nothing was saved, retry later',
    );
  }
  deps.metrics.events.inc({ result: 'stored' }, outcome.inserted);
  deps.metrics.events.inc({ result: 'duplicate' }, outcome.duplicates);
  return reply.send({
    success: true,
    accepted: outcome.inserted,
    duplicates: outcome.duplicates,
    ...(rejected.length > 0 ? { rejected } : {}),
  });
}

/** Segment / RudderStack / analytics.js routes, the beacon route and PostHog's capture routes. */
export function registerIngestRoutes(app: FastifyInstance, deps: AppDeps): void {
  const segment = (route: EventType | 'batch') => async (request: FastifyRequest, reply: FastifyReply) => {
    const receivedAt = Date.now();
    allowBrowsers(request, reply);
    const text = readBody(request.body, request.headers['content-encoding'] === 'gzip', deps.config.maxBatchBytes);
    const body = parseJsonBody(text);
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new KermaError('bad_request', 'request body must be a JSON object');
    }
    const owner = await ownerOfKey(deps.workspaces, ingestKey(request, body));
    const cookieless = cookielessItems(body as Record<string, unknown>);
    if (cookieless.length > 0) {
      const salt = await dailySalt(deps.storage.db, owner.workspace.id, receivedAt).catch((error: unknown) => {
        deps.logger.error({ err: error }, 'visitor salt unavailable');
        reply.header('Retry-After', '5');
        throw new KermaError('unavailable', 'the database is unavailable; nothing was saved, retry later');
      });
      for (const item of cookieless)
        item['anonymousId'] = cookielessVisitorId(
          salt,
          owner.workspace.id,
          itemHost(item, request.headers.origin),
          request.ip,
          itemUserAgent(item, request.headers['user-agent']),
        );
    }
    const batch = normalizeSegment(body as Record<string, unknown>, route, requestInfo(request, deps, receivedAt));
    return commit(deps, reply, owner.workspace, batch);
  };

  for (const [suffix, route] of Object.entries(SEGMENT_ROUTES)) {
    app.post(`/v1/${suffix}`, segment(route));
  }
  app.post('/beacon/v1/batch', segment('batch'));

  const posthog = async (request: FastifyRequest, reply: FastifyReply) => {
    const receivedAt = Date.now();
    allowBrowsers(request, reply);
    const query = request.query as Record<string, unknown>;
    const gzip = request.headers['content-encoding'] === 'gzip' || query['compression'] === 'gzip-js';
    let text = readBody(request.body, gzip, deps.config.maxBatchBytes);
    // posthog-js may post form data `data=<base64 JSON>`.
    if (text.startsWith('data=')) {
      const data = decodeURIComponent(new URLSearchParams(text).get('data') ?? '');
      text =
        data.trim().startsWith('{') || data.trim().startsWith('[')
          ? data
          : Buffer.from(data, 'base64').toString('utf8');
    }
    const body = parseJsonBody(text);
    const items = posthogItems(body);
    if (!items)
      throw new KermaError('bad_request', 'expected {"api_key", "batch": [...]}, an array of events, or one event');
    const owner = await ownerOfKey(deps.workspaces, posthogApiKey(body, items) ?? ingestKey(request, body));
    const batch = normalizePosthog(items, body, requestInfo(request, deps, receivedAt));
    return commit(deps, reply, owner.workspace, batch);
  };
  for (const path of ['/batch', '/batch/', '/capture', '/capture/', '/e', '/e/', '/i/v0/e', '/i/v0/e/']) {
    app.post(path, posthog);
  }

  app.options('/*', async (request, reply) => {
    allowBrowsers(request, reply);
    reply.header('Access-Control-Allow-Methods', 'POST, OPTIONS');
    reply.header('Access-Control-Allow-Headers', request.headers['access-control-request-headers'] ?? CORS_HEADERS);
    reply.header('Access-Control-Max-Age', '86400');
    return reply.code(204).send();
  });
}
