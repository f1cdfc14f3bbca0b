import type { Config } from '../config.js';
import { openPostgresStorage } from './postgres/open-postgres-storage.js';
import { openSqliteStorage } from './sqlite/open-sqlite-storage.js';
import type { Storage } from './storage.js';

/** Opens the configured storage and brings its schema up to date. */
export function openStorage(config: Pick<Config, 'storage' | 'sessionTimeoutMs' | 'channelRules'>): Promise<Storage> {
  const options = { sessionTimeoutMs: config.sessionTimeoutMs, channelRules: config.channelRules };
  return config.storage.kind === 'postgres'
    ? openPostgresStorage(config.storage.url, options)
    : openSqliteStorage(config.storage.file, options);
}
