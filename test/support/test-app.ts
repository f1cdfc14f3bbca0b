import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { Config } from '../../src/config.js';
import { type KermaRuntime, openRuntime } from '../../src/kerma-runtime.js';
import { createApp } from '../../src/server/create-app.js';
import { createTestDatabase } from './test-storage.js';

export interface TestApp {
  runtime: KermaRuntime;
  app: FastifyInstance;
  workspaceId: string;
  writeKey: string;
  secretKey: string;
  /** GET a read-API path with the secret key and return the JSON. */
  read<T = unknown>(path: string): Promise<T>;
  close(): Promise<void>;
}

/** A Kerma app on a fresh test database with one workspace. */
export async function createTestApp(overrides: Partial<Config> = {}): Promise<TestApp> {
  const database = await createTestDatabase(overrides);
  const runtime = await openRuntime(database.config, pino({ level: 'silent' }));
  const app = createApp(runtime);
  const ws = await runtime.workspaces.create('Test', { timeZone: 'UTC' });
  return {
    runtime,
    app,
    workspaceId: ws.id,
    writeKey: ws.writeKey,
    secretKey: ws.secretKey,
    async read<T>(path: string) {
      const response = await app.inject({
        method: 'GET',
        url: path,
        headers: { authorization: `Bearer ${ws.secretKey}` },
      });
      if (response.statusCode !== 200) throw new Error(`GET ${path} → ${response.statusCode}: ${response.body}`);
      return response.json() as T;
    },
    async close() {
      await app.close();
      await runtime.close();
      await database.cleanup();
    },
  };
}
