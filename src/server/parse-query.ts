import { z } from 'zod';
import { KermaError } from '../errors.js';

/** Validates query/params with zod; a 400 names each bad field and what is accepted. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, where: string): z.infer<T> {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || where}: ${i.message}`);
  throw new KermaError('invalid_input', `invalid ${where}: ${issues.join('; ')}`, { issues: parsed.error.issues });
}

/** A day parameter, YYYY-MM-DD (reports check that it is a calendar day). */
export const dayParam = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD');
