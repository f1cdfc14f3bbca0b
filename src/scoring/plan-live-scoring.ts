import type { ContactHistory } from './replay-contact.js';
import { replayContact } from './replay-contact.js';
import { scoreAt } from './score-at.js';
import {
  applyEvent,
  applyTraits,
  emptyOutput,
  type ScoringClock,
  type ScoringOutput,
  type TriggerFiring,
} from './score-contact.js';
import { emptyScoreState, type ScoreState } from './score-state.js';
import { eventOrder, type ScoreChange, type ScoringEvent } from './scoring-event.js';
import type { ScoringModel } from './scoring-model.js';

/** A contact touched by an ingest batch, with what scoring needs of it. */
export interface TouchedContact {
  contactId: string;
  /** Its running score under the active version, or null if it has none yet. */
  prior: { state: ScoreState; nextSeq: number } | null;
  stage: string;
  /** Current traits and when they were last set (the contact's traits may have changed in this batch). */
  traits: Record<string, unknown>;
  traitsAt: number;
  /** Events of this batch that were stored for it (not duplicates, not bots). */
  events: ScoringEvent[];
  /** Anonymous history was attached to it in this batch. */
  linked: boolean;
}

export interface ContactScoreUpdate {
  contactId: string;
  state: ScoreState;
  nextSeq: number;
  total: number;
  fit: number;
  engagement: number;
  grade: string;
  status: string;
  /** The contact's score_changes are rewritten from seq 0 (a replay) rather than appended. */
  replaced: boolean;
  changes: Array<ScoreChange & { seq: number }>;
  firings: TriggerFiring[];
  /** Set when the score moved the contact to stage MQL. */
  promotedAt: number | null;
}

/**
 * Whether a touched contact must be replayed from its full stored history rather than updated in place: it has no
 * running score yet, anonymous history was just attached, or an event arrived out of time order.
 */
export function needsHistory(contact: TouchedContact, newContact: boolean): boolean {
  if (contact.linked) return true;
  if (!contact.prior) return !newContact;
  return contact.events.some((e) => e.at < contact.prior!.state.lastEventAt);
}

/** A replay re-finds crossings already acted on; only what is new against the prior state fires, at most once each. */
function newFirings(
  model: ScoringModel,
  prior: ScoreState | null,
  replayed: ScoringOutput,
  now: number,
): TriggerFiring[] {
  const out: TriggerFiring[] = [];
  const seen = new Set<string>();
  for (const firing of replayed.firings) {
    if (seen.has(firing.triggerId)) continue;
    const trigger = model.triggers.find((t) => t.id === firing.triggerId)!;
    let fresh: boolean;
    switch (trigger.when.kind) {
      case 'crossesAbove':
        fresh = prior?.armed[trigger.id] ?? true;
        break;
      case 'crossesBelow':
        fresh = prior?.armed[trigger.id] ?? false;
        break;
      case 'entersGrade':
        fresh = prior?.grade !== trigger.when.grade;
        break;
      case 'reachesStatus':
        fresh = prior?.status !== trigger.when.status;
        break;
      case 'reachesStage':
      case 'salesRejects':
        fresh = false;
        break;
    }
    if (fresh) {
      seen.add(firing.triggerId);
      out.push({ ...firing, at: Math.max(firing.at, now) });
    }
  }
  return out;
}

/**
 * Live scoring for one batch: each touched contact's new running score, the changes that explain it, triggers that
 * fired and MQL promotions. The same steps as rescore and backtest (applyTraits, applyEvent, replayContact).
 * `histories` holds the full stored history of every contact `needsHistory` asked for.
 */
export function planLiveScoring(
  model: ScoringModel,
  contacts: TouchedContact[],
  histories: Map<string, ContactHistory>,
  clock: ScoringClock,
  preMqlStages: readonly string[],
  now: number,
): ContactScoreUpdate[] {
  return contacts.map((contact) => {
    const history = histories.get(contact.contactId);
    let state: ScoreState;
    let output: ScoringOutput;
    let firings: TriggerFiring[];
    let seq0: number;
    if (history) {
      ({ state, output } = replayContact(model, history, clock));
      firings = newFirings(model, contact.prior?.state ?? null, output, now);
      seq0 = 0;
    } else {
      const isNew = contact.prior === null;
      state = contact.prior ? (structuredClone(contact.prior.state) as ScoreState) : emptyScoreState();
      output = emptyOutput();
      applyTraits(
        model,
        state,
        contact.traits,
        isNew ? Math.min(contact.traitsAt, ...contact.events.map((e) => e.at)) : contact.traitsAt,
        output,
      );
      const ordered = [...contact.events].sort(eventOrder);
      for (const event of ordered) applyEvent(model, state, event, clock, output);
      firings = output.firings;
      seq0 = contact.prior?.nextSeq ?? 0;
    }
    const readAt = Math.max(now, state.lastEventAt);
    const reading = scoreAt(model, state, readAt);
    const reachedMql = history ? reading.status === 'mql' : output.statusChanges.some((s) => s.to === 'mql');
    const promoted = reachedMql && preMqlStages.includes(contact.stage);
    const mqlAt = output.statusChanges.find((s) => s.to === 'mql')?.at ?? now;
    return {
      contactId: contact.contactId,
      state,
      nextSeq: seq0 + output.changes.length,
      total: reading.total,
      fit: reading.fit,
      engagement: reading.engagement,
      grade: reading.grade,
      status: reading.status,
      replaced: history !== undefined,
      changes: output.changes.map((c, i) => ({ ...c, seq: seq0 + i })),
      firings,
      promotedAt: promoted ? Math.min(mqlAt, now) : null,
    };
  });
}
