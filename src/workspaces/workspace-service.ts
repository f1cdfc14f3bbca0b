import { KermaError } from '../errors.js';
import { isValidTimeZone } from '../ingest/local-day.js';
import { newId } from '../storage/ingest-rows.js';
import type { Storage } from '../storage/storage.js';
import { generateKey, hashKey, type KeyKind } from './api-keys.js';
import { RateLimiter } from './rate-limiter.js';

export interface Workspace {
  id: string;
  name: string;
  timeZone: string;
  currency: string;
  createdAt: number;
}

export interface CreatedWorkspace extends Workspace {
  writeKey: string;
  secretKey: string;
}

export interface KeyOwner {
  workspace: Workspace;
  kind: KeyKind;
}

const CACHE_MS = 10_000;

/**
 * Workspaces and their API keys. Keys are stored as SHA-256 hashes; a short cache keeps the lookup off the hot path
 * (a revoked key stops working within its 10 s lifetime).
 */
export class WorkspaceService {
  private readonly keyCache = new Map<string, { owner: KeyOwner | null; until: number }>();

  private readonly limiter: RateLimiter | null;

  constructor(
    private readonly storage: Storage,
    options: { rateLimitPerMinute?: number } = {},
  ) {
    this.limiter = options.rateLimitPerMinute ? new RateLimiter(options.rateLimitPerMinute) : null;
  }

  async create(name: string, options: { timeZone?: string; currency?: string } = {}): Promise<CreatedWorkspace> {
    const trimmed = name.trim();
    if (trimmed === '' || trimmed.length > 200)
      throw new KermaError('invalid_input', 'workspace name must be 1 to 200 characters');
    const timeZone = options.timeZone ?? 'UTC';
    if (!isValidTimeZone(timeZone))
      throw new KermaError('invalid_input', `unknown time zone "${timeZone}"; use an IANA name such as Europe/Berlin`);
    const currency = (options.currency ?? 'EUR').toUpperCase();
    if (!/^[A-Z]{3}$/.test(currency))
      throw new KermaError('invalid_input', `currency "${currency}" is not a 3-letter ISO 4217 code`);
    const workspace: Workspace = { id: newId('ws'), name: trimmed, timeZone, currency, createdAt: Date.now() };
    const writeKey = generateKey('write');
    const secretKey = generateKey('secret');
    await this.storage.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('workspaces')
        .values({
          id: workspace.id,
          name: workspace.name,
          time_zone: timeZone,
          currency,
          created_at: workspace.createdAt,
        })
        .execute();
      await tx
        .insertInto('api_keys')
        .values([
          {
            workspace_id: workspace.id,
            key_hash: hashKey(writeKey),
            kind: 'write',
            prefix: writeKey.slice(0, 7),
            created_at: workspace.createdAt,
          },
          {
            workspace_id: workspace.id,
            key_hash: hashKey(secretKey),
            kind: 'secret',
            prefix: secretKey.slice(0, 7),
            created_at: workspace.createdAt,
          },
        ])
        .execute();
    });
    return { ...workspace, writeKey, secretKey };
  }

  /** A new key for an existing workspace; the plain key is returned once and only its hash is kept. */
  async addKey(workspaceId: string, kind: KeyKind): Promise<string> {
    const key = generateKey(kind);
    await this.storage.db
      .insertInto('api_keys')
      .values({
        workspace_id: workspaceId,
        key_hash: hashKey(key),
        kind,
        prefix: key.slice(0, 7),
        created_at: Date.now(),
      })
      .execute();
    return key;
  }

  /** The workspace's keys as far as they can be shown: kind, first characters and age (the keys are kept hashed). */
  async listKeys(workspaceId: string): Promise<Array<{ kind: KeyKind; prefix: string; createdAt: number }>> {
    const rows = await this.storage.db
      .selectFrom('api_keys')
      .select(['kind', 'prefix', 'created_at'])
      .where('workspace_id', '=', workspaceId)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({ kind: r.kind, prefix: r.prefix, createdAt: Number(r.created_at) }));
  }

  async findByName(name: string): Promise<Workspace | null> {
    const row = await this.storage.db
      .selectFrom('workspaces')
      .selectAll()
      .where('name', '=', name)
      .orderBy('created_at')
      .executeTakeFirst();
    return row ? toWorkspace(row) : null;
  }

  async list(): Promise<Workspace[]> {
    const rows = await this.storage.db.selectFrom('workspaces').selectAll().orderBy('created_at').execute();
    return rows.map(toWorkspace);
  }

  async get(id: string): Promise<Workspace | null> {
    const row = await this.storage.db.selectFrom('workspaces').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toWorkspace(row) : null;
  }

  /** The workspace a CLI command acts on: the one named, or the only one there is. */
  async resolve(id: string | undefined): Promise<Workspace> {
    if (id) {
      const found = await this.get(id);
      if (!found) throw new KermaError('not_found', `no workspace with id "${id}"`);
      return found;
    }
    const all = await this.list();
    if (all.length === 1) return all[0]!;
    if (all.length === 0)
      throw new KermaError('not_found', 'no workspace yet; create one with `kerma workspace create NAME`');
    throw new KermaError(
      'invalid_input',
      `there are ${all.length} workspaces; choose one with --workspace ID (${all.map((w) => w.id).join(', ')})`,
    );
  }

  async findKey(key: string): Promise<KeyOwner | null> {
    const now = Date.now();
    const hash = hashKey(key);
    const hit = this.keyCache.get(hash);
    if (hit && hit.until > now) return this.limited(hash, hit.owner, now);
    const row = await this.storage.db
      .selectFrom('api_keys')
      .innerJoin('workspaces', 'workspaces.id', 'api_keys.workspace_id')
      .select([
        'api_keys.kind',
        'workspaces.id',
        'workspaces.name',
        'workspaces.time_zone',
        'workspaces.currency',
        'workspaces.created_at',
      ])
      .where('api_keys.key_hash', '=', hash)
      .executeTakeFirst();
    const owner: KeyOwner | null = row ? { kind: row.kind, workspace: toWorkspace({ ...row, id: row.id }) } : null;
    if (this.keyCache.size > 10_000) this.keyCache.clear();
    this.keyCache.set(hash, { owner, until: now + CACHE_MS });
    return this.limited(hash, owner, now);
  }

  /** A valid key over its rate limit is refused with 429 and when to retry; unknown keys are not counted. */
  private limited(hash: string, owner: KeyOwner | null, now: number): KeyOwner | null {
    if (!owner || !this.limiter) return owner;
    const taken = this.limiter.take(hash, now);
    if (!taken.ok)
      throw new KermaError('rate_limited', `too many requests with this key; retry in ${taken.retryAfterSeconds} s`, {
        retryAfterSeconds: taken.retryAfterSeconds,
      });
    return owner;
  }
}

function toWorkspace(row: {
  id: string;
  name: string;
  time_zone: string;
  currency: string;
  created_at: number;
}): Workspace {
  return {
    id: row.id,
    name: row.name,
    timeZone: row.time_zone,
    currency: row.currency,
    createdAt: Number(row.created_at),
  };
}
