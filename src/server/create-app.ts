import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { KermaError } from '../errors.js';
import type { AppDeps } from './app-deps.js';
import { ERROR_STATUS } from './error-status.js';
import { openApiDocument } from './openapi-document.js';
import { registerAutomationRoutes } from './routes/automation-routes.js';
import { registerExportRoutes } from './routes/export-routes.js';
import { registerIngestRoutes } from './routes/ingest-routes.js';
import { registerLifecycleRoutes } from './routes/lifecycle-routes.js';
import { registerModelRoutes } from './routes/model-routes.js';
import { registerPredictiveRoutes } from './routes/predictive-routes.js';
import { registerPrivacyRoutes } from './routes/privacy-routes.js';
import { registerReadRoutes } from './routes/read-routes.js';
import { registerReportRoutes } from './routes/report-routes.js';
import { registerSettingsRoutes } from './routes/settings-routes.js';
import { registerWebRoutes } from './routes/web-routes.js';

export interface AppRoute {
  method: string;
  url: string;
}

/** Every route an app registered, for tests that must cover them all (the auth matrix). */
export const APP_ROUTES = new WeakMap<FastifyInstance, AppRoute[]>();

/**
 * The HTTP app, without listening: tests call `app.inject`, main calls `listen`.
 * @example const app = createApp(deps); await app.listen({ port: 8080 })
 */
export function createApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    logger: false,
    bodyLimit: deps.config.maxBatchBytes * 2,
    trustProxy: false,
  });
  const routes: AppRoute[] = [];
  APP_ROUTES.set(app, routes);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) if (method !== 'HEAD') routes.push({ method, url: route.url });
  });
  // Ingest clients lie about Content-Type (RudderStack sends gzip JSON as form-urlencoded), so every body is a Buffer
  // and each route decodes it itself.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.setErrorHandler((error: FastifyError | KermaError, request, reply) => {
    if (error instanceof KermaError) {
      const status = ERROR_STATUS[error.code];
      const retryAfter = error.details?.['retryAfterSeconds'];
      if (typeof retryAfter === 'number') reply.header('Retry-After', String(retryAfter));
      if (status >= 500) deps.logger.warn({ code: error.code, route: request.routeOptions.url }, error.message);
      return reply.code(status).send({ error: { code: error.code, message: error.message, ...(error.details ?? {}) } });
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply.code(413).send({
        error: { code: 'payload_too_large', message: `request body is over ${deps.config.maxBatchBytes * 2} bytes` },
      });
    }
    if (typeof error.statusCode === 'number' && error.statusCode < 500) {
      return reply.code(error.statusCode).send({ error: { code: 'bad_request', message: error.message } });
    }
    deps.logger.error({ err: error, route: request.routeOptions.url }, 'unhandled error');
    return reply.code(500).send({ error: { code: 'internal', message: 'internal error; see the server log' } });
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } }),
  );

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unknown';
    const seconds = reply.elapsedTime / 1000;
    deps.metrics.requests.observe({ route, status: String(reply.statusCode) }, seconds);
    // The path only: a query string may hold a write key.
    deps.logger.debug(
      { method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime) },
      'request',
    );
  });

  registerIngestRoutes(app, deps);
  registerReadRoutes(app, deps);
  registerModelRoutes(app, deps);
  registerPredictiveRoutes(app, deps);
  registerLifecycleRoutes(app, deps);
  registerAutomationRoutes(app, deps);
  registerExportRoutes(app, deps);
  registerReportRoutes(app, deps);
  registerSettingsRoutes(app, deps);
  registerPrivacyRoutes(app, deps);
  registerWebRoutes(app, deps);

  app.get('/healthz', async (_request, reply) => {
    const ok = await deps.storage.ping();
    return reply
      .code(ok ? 200 : 503)
      .send(
        ok
          ? { status: 'ok', storage: deps.storage.engine }
          : { error: { code: 'unavailable', message: 'database not reachable' } },
      );
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('Content-Type', deps.metrics.registry.contentType);
    return deps.metrics.registry.metrics();
  });
  app.get('/openapi.json', async () => openApiDocument());
  return app;
}
