import { parseModelFile } from './parse-model-file.js';
import type { ScoringModel } from './scoring-model.js';

// A stored version's text never changes, so a compiled entry never goes stale.
const compiled = new Map<string, ScoringModel>();

/**
 * The compiled model of a stored version, compiled once per process; null when its text no longer parses (only
 * models that parsed are ever stored, so the text was altered by hand). For readers that can do without it.
 * @example parseStoredModel('ws_1', 3, source) ?? fallback
 */
export function parseStoredModel(workspaceId: string, version: number, source: string): ScoringModel | null {
  const key = `${workspaceId}:${version}`;
  let model = compiled.get(key);
  if (!model) {
    const parsed = parseModelFile(source);
    if (!parsed.ok) return null;
    model = parsed.model;
    compiled.set(key, model);
  }
  return model;
}

/**
 * The compiled model of a stored version, compiled once per process; a text that no longer parses is a fault.
 * @example compileStoredModel('ws_1', 3, source)
 */
export function compileStoredModel(workspaceId: string, version: number, source: string): ScoringModel {
  const model = parseStoredModel(workspaceId, version, source);
  if (!model) throw new Error(`stored scoring model ${workspaceId}:${version} no longer parses`);
  return model;
}

/** Whether a version is compiled already (so its text need not be fetched). */
export function storedModelCached(workspaceId: string, version: number): ScoringModel | undefined {
  return compiled.get(`${workspaceId}:${version}`);
}
