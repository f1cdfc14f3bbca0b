import type { z } from 'zod';
import { KermaError } from '../errors.js';

/** Validates query/params with zod; a 400 names each bad field and what is accepted. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown, where: string): z.infer<T> {
  const parsed = schema.safeParse(input ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || where}: ${i.message}`);
  throw new KermaError('invalid_input', `invalid ${where}: ${issues.join('; ')}`, { issues: parsed.error.issues });
}
