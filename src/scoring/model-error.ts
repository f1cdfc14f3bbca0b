/** One thing wrong in a model file: where (path into the YAML, and its line once known) and what is accepted. */
export interface ModelError {
  path: Array<string | number>;
  message: string;
  expected?: string;
  line?: number;
}

/** `engagement[2].when.path` */
export function formatPath(path: Array<string | number>): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out || '(top level)';
}

/**
 * `engagement[2].when.path: unknown operator "prefx" (line 31); expected one of prefix, equals, matches`
 */
export function formatModelError(error: ModelError): string {
  const line = error.line === undefined ? '' : ` (line ${error.line})`;
  const expected = error.expected ? `; ${error.expected}` : '';
  return `${formatPath(error.path)}: ${error.message}${line}${expected}`;
}
