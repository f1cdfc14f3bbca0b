import { z } from 'zod';

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]*$/i, 'rule ids are letters, digits, "-" and "_", starting with a letter or digit');
const points = z.number().finite();
const halfLife = z.number().positive().max(3650);

export const fitRuleSchema = z.strictObject({
  id,
  group: z.string().min(1).optional(),
  when: z.unknown(),
  points,
});

export const engagementRuleSchema = z.strictObject({
  id,
  group: z.string().min(1).optional(),
  when: z.unknown(),
  points,
  half_life_days: halfLife.nullable().optional(),
  limit: z
    .strictObject({
      per: z.enum(['ever', 'day', 'week']),
      times: z.number().int().positive().default(1),
    })
    .optional(),
});

const cap = z.union([z.number(), z.strictObject({ max: z.number().optional(), min: z.number().optional() })]);

/**
 * The model file's outer shape. Conditions (`when`) are checked by compileCondition, which knows their operators and
 * can say which one was expected.
 */
export const modelFileSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().optional(),
  half_life_days: halfLife.nullable().default(30),
  fit: z.array(fitRuleSchema).default([]),
  engagement: z.array(engagementRuleSchema).default([]),
  caps: z.record(z.string(), cap).default({}),
  thresholds: z.strictObject({
    mql: z.number(),
    nurture: z.number().optional(),
    unqualified: z.number().optional(),
  }),
  grades: z
    .strictObject({
      A: z.number(),
      B: z.number(),
      C: z.number(),
      engagement: z.strictObject({ 1: z.number(), 2: z.number(), 3: z.number() }).optional(),
    })
    .optional(),
  categories: z
    .array(
      z.strictObject({
        id,
        category: z.enum(['existing_customer', 'competitor', 'partner', 'non_potential']),
        when: z.unknown(),
      }),
    )
    .default([]),
  triggers: z
    .array(
      z.strictObject({
        id,
        when: z.unknown(),
        // biome-ignore lint/suspicious/noThenProperty: the model file's key, as in the design sketch; compiled to `actions`
        then: z.array(z.unknown()).min(1),
      }),
    )
    .default([]),
  account: z
    .strictObject({
      key: z.enum(['company', 'email_domain']).default('email_domain'),
      company_trait: z.string().default('company'),
      aggregate: z.enum(['sum', 'max', 'top3']).default('top3'),
    })
    .optional(),
});

export type ModelFile = z.infer<typeof modelFileSchema>;
