import { z } from 'zod';
import { offlineConversionsOptions } from '../exports/export-offline-conversions.js';
import { stageUpdateInput } from '../lifecycle/stage-update-input.js';
import { deliveriesQuery, webhookBody } from './routes/automation-routes.js';
import { acceptBody, rejectBody } from './routes/lifecycle-routes.js';
import { accountsQuery } from './routes/model-routes.js';
import { disagreementsQuery, predictionQuery } from './routes/predictive-routes.js';
import {
  contactDetailQuery,
  contactScoreQuery,
  funnelQuery,
  listContactsQuery,
  rejectionsQuery,
  trafficQuery,
} from './routes/read-routes.js';
import { findingsQuery, headlineQuery, kpisQuery, spendRow } from './routes/report-routes.js';

const jsonBody = (schema: z.ZodType) => ({
  content: { 'application/json': { schema: z.toJSONSchema(schema, { io: 'input' }) } },
});

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
    owner: { type: 'string', nullable: true },
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
      '/api/contacts/{id}/prediction': {
        get: {
          summary:
            "The active predictive model's probability for the contact now, with the factors that raise and lower it (base + Σ contributions = logit)",
          security: [{ secretKey: [] }],
          parameters: [
            { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
            ...queryParameters(predictionQuery),
          ],
          responses: {
            200: {
              description:
                '{ contactId, modelVersion, kind, outcome, probability, base, logit, positive: [{ column, value, contribution }], negative: [...], missing, invalid, stored: { probability, at } }',
            },
            400: error,
            401: error,
            404: error,
          },
        },
      },
      '/api/predictive/models': {
        get: {
          summary: 'Stored predictive model versions, newest first, with their validation AUC and log loss',
          security: [{ secretKey: [] }],
          responses: {
            200: {
              description:
                '{ models: [{ version, kind, outcome, source, active, createdAt, rows, positives, validation }] }',
            },
            401: error,
          },
        },
      },
      '/api/predictive/models/{id}': {
        get: {
          summary:
            'A predictive model\'s card (data, inputs, validation metrics, calibration, gains, top factors); id or "active"',
          security: [{ secretKey: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: {
            200: { description: '{ version, kind, outcome, card, inputs, behaviour }' },
            401: error,
            404: error,
          },
        },
      },
      '/api/predictive/disagreements': {
        get: {
          summary: 'Leads the rules rank low but the model ranks high, and the reverse (percentile ranks)',
          security: [{ secretKey: [] }],
          parameters: queryParameters(disagreementsQuery),
          responses: {
            200: {
              description:
                '{ modelVersion, leads, modelHigherThanRules: [Disagreement], rulesHigherThanModel: [Disagreement] }',
            },
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
      '/api/crm/stages': {
        post: {
          summary:
            'Stage updates from a CRM: one update, or {"updates": [...], "createMissing"?}; idempotent by updateId; a bad item in a batch is reported by index and the rest applied (207)',
          security: [{ secretKey: [] }],
          parameters: [{ name: 'createMissing', in: 'query', required: false, schema: { enum: ['true', 'false'] } }],
          requestBody: jsonBody(stageUpdateInput),
          responses: {
            200: {
              description:
                '{ status: applied|unchanged|ignored|duplicate, contactId, created, stage, skipped } or a batch summary',
            },
            207: {
              description:
                'a batch where some updates failed: { applied, unchanged, ignored, duplicates, failed, results }',
            },
            400: error,
            401: error,
            404: error,
            409: error,
          },
        },
      },
      '/api/contacts/{id}/accept': {
        post: {
          summary: 'Sales accepts an MQL: it becomes SQL',
          security: [{ secretKey: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: jsonBody(acceptBody),
          responses: { 200: { description: '{ contactId, decision, stage }' }, 400: error, 404: error, 409: error },
        },
      },
      '/api/contacts/{id}/reject': {
        post: {
          summary: 'Sales rejects an MQL with a reason; it goes back to contact and the reason becomes a trait',
          security: [{ secretKey: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: jsonBody(rejectBody),
          responses: {
            200: { description: '{ contactId, decision, stage, rejection }' },
            400: error,
            404: error,
            409: error,
          },
        },
      },
      '/api/webhooks': {
        get: {
          summary: 'Webhook endpoints (secrets are never shown again)',
          security: [{ secretKey: [] }],
          responses: { 200: { description: '{ webhooks: [{ id, name, url, enabled, disabledReason, createdAt }] }' } },
        },
        post: {
          summary: 'Add an endpoint; the answer holds its whsec_ signing secret, shown once',
          security: [{ secretKey: [] }],
          requestBody: jsonBody(webhookBody),
          responses: { 201: { description: 'the endpoint with its secret' }, 400: error, 409: error },
        },
      },
      '/api/webhooks/{name}/test': {
        post: {
          summary: 'Send a signed webhook.test message to the endpoint now',
          security: [{ secretKey: [] }],
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: '{ url, ok, statusCode, error, ms }' }, 404: error },
        },
      },
      '/api/webhooks/{name}': {
        delete: {
          summary: 'Remove an endpoint',
          security: [{ secretKey: [] }],
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 204: { description: 'removed' }, 404: error },
        },
      },
      '/api/email-templates': {
        get: {
          summary: 'Email templates',
          security: [{ secretKey: [] }],
          responses: { 200: { description: '{ templates: [{ name, subject, updatedAt }] }' } },
        },
      },
      '/api/email-templates/{name}': {
        put: {
          summary: 'Add or replace a template: YAML with subject, text and optional html (Mustache fields)',
          security: [{ secretKey: [] }],
          parameters: [{ name: 'name', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: { content: { 'application/yaml': { schema: { type: 'string' } } } },
          responses: { 200: { description: '{ name, saved }' }, 400: error },
        },
      },
      '/api/deliveries': {
        get: {
          summary: 'The delivery log, newest first',
          security: [{ secretKey: [] }],
          parameters: queryParameters(deliveriesQuery),
          responses: { 200: { description: '{ deliveries: [...] }' }, 400: error },
        },
      },
      '/api/deliveries/{id}': {
        get: {
          summary: 'One delivery with its payload and every attempt',
          security: [{ secretKey: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'delivery' }, 404: error },
        },
      },
      '/api/deliveries/{id}/replay': {
        post: {
          summary: 'Send a failed, skipped or delivered delivery again from the start of the retry schedule',
          security: [{ secretKey: [] }],
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { 200: { description: 'the delivery, pending' }, 404: error, 409: error },
        },
      },
      '/api/exports/offline-conversions': {
        get: {
          summary:
            'Offline conversions: Google Ads import CSV (by gclid) or Meta Conversions API events ({ data: [...] })',
          security: [{ secretKey: [] }],
          parameters: queryParameters(offlineConversionsOptions),
          responses: {
            200: { description: 'CSV or JSON; headers X-Kerma-Exported and X-Kerma-Skipped' },
            400: error,
          },
        },
      },
      '/api/reports/funnel': {
        get: {
          summary:
            'Funnel of the contacts created in the range, by first- or last-touch channel (source, medium, campaign, landing page): stages reached, revenue, conversion rates, median days between stages, rejections',
          security: [{ secretKey: [] }],
          parameters: queryParameters(funnelQuery),
          responses: {
            200: { description: '{ by, touch, from, to, currency, rows: [FunnelRow], total: FunnelRow }' },
            400: error,
          },
        },
      },
      '/api/reports/headline': {
        get: {
          summary:
            'Traffic (new visitors), Contacts (new contacts) and Leads (new MQLs): the last N days vs the N before, daily series, spikes (median + 3×MAD), trend with and without spikes',
          security: [{ secretKey: [] }],
          parameters: queryParameters(headlineQuery),
          responses: {
            200: {
              description:
                '{ traffic: {current, previous, changePct, trendPerDay, trendPerDayWithoutSpikes}, contacts, leads, daily, spikes }',
            },
            400: error,
          },
        },
      },
      '/api/reports/findings': {
        get: {
          summary: 'The few sentences that matter, generated from the funnel, KPIs and headline of the range',
          security: [{ secretKey: [] }],
          parameters: queryParameters(findingsQuery),
          responses: { 200: { description: '{ from, to, findings: [{ kind, text }] }' }, 400: error },
        },
      },
      '/api/reports/kpis': {
        get: {
          summary:
            'KPIs by channel (source, medium, campaign) and in total: CTR, CPC, visit→contact, CPL, cost per MQL/SQL, CAC, ROAS, ROI, MQL:SQL, win rate, cycle, LTV, lead quality, qualified-visit abandonment, platform CPL; email rates',
          security: [{ secretKey: [] }],
          parameters: queryParameters(kpisQuery),
          responses: {
            200: { description: '{ by, from, to, currency, rows: [KpiRow], total: KpiRow, email }' },
            400: error,
          },
        },
      },
      '/api/spend': {
        post: {
          summary:
            'Store ad spend rows (a row with the same date, source, medium, campaign and ad replaces the old one)',
          security: [{ secretKey: [] }],
          requestBody: jsonBody(z.object({ rows: z.array(spendRow) })),
          responses: {
            200: { description: '{ stored, rejected }' },
            207: { description: 'some rows refused' },
            400: error,
          },
        },
      },
      '/api/reports/rejections': {
        get: {
          summary:
            'Sales rejections of MQLs per first-touch channel (or source, medium, campaign, landing page) and reason',
          security: [{ secretKey: [] }],
          parameters: queryParameters(rejectionsQuery),
          responses: {
            200: { description: '{ from, to, by, total, rows: [{ key, rejections, byReason }] }' },
            400: error,
          },
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
