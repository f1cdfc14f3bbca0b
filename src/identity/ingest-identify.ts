import { normalizeSegment } from '../ingest/normalize-segment.js';
import type { Storage } from '../storage/storage.js';
import type { Workspace } from '../workspaces/workspace-service.js';

export interface SystemIdentify {
  /** Stable id: sending the same identify twice stores it once. */
  messageId: string;
  userId?: string | null;
  anonymousId?: string | null;
  traits: Record<string, unknown>;
  at: number;
  /** Which part of Kerma sent it, kept as the event's library. */
  library: string;
}

/**
 * Sends identifies that Kerma itself makes (CRM updates creating contacts, a sales rejection setting a trait) through
 * the ingest path in one commit, so identity rules, dedupe, rollups and live scoring are those of client data.
 */
export async function ingestIdentify(
  storage: Storage,
  workspace: Workspace,
  ...messages: SystemIdentify[]
): Promise<void> {
  const receivedAt = Date.now();
  const normalized = normalizeSegment(
    {
      batch: messages.map((message) => ({
        type: 'identify',
        messageId: message.messageId,
        ...(message.userId ? { userId: message.userId } : {}),
        ...(message.anonymousId ? { anonymousId: message.anonymousId } : {}),
        traits: message.traits,
        timestamp: new Date(message.at).toISOString(),
        context: { library: { name: message.library } },
      })),
    },
    'batch',
    { receivedAt, ip: null, browserUserAgent: null, keepFullIp: false, maxEventBytes: 32 * 1024 },
  );
  if (normalized.rejected.length > 0) throw new Error(`system identify rejected: ${normalized.rejected[0]!.reason}`);
  await storage.ingest([{ workspaceId: workspace.id, timeZone: workspace.timeZone, events: normalized.events }]);
}
