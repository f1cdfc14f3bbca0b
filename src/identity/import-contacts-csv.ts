import { createHash } from 'node:crypto';
import { readCsv, withSkipped } from '../csv/read-csv.js';
import { KermaError } from '../errors.js';
import type { IngestEvent } from '../ingest/ingest-event.js';
import { normalizeSegment } from '../ingest/normalize-segment.js';
import type { Storage } from '../storage/storage.js';
import type { Workspace } from '../workspaces/workspace-service.js';

export interface ContactColumnMapping {
  /** Column holding the email address. */
  email?: string | undefined;
  /** Column holding the external / CRM id (becomes the contact's userId). */
  id?: string | undefined;
  /** Column holding when the contact was created (ISO date or date-time). */
  createdAt?: string | undefined;
  /** trait name → column. */
  traits: Record<string, string>;
  /** Columns saying where the contact came from (a CRM's lead source): its first touch. */
  touch?: {
    source?: string | undefined;
    medium?: string | undefined;
    campaign?: string | undefined;
    channel?: string | undefined;
  };
  /** Import only mapped columns; otherwise every other column becomes a trait named in snake_case. */
  onlyMapped: boolean;
}

export interface ImportContactsResult {
  rows: number;
  inserted: number;
  duplicates: number;
  rejected: Array<{ line: number; reason: string }>;
}

export function snakeCase(header: string): string {
  return header
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .toLowerCase();
}

/** CSV text to a trait value: numbers become numbers, blanks are left out. */
function traitValue(raw: string): string | number | null {
  const value = raw.trim();
  if (value === '') return null;
  if (/^-?\d+(\.\d+)?$/.test(value)) {
    const n = Number(value);
    if (Number.isFinite(n)) return n;
  }
  return value;
}

const CHUNK = 2_000;

/**
 * Imports contacts from a CSV (comma or semicolon) as identify messages through the ingest path, so identity rules,
 * dedupe and rollups are the same as for live data. Each row's messageId is a hash of its content: a re-run or a
 * resumed run stores nothing twice.
 */
export async function importContactsCsv(
  storage: Storage,
  workspace: Workspace,
  file: string,
  mapping: ContactColumnMapping,
  options: { onProgress?: (bytes: number, total: number) => void } = {},
): Promise<ImportContactsResult> {
  if (!mapping.email && !mapping.id)
    throw new KermaError('invalid_input', 'map an --email column, an --id column, or both');
  const touchColumns = mapping.touch ?? {};
  const wanted = [
    mapping.email,
    mapping.id,
    mapping.createdAt,
    ...Object.values(mapping.traits),
    ...Object.values(touchColumns),
  ].filter((c): c is string => !!c);
  const csv = readCsv(file, wanted);
  const total = csv.total;
  const result: ImportContactsResult = { rows: 0, inserted: 0, duplicates: 0, rejected: [] };
  let pending: IngestEvent[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const [outcome] = await storage.ingest([
      { workspaceId: workspace.id, timeZone: workspace.timeZone, events: pending },
    ]);
    result.inserted += outcome!.inserted;
    result.duplicates += outcome!.duplicates;
    pending = [];
  };
  const receivedAt = Date.now();
  for await (const { record, line, bytes } of csv.rows) {
    result.rows++;
    const traits: Record<string, unknown> = {};
    const special = new Set([mapping.id, mapping.createdAt].filter(Boolean));
    if (!mapping.onlyMapped) {
      for (const [column, raw] of Object.entries(record)) {
        if (special.has(column)) continue;
        const value = traitValue(raw ?? '');
        if (value !== null) traits[column === mapping.email ? 'email' : snakeCase(column)] = value;
      }
    }
    for (const [name, column] of Object.entries(mapping.traits)) {
      const value = traitValue(record[column] ?? '');
      if (value !== null) traits[name] = value;
    }
    const email = mapping.email ? (record[mapping.email] ?? '').trim() : '';
    if (email) traits['email'] = email;
    const userId = mapping.id ? (record[mapping.id] ?? '').trim() : '';
    if (!email && !userId) {
      result.rejected.push({
        line: line,
        reason: `no ${[mapping.email, mapping.id].filter(Boolean).join(' or ')} value`,
      });
      continue;
    }
    const createdRaw = mapping.createdAt ? (record[mapping.createdAt] ?? '').trim() : '';
    const created = createdRaw
      ? Date.parse(
          createdRaw.includes('T') || createdRaw.length <= 10 ? createdRaw : createdRaw.replace(' ', 'T') + 'Z',
        )
      : receivedAt;
    if (!Number.isFinite(created)) {
      result.rejected.push({
        line: line,
        reason: `"${createdRaw}" in column "${mapping.createdAt}" is not a date`,
      });
      continue;
    }
    const cell = (column: string | undefined) => (column ? (record[column] ?? '').trim() || undefined : undefined);
    const touch = {
      source: cell(touchColumns.source),
      medium: cell(touchColumns.medium),
      name: cell(touchColumns.campaign),
      channel: cell(touchColumns.channel),
    };
    const campaign = Object.values(touch).some(Boolean) ? touch : null;
    const message = {
      type: 'identify',
      messageId: `csv-${createHash('sha256').update(JSON.stringify(record)).digest('base64url')}`,
      ...(userId ? { userId } : {}),
      traits,
      timestamp: new Date(created).toISOString(),
      context: { library: { name: 'kerma-csv-import' }, ...(campaign ? { campaign } : {}) },
    };
    const normalized = normalizeSegment(message, 'identify', {
      receivedAt,
      ip: null,
      browserUserAgent: null,
      keepFullIp: false,
      maxEventBytes: 32 * 1024,
    });
    for (const r of normalized.rejected) result.rejected.push({ line: line, reason: r.reason });
    pending.push(...normalized.events);
    if (pending.length >= CHUNK) {
      await flush();
      options.onProgress?.(bytes, total);
    }
  }
  await flush();
  options.onProgress?.(total, total);
  result.rejected = withSkipped(result.rejected, csv.skipped);
  return result;
}
