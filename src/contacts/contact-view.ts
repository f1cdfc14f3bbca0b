import type { Touch } from '../attribution/touch.js';
import type { ScoredContactRow } from '../storage/database-schema.js';
import { parseJson } from '../storage/ingest-rows.js';
import type { ContactView } from './contact-wire.js';

/** A stored contact row as the contract's Contact. */
export function contactView(row: ScoredContactRow): ContactView {
  return {
    id: row.id,
    email: row.email,
    userId: row.user_id,
    traits: JSON.parse(row.traits) as Record<string, unknown>,
    stage: row.stage,
    owner: row.owner,
    score: row.score,
    fit: row.fit,
    engagement: row.engagement,
    grade: row.grade,
    probability: row.probability,
    firstTouch: parseJson<Touch>(row.first_touch),
    lastTouch: parseJson<Touch>(row.last_touch),
    createdAt: new Date(Number(row.created_at)).toISOString(),
    lastSeenAt: new Date(Number(row.last_seen_at)).toISOString(),
  };
}
