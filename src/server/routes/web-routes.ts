import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { KermaError } from '../../errors.js';
import { packageRoot } from '../../package-root.js';
import type { AppDeps } from '../app-deps.js';
import { landingPage } from '../landing-page.js';

const ASSETS = join(packageRoot(import.meta.dirname), 'dist', 'web');
const TYPES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

// The dashboard loads only its own files and talks only to its own origin; it is never framed.
const DASHBOARD_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

function readAsset(name: string): Buffer | null {
  const file = join(ASSETS, name);
  return existsSync(file) ? readFileSync(file) : null;
}

function dashboard(reply: FastifyReply): FastifyReply {
  return reply.headers(DASHBOARD_HEADERS);
}

/**
 * The dashboard (`/`, `/assets/*`) and the browser tracker (`/kerma.js`), from the files `npm run build` wrote to
 * dist/web. Files are read once; the dashboard signs in with a secret key it keeps in the tab's session storage and
 * sends as a Bearer header, so no cookie is involved.
 */
export function registerWebRoutes(app: FastifyInstance, _deps: AppDeps): void {
  const files = new Map<string, Buffer | null>();
  const asset = (name: string) => {
    if (!files.has(name)) files.set(name, readAsset(name));
    return files.get(name) ?? null;
  };

  app.get('/', async (_request, reply) => {
    const html = asset('index.html');
    dashboard(reply).header('Cache-Control', 'no-cache');
    return reply.type('text/html; charset=utf-8').send(html ?? landingPage());
  });

  app.get('/assets/:file', async (request, reply) => {
    const { file } = request.params as { file: string };
    const type = TYPES[file];
    const body = type ? asset(file) : null;
    if (!type || !body) throw new KermaError('not_found', `no dashboard file "${file}"`);
    return dashboard(reply).header('Cache-Control', 'no-cache').type(type).send(body);
  });

  app.get('/kerma.js', async (_request, reply) => {
    const body = asset('kerma.js');
    if (!body) throw new KermaError('not_found', 'the tracker is not built; run `npm run build`');
    return reply
      .headers({
        'Access-Control-Allow-Origin': '*',
        'Cross-Origin-Resource-Policy': 'cross-origin',
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'public, max-age=3600',
      })
      .type('text/javascript; charset=utf-8')
      .send(body);
  });
}
