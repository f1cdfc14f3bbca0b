import { z } from 'zod';
import { accountsQuery } from './routes/model-routes.js';
import { contactDetailQuery, contactScoreQuery, listContactsQuery, trafficQuery } from './routes/read-routes.js';

function queryParameters(schema: z.ZodObject) {
  const json = z.toJSONSchema(schema, { io: 'input' }) as { properties?: Record<string, object> };
  return Object.entries(json.properties ?? {}).map(([name, s]) => ({ name, in: 'query', required: false, schema: s }));
}

const error = {
  description: 'Error',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: {
          error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
        },
      },
    },
  },
};

const touch = {
  type: 'object',
  nullable: true,
  properties: Object.fromEntries(
    ['source', 'medium', 'campaign', 'term', 'content', 'channel', 'landingPage', 'referrer', 'at'].map((k) => [
      k,
      { type: 'string', nullable: true },
    ]),
  ),
};

const contact = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    email: { type: 'string', nullable: true },
    userId: { type: 'string', nullable: true },
    traits: { type: 'object' },
    stage: { type: 'string' },
    score: { type: 'number' },
    fit: { type: 'number' },
    engagement: { type: 'number' },
    grade: { type: 'string', nullable: true },
    probability: { type: 'number', nullable: true },
    firstTouch: touch,
    lastTouch: touch,
    createdAt: { type: 'string', format: 'date-time' },
    lastSeenAt: { type: 'string', format: 'date-time' },
  },
};

const ingestResponse = {
  description: 'Stored (durably committed). `rejected` lists refused events by index with the reason.',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        properties: { success: { type: 'boolean' }, accepted: { type: 'integer' }, duplicates: { type: 'integer' } },
      },
    },
  },
};

const ingest = (summary: string) => ({
  post: {
    summary,
    security: [{ writeKey: [] }],
    responses: { 200: ingestResponse, 400: error, 401: error, 413: error, 429: error, 503: error },
  },
});

/** The OpenAPI 3.1 document served at /openapi.json. */
export function openApiDocument(): object {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Kerma',
      version: '0.1.0',
      description: 'Lead scoring and lead-funnel analytics. Errors are {"error": {"code", "message"}}.',
    },
    components: {
      securitySchemes: {
        secretKey: { type: 'http', scheme: 'bearer', description: 'Workspace secret key' },
        writeKey: { type: 'http', scheme: 'basic', description: 'Write key as the user name (Segment style)' },
      },
      schemas: { Contact: contact },
    },
    paths: {
      '/v1/batch': ingest('Segment-compatible batch (also /v1/b, /v1/import, /beacon/v1/batch)'),
      '/v1/track': ingest(
        'Segment track (also /v1/t); likewise identify, page, screen, group, alias and their short forms',
      ),
      '/batch/': ingest('PostHog batch (also /capture/, /e/)'),
      '/api/contacts': {
        get: {
          summary: 'List contacts',
          security: [{ secretKey: [] }],
          parameters: queryParameters(listContactsQuery),
          responses: {
            200: {
              description: 'A page of contacts',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      contacts: { type: 'array', items: { $ref: '#/components/schemas/Contact' } },
                      next: { type: 'string', nullable: true },
                    },
                  },
                },
              },
            },
            400: error,
            401: error,
            403: error,
          },
        },
      },
      '/api/contacts/{id}': {
        get: {
          summary: 'One contact with identities, sessions, events (newest first, paged) and stage history',
          security: [{ secretKey: [] }],
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            ...queryParameters(contactDetailQuery),
          ],
          responses: {
            200: {
              description: 'Contact detail',
              content: { 'application/json': { schema: { $ref: '#/components/schemas/Contact' } } },
            },
            401: error,
            404: error,
          },
        },
      },
      '/api/contacts/{id}/score': {
        get: {
          summary:
            "The contact's score under the active model, now or at a past date, with every contribution (decayed to that date) adding up to it",
          security: [{ secretKey: [] }],
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            ...queryParameters(contactScoreQuery),
          ],
          responses: {
            200: {
              description:
                '{ total, fit, engagement, grade, status, at, model, contributions: [{ ruleId, kind, points, decayed, eventId?, at }] }',
            },
            400: error,
            401: error,
            404: error,
          },
        },
      },
      '/api/accounts': {
        get: {
          summary: 'Accounts (email domain or company trait, as the model says) ranked by score from their contacts',
          security: [{ secretKey: [] }],
          parameters: queryParameters(accountsQuery),
          responses: {
            200: { description: '{ model, accounts: [{ account, score, contacts, top }] }' },
            401: error,
            404: error,
          },
        },
      },
      '/api/models/validate': {
        post: {
          summary: 'Check a model file (YAML body); a 400 lists every error with its path and line',
          security: [{ secretKey: [] }],
          requestBody: { content: { 'application/yaml': { schema: { type: 'string' } } } },
          responses: { 200: { description: '{ valid, name, fit, engagement, triggers }' }, 400: error, 401: error },
        },
      },
      '/api/models/backtest': {
        post: {
          summary:
            'Backtest a model (and optionally a second one) on the workspace history: ROC AUC, thresholds, lift by decile, bands, recommendations',
          security: [{ secretKey: [] }],
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['model', 'outcome'],
                  properties: {
                    model: { type: 'string', description: 'model file text (YAML)' },
                    outcome: { type: 'string', description: 'won, sql, stage:NAME or trait:NAME' },
                    at: { type: 'string', description: 'days:N (default days:30) or now' },
                    compare: { type: 'string', description: 'a second model file' },
                    precision: { type: 'number' },
                    capacity: { type: 'number', description: 'leads a week sales can take' },
                  },
                },
              },
            },
          },
          responses: { 200: { description: 'Backtest result' }, 400: error, 401: error },
        },
      },
      '/api/reports/traffic': {
        get: {
          summary: 'Daily new visitors, sessions, page views and new contacts, optionally by a dimension',
          security: [{ secretKey: [] }],
          parameters: queryParameters(trafficQuery),
          responses: { 200: { description: 'Traffic report' }, 400: error, 401: error },
        },
      },
      '/healthz': {
        get: { summary: 'Liveness and database check', responses: { 200: { description: 'ok' }, 503: error } },
      },
      '/metrics': {
        get: { summary: 'Prometheus metrics', responses: { 200: { description: 'text exposition format' } } },
      },
    },
  };
}
