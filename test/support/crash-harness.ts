import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from '../../src/package-root.js';

const execFileAsync = promisify(execFile);

export const BIN = join(packageRoot(import.meta.dirname), 'bin', 'kerma.js');

export interface RunningServer {
  child: ChildProcess;
  url: string;
  /** Everything the server wrote to stderr so far, for a failing test to show. */
  stderr(): string;
  /** Everything it wrote to stdout so far. */
  stdout(): string;
}

/** Starts the built `kerma serve` on a free port and resolves with its URL. */
export function startServer(dbArgs: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...dbArgs], {
      env: { ...process.env, KERMA_LOG_LEVEL: 'error', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const match = out.match(/listening on (http:\/\/\S+)/);
      if (match) resolve({ child, url: match[1]!, stderr: () => err, stdout: () => out });
    });
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.once('exit', (code) => reject(new Error(`kerma serve exited (${code}) before listening: ${err}`)));
  });
}

/** Asynchronous on purpose: a test may run a proxy in this process that the CLI has to reach. */
export async function createWorkspace(dbArgs: string[]): Promise<{ id: string; writeKey: string; secretKey: string }> {
  const { stdout } = await execFileAsync(process.execPath, [BIN, 'workspace', 'create', 'Crash', '--json', ...dbArgs], {
    encoding: 'utf8',
  });
  return JSON.parse(stdout);
}

export interface LoadResult {
  acked: Set<string>;
  sent: number;
  failed: number;
}

/**
 * Sends batches of page/track events from `clients` concurrent senders until `signal` aborts; records every messageId
 * whose request was answered 200. Any error (connection reset by a kill, 503) counts as not acknowledged.
 */
export async function driveLoad(
  url: () => string,
  writeKey: string,
  prefix: string,
  clients: number,
  signal: AbortSignal,
): Promise<LoadResult> {
  const result: LoadResult = { acked: new Set(), sent: 0, failed: 0 };
  let n = 0;
  const sender = async (c: number) => {
    while (!signal.aborted) {
      const ids: string[] = [];
      const batch = Array.from({ length: 50 }, (_, i) => {
        const messageId = `${prefix}-${c}-${n++}`;
        ids.push(messageId);
        return i % 5 === 0
          ? { type: 'track', event: 'Clicked', anonymousId: `${prefix}-v${(n + c) % 300}`, messageId }
          : {
              type: 'page',
              anonymousId: `${prefix}-v${(n + c) % 300}`,
              messageId,
              properties: { url: `https://example.com/p${n % 7}?utm_source=google&utm_medium=cpc` },
            };
      });
      result.sent += ids.length;
      try {
        const response = await fetch(`${url()}/v1/batch`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            authorization: `Basic ${Buffer.from(`${writeKey}:`).toString('base64')}`,
          },
          body: JSON.stringify({ batch }),
          signal: AbortSignal.timeout(5000),
        });
        if (response.status === 200) for (const id of ids) result.acked.add(id);
        else result.failed += ids.length;
        await response.arrayBuffer();
      } catch {
        result.failed += ids.length;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => sender(c)));
  return result;
}
