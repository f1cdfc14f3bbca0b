import { normalizeSegment } from '../ingest/normalize-segment.js';
import type { Storage } from '../storage/storage.js';
import type { Workspace } from '../workspaces/workspace-service.js';
import { generateDemoEvents } from './generate-demo-events.js';

export interface DemoResult {
  messages: number;
  inserted: number;
  duplicates: number;
}

/** Generates the demo site's traffic and stores it through the ingest path, in chunks, reporting progress. */
export async function runDemo(
  storage: Storage,
  workspace: Workspace,
  options: { days: number; visitorsPerDay: number; now?: number; onProgress?: (done: number, total: number) => void },
): Promise<DemoResult> {
  const messages = generateDemoEvents({
    days: options.days,
    visitorsPerDay: options.visitorsPerDay,
    now: options.now ?? Date.now(),
  });
  const result: DemoResult = { messages: messages.length, inserted: 0, duplicates: 0 };
  const chunk = 2_000;
  for (let i = 0; i < messages.length; i += chunk) {
    const slice = messages.slice(i, i + chunk);
    const { events } = normalizeSegment({ batch: slice }, 'batch', {
      receivedAt: Date.now(),
      ip: null,
      browserUserAgent: null,
      keepFullIp: false,
      maxEventBytes: 32 * 1024,
    });
    const [outcome] = await storage.ingest([{ workspaceId: workspace.id, timeZone: workspace.timeZone, events }]);
    result.inserted += outcome!.inserted;
    result.duplicates += outcome!.duplicates;
    options.onProgress?.(Math.min(i + chunk, messages.length), messages.length);
  }
  return result;
}
