/** A page of contacts by id: after `after` (exclusive) through `through` (inclusive). */
export interface PageRange {
  after: string;
  through: string;
}

/** The page read of `loadContactRows` for any id range, as SQL text and its parameters, the range's to fill in. */
export interface PageQuery {
  sql: string;
  parameters: readonly unknown[];
  /** Where the range's bounds go in `parameters`. */
  afterAt: number;
  throughAt: number;
}

/** The parameters of a compiled page read for one range. */
export function pageParameters(query: PageQuery, range: PageRange): unknown[] {
  const parameters = [...query.parameters];
  parameters[query.afterAt] = range.after;
  parameters[query.throughAt] = range.through;
  return parameters;
}
