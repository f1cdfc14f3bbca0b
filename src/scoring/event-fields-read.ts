import type { ScoringModel } from './scoring-model.js';

/** Which of an event's costly fields a model's rules look at; a loader may leave the others out. */
export interface EventFieldsRead {
  url: boolean;
  properties: boolean;
}

/**
 * The event fields beyond type, name, path and time that `matchEvent` reads for this model's engagement rules.
 * @example eventFieldsRead(model) // { url: false, properties: true } when a rule tests `properties: { cta: demo }`
 */
export function eventFieldsRead(model: ScoringModel): EventFieldsRead {
  return {
    url: model.engagement.some((rule) => rule.when.url !== null),
    properties: model.engagement.some((rule) => rule.when.properties.length > 0),
  };
}
