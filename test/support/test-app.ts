import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import type { Config } from '../../src/config.js';
import { type KermaRuntime, openRuntime } from '../../src/kerma-runtime.js';
import { type ApplyModelResult, applyModel } from '../../src/models/apply-model.js';
import { parseModelFile } from '../../src/scoring/parse-model-file.js';
import { createApp } from '../../src/server/create-app.js';
import { createTestDatabase } from './test-storage.js';

export interface TestApp {
  runtime: KermaRuntime;
  app: FastifyInstance;
  workspaceId: string;
  writeKey: string;
  secretKey: string;
  /** POST a Segment batch with the write key, as a client would. */
  sendBatch(batch: object[]): Promise<LightMyRequestResponse>;
  /** Call the API with the secret key; a body goes as JSON. */
  api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown): Promise<LightMyRequestResponse>;
  /** Parse a model file and apply it (`kerma model apply`), failing the test on a model error. */
  applyModel(text: string): Promise<ApplyModelResult>;
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
    sendBatch: (batch) =>
      app.inject({
        method: 'POST',
        url: '/v1/batch',
        headers: { authorization: `Basic ${Buffer.from(`${ws.writeKey}:`).toString('base64')}` },
        payload: JSON.stringify({ batch }),
      }),
    api: (method, url, body) =>
      app.inject({
        method,
        url,
        headers: { authorization: `Bearer ${ws.secretKey}` },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      }),
    async applyModel(text) {
      const parsed = parseModelFile(text);
      if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
      return applyModel(runtime.storage.db, { workspaceId: ws.id, timeZone: 'UTC', model: parsed.model, source: text });
    },
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
