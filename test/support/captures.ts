import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { packageRoot } from '../../src/package-root.js';

export const SHARED = join(packageRoot(import.meta.dirname), '..', 'shared');
export const CAPTURES = join(SHARED, 'fixtures', 'client-captures');
export const DATA = join(SHARED, 'data');

/** Fails with a clear message when the shared folder is not beside the project. */
export function requireShared(path: string): string {
  if (!existsSync(path))
    throw new Error(`${path} is missing: clone the project with its shared/ folder beside it (../shared)`);
  return path;
}

export interface CapturedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

const CAPTURED_KEYS = ['WK_test_123', 'RS_WK_123', 'RS_WEB_WK', 'WK_browser_123', 'phc_test_key_123'];

/** The POST requests of a capture file, as the real client sent them, with its key swapped for `writeKey`. */
export function capturedRequests(
  file: string,
  writeKey: string,
): Array<{ method: 'POST'; url: string; headers: Record<string, string>; payload: Buffer }> {
  const json = JSON.parse(readFileSync(requireShared(join(CAPTURES, file)), 'utf8'));
  const groups = [json, json.node, json.browser, json.browser?.standard, json.browser?.batching].filter(Boolean);
  const requests: CapturedRequest[] = groups.flatMap((g: { requests?: CapturedRequest[] }) => g.requests ?? []);
  const swap = (text: string) => CAPTURED_KEYS.reduce((t, k) => t.split(k).join(writeKey), text);
  return requests
    .filter((r) => r.method === 'POST')
    .map((r) => {
      const text = swap(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
      const headers: Record<string, string> = {};
      for (const name of ['content-type', 'content-encoding', 'origin', 'user-agent', 'anonymousid', 'sentat']) {
        if (r.headers[name]) headers[name] = r.headers[name]!;
      }
      if (r.headers['authorization'])
        headers['authorization'] = `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`;
      const payload = r.headers['content-encoding'] === 'gzip' ? gzipSync(text) : Buffer.from(text);
      return { method: 'POST' as const, url: swap(r.url), headers, payload };
    });
}

export function countCapturedEvents(file: string): number {
  const json = JSON.parse(readFileSync(join(CAPTURES, file), 'utf8'));
  const groups = [json, json.node, json.browser, json.browser?.standard, json.browser?.batching].filter(Boolean);
  const requests: CapturedRequest[] = groups.flatMap((g: { requests?: CapturedRequest[] }) => g.requests ?? []);
  return requests
    .filter((r) => r.method === 'POST')
    .reduce(
      (n, r) =>
        n +
        (Array.isArray((r.body as { batch?: unknown[] }).batch) ? (r.body as { batch: unknown[] }).batch.length : 1),
      0,
    );
}
