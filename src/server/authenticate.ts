import type { FastifyRequest } from 'fastify';
import { KermaError } from '../errors.js';
import type { KeyOwner, Workspace, WorkspaceService } from '../workspaces/workspace-service.js';

/** The write key of an ingest request, in Segment's order: Basic-auth user, body `writeKey`, `?writeKey=`, `X-Write-Key`. */
export function ingestKey(request: FastifyRequest, body: unknown): string | null {
  const auth = request.headers.authorization;
  if (auth?.startsWith('Basic ')) {
    const user = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':')[0];
    if (user) return user;
  }
  if (auth?.startsWith('Bearer ')) return auth.slice(7).trim() || null;
  if (typeof body === 'object' && body !== null && typeof (body as Record<string, unknown>)['writeKey'] === 'string') {
    return (body as Record<string, string>)['writeKey']!;
  }
  const query = request.query as Record<string, unknown>;
  if (typeof query['writeKey'] === 'string' && query['writeKey']) return query['writeKey'];
  const header = request.headers['x-write-key'];
  return typeof header === 'string' && header ? header : null;
}

export async function ownerOfKey(workspaces: WorkspaceService, key: string | null): Promise<KeyOwner> {
  if (!key) {
    throw new KermaError(
      'unauthorized',
      'no write key: send it as the Basic-auth user name, "writeKey" in the body, ?writeKey= or X-Write-Key',
    );
  }
  const owner = await workspaces.findKey(key);
  if (!owner) throw new KermaError('unauthorized', 'unknown key; check the write key of your workspace');
  return owner;
}

/** The workspace of a read API request; only a secret key (Bearer) reads. */
export async function requireSecretKey(request: FastifyRequest, workspaces: WorkspaceService): Promise<Workspace> {
  const auth = request.headers.authorization;
  if (!auth?.startsWith('Bearer ')) {
    throw new KermaError('unauthorized', 'missing "Authorization: Bearer <secret key>"');
  }
  const owner = await workspaces.findKey(auth.slice(7).trim());
  if (!owner) throw new KermaError('unauthorized', 'unknown key');
  if (owner.kind !== 'secret')
    throw new KermaError('forbidden', 'a write key can only send events; use the workspace secret key to read');
  return owner.workspace;
}
