import { readFileSync } from 'node:fs';
import { KermaError } from '../errors.js';
import { formatModelError } from '../scoring/model-error.js';
import { parseModelFile } from '../scoring/parse-model-file.js';
import type { ScoringModel } from '../scoring/scoring-model.js';

/**
 * Reads and compiles a model file; a missing file or any error in it is an `invalid_input` KermaError that lists
 * every problem with its path and line.
 */
export function readModelFile(file: string): { model: ScoringModel; text: string } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new KermaError(
      'invalid_input',
      `cannot read model file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
  const parsed = parseModelFile(text);
  if (!parsed.ok) {
    const lines = parsed.errors.map((e) => `  ${formatModelError(e)}`);
    throw new KermaError(
      'invalid_input',
      `${file}: ${parsed.errors.length} error(s), nothing was changed\n${lines.join('\n')}`,
    );
  }
  return { model: parsed.model, text };
}
