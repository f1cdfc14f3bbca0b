import { parseModelFile } from './parse-model-file.js';
import type { ScoringModel } from './scoring-model.js';

// A stored version's text never changes, so a compiled entry never goes stale.
const compiled = new Map<string, ScoringModel>();

/**
 * The compiled model of a stored version, compiled once per process.
 * @example compileStoredModel('ws_1', 3, source)
 */
export function compileStoredModel(workspaceId: string, version: number, source: string): ScoringModel {
  const key = `${workspaceId}:${version}`;
  let model = compiled.get(key);
  if (!model) {
    const parsed = parseModelFile(source);
    // Only models that parsed are ever stored; failing here means the stored text was altered by hand.
    if (!parsed.ok) throw new Error(`stored scoring model ${key} no longer parses`);
    model = parsed.model;
    compiled.set(key, model);
  }
  return model;
}

/** Whether a version is compiled already (so its text need not be fetched). */
export function storedModelCached(workspaceId: string, version: number): ScoringModel | undefined {
  return compiled.get(`${workspaceId}:${version}`);
}
