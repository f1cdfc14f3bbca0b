import safeRegex from 'safe-regex2';

export type CompiledPattern = { ok: true; regex: RegExp } | { ok: false; reason: string };

/**
 * Compiles a model file's regular expression. A leading `(?i)` (the form marketers copy from other tools) becomes the
 * `i` flag. Patterns that could backtrack catastrophically (nested or starred repetition, as judged by safe-regex2)
 * are refused: a model runs on every ingested event and must not stall the server on a crafted URL.
 * @example compilePattern('(?i)\\b(ceo|cto)\\b') // { ok: true, regex: /\b(ceo|cto)\b/i }
 */
export function compilePattern(source: string): CompiledPattern {
  const insensitive = source.startsWith('(?i)');
  const body = insensitive ? source.slice(4) : source;
  let regex: RegExp;
  try {
    regex = new RegExp(body, insensitive ? 'iu' : 'u');
  } catch (error) {
    return { ok: false, reason: `regular expression does not compile: ${(error as Error).message}` };
  }
  if (!safeRegex(regex)) {
    return {
      ok: false,
      reason: `regular expression ${JSON.stringify(source)} could backtrack catastrophically (nested repetition); rewrite it without a repeated group inside a repetition`,
    };
  }
  return { ok: true, regex };
}
