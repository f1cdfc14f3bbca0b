import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { KermaError } from '../errors.js';
import type { Storage } from '../storage/storage.js';
import type { Workspace } from '../workspaces/workspace-service.js';
import type { IngestEvent, RejectedEvent } from './ingest-event.js';
import { normalizeSegment } from './normalize-segment.js';

export interface ImportEventsResult {
  lines: number;
  inserted: number;
  duplicates: number;
  rejected: Array<RejectedEvent & { line: number }>;
  resumedFromByte: number;
}

const CHUNK = 2_000;

/** A key for resuming one file: its path, size and modification time. */
function importKey(file: string): string {
  const s = statSync(file);
  return `events:${createHash('sha256').update(`${file}|${s.size}|${s.mtimeMs}`).digest('hex').slice(0, 32)}`;
}

/**
 * Imports an NDJSON file of Segment-format messages (one per line) through the same normaliser and storage path as
 * HTTP ingest. Resumable: the byte offset of the last committed chunk is checkpointed, and dedupe on messageId makes
 * a re-run store nothing twice. Bad lines are reported with their line number and skipped.
 */
export async function importEventsFile(
  storage: Storage,
  workspace: Workspace,
  file: string,
  options: {
    keepFullIp: boolean;
    maxEventBytes: number;
    onProgress?: (bytes: number, total: number) => void;
    restart?: boolean;
  },
): Promise<ImportEventsResult> {
  let total: number;
  try {
    total = statSync(file).size;
  } catch {
    throw new KermaError('invalid_input', `cannot read ${file}: no such file`);
  }
  const key = importKey(file);
  const checkpoint = options.restart
    ? undefined
    : await storage.db
        .selectFrom('import_checkpoints')
        .select('position')
        .where('workspace_id', '=', workspace.id)
        .where('import_key', '=', key)
        .executeTakeFirst();
  const start = checkpoint ? Number(checkpoint.position) : 0;
  const result: ImportEventsResult = { lines: 0, inserted: 0, duplicates: 0, rejected: [], resumedFromByte: start };
  let pending: IngestEvent[] = [];
  let position = start;
  let lineNumber = 0;
  let committedPosition = start;

  const flush = async () => {
    if (pending.length > 0) {
      const [outcome] = await storage.ingest([
        { workspaceId: workspace.id, timeZone: workspace.timeZone, events: pending },
      ]);
      result.inserted += outcome!.inserted;
      result.duplicates += outcome!.duplicates;
      pending = [];
    }
    committedPosition = position;
    await storage.db
      .insertInto('import_checkpoints')
      .values({ workspace_id: workspace.id, import_key: key, position: committedPosition, updated_at: Date.now() })
      .onConflict((oc) =>
        oc.columns(['workspace_id', 'import_key']).doUpdateSet({ position: committedPosition, updated_at: Date.now() }),
      )
      .execute();
    options.onProgress?.(committedPosition, total);
  };

  // Line numbers stay right after a resume because lines before the checkpoint are counted, not parsed.
  if (start > 0) {
    const head = createReadStream(file, { start: 0, end: start - 1 });
    for await (const chunk of head) for (const byte of chunk as Buffer) if (byte === 10) lineNumber++;
  }
  let rest = '';
  const stream = createReadStream(file, { start, encoding: 'utf8' });
  const handleLine = (line: string) => {
    lineNumber++;
    position += Buffer.byteLength(line) + 1;
    if (line.trim() === '') return;
    result.lines++;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch (error) {
      result.rejected.push({
        index: result.lines - 1,
        line: lineNumber,
        reason: `not valid JSON: ${(error as Error).message}`,
      });
      return;
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      result.rejected.push({
        index: result.lines - 1,
        line: lineNumber,
        reason: 'line must be a JSON object (a Segment message)',
      });
      return;
    }
    const normalized = normalizeSegment({ batch: [message] }, 'batch', {
      receivedAt: Date.now(),
      ip: null,
      browserUserAgent: null,
      keepFullIp: options.keepFullIp,
      maxEventBytes: options.maxEventBytes,
    });
    for (const r of normalized.rejected) result.rejected.push({ ...r, index: result.lines - 1, line: lineNumber });
    pending.push(...normalized.events);
  };
  for await (const chunk of stream) {
    const text = rest + (chunk as string);
    const lines = text.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      handleLine(line);
      if (pending.length >= CHUNK) await flush();
    }
  }
  if (rest !== '') {
    handleLine(rest);
    position = total;
  }
  await flush();
  return result;
}
