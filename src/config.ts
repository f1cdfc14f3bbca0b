import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { KermaError } from './errors.js';
import { DEFAULT_STAGE_NAMES, STAGES, type Stage } from './lifecycle/stages.js';

const channelRuleSchema = z.object({
  channel: z.string().min(1),
  source: z.string().optional(),
  medium: z.string().optional(),
  campaign: z.string().optional(),
});

const fileSchema = z
  .object({
    port: z.number().int().min(0).max(65535).optional(),
    host: z.string().optional(),
    db: z.string().optional(),
    databaseUrl: z.string().optional(),
    /** Keep full client IPs instead of truncating them (last IPv4 octet / last 80 IPv6 bits zeroed). */
    keepFullIp: z.boolean().optional(),
    /** Rules tried before GA4's default channel grouping; regexes are case-insensitive. */
    channels: z.array(channelRuleSchema).optional(),
    sessionTimeoutMinutes: z.number().positive().optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
    /** Milliseconds a commit waits to gather more events (group commit). */
    commitDelayMs: z.number().min(0).max(1000).optional(),
    decayIntervalMinutes: z.number().min(0).optional(),
    /** Raw events older than this many days are deleted (rollups stay); unset: kept for ever. */
    retentionDays: z.number().int().positive().optional(),
    /** Requests a minute one API key may make before 429 (ingest and read alike). */
    rateLimitPerMinute: z.number().int().positive().optional(),
    /** Seconds between passes that score contacts whose features changed with the active predictive model. */
    predictionIntervalSeconds: z.number().min(0).optional(),
    /** production: webhook URLs must be https. */
    environment: z.enum(['development', 'production']).optional(),
    /** SMTP server for trigger emails, e.g. smtp://user:pass@mail.example.com:587 */
    smtpUrl: z.string().optional(),
    emailFrom: z.string().optional(),
    /** Marketing email goes out only inside this window of the contact's local time, e.g. "09:00-17:00". */
    emailSendWindow: z.string().optional(),
    deliveryIntervalMs: z.number().int().min(0).optional(),
    /** Exchange rates for reports: units of each currency per one unit of `base`, e.g. { base: EUR, rates: { USD: 1.08 } }. */
    exchangeRates: z
      .object({
        base: z.string().regex(/^[A-Z]{3}$/),
        rates: z.record(z.string().regex(/^[A-Z]{3}$/), z.number().positive()),
      })
      .strict()
      .optional(),
    /** Pages whose visit makes a session "qualified" (path prefixes), for qualified-visit abandonment. */
    qualifyingPages: z.array(z.string().startsWith('/')).min(1).optional(),
    /** Track events that count as converting in a session (an identify always does). */
    conversionEvents: z.array(z.string().min(1)).optional(),
    /** LTV = average won deal × purchases a year × years a customer stays × margin; or a fixed value. */
    ltv: z
      .object({
        purchasesPerYear: z.number().positive().optional(),
        lifespanYears: z.number().positive().optional(),
        margin: z.number().gt(0).max(1).optional(),
        value: z.number().positive().optional(),
      })
      .strict()
      .optional(),
    /** Display names of lifecycle stages (the meaning of each stage is fixed), e.g. { sql: Sales accepted }. */
    stageNames: z.partialRecord(z.enum(STAGES), z.string().min(1).max(60)).optional(),
  })
  .strict();

export type ChannelRule = z.infer<typeof channelRuleSchema>;

export interface Config {
  port: number;
  host: string;
  storage: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };
  keepFullIp: boolean;
  channelRules: ChannelRule[];
  sessionTimeoutMs: number;
  logLevel: string;
  commitDelayMs: number;
  /** How often `kerma serve` refreshes decayed scores (0: never; `kerma model refresh` does it once). */
  decayIntervalMs: number;
  /** Raw events older than this many days are deleted by `kerma serve` (hourly) and `kerma privacy retention`. */
  retentionDays: number | null;
  /** Requests a minute per API key before 429 with Retry-After. */
  rateLimitPerMinute: number;
  /** How often `kerma serve` scores changed contacts with the active predictive model (0: never). */
  predictionIntervalMs: number;
  maxEventBytes: number;
  maxBatchBytes: number;
  /** Display name of every lifecycle stage. */
  stageNames: Record<Stage, string>;
  production: boolean;
  smtpUrl: string | null;
  emailFrom: string;
  /** Minutes after local midnight: [start, end). */
  emailSendWindow: { start: number; end: number };
  /** How often `kerma serve` looks for due deliveries (0: never). */
  deliveryIntervalMs: number;
  /** Units of each currency per one unit of `base` (the base itself is 1). */
  exchangeRates: { base: string; rates: Record<string, number> } | null;
  qualifyingPages: string[];
  conversionEvents: string[];
  ltv: { purchasesPerYear: number; lifespanYears: number; margin: number; value: number | null };
}

export interface ConfigOverrides {
  port?: number | undefined;
  host?: string | undefined;
  db?: string | undefined;
  databaseUrl?: string | undefined;
  configFile?: string | undefined;
  logLevel?: string | undefined;
}

/**
 * The one reader of `process.env`. Precedence: CLI flag > environment > config file > default.
 * @example const config = loadConfig(process.env, { port: 8080 })
 */
export function loadConfig(env: NodeJS.ProcessEnv, overrides: ConfigOverrides = {}): Config {
  const fileName = overrides.configFile ?? env['KERMA_CONFIG'];
  const file = fileName ? readConfigFile(fileName) : {};
  const databaseUrl =
    overrides.databaseUrl ?? (overrides.db ? undefined : env['KERMA_DATABASE_URL']) ?? file.databaseUrl;
  const dbFile = overrides.db ?? env['KERMA_DB'] ?? file.db ?? './kerma.db';
  const port = overrides.port ?? numberFromEnv(env, 'KERMA_PORT') ?? file.port ?? 8080;
  return {
    port,
    host: overrides.host ?? env['KERMA_HOST'] ?? file.host ?? '127.0.0.1',
    storage: databaseUrl ? { kind: 'postgres', url: databaseUrl } : { kind: 'sqlite', file: dbFile },
    keepFullIp: env['KERMA_KEEP_FULL_IP'] === 'true' || (file.keepFullIp ?? false),
    channelRules: file.channels ?? [],
    sessionTimeoutMs: (file.sessionTimeoutMinutes ?? 30) * 60_000,
    logLevel: overrides.logLevel ?? env['KERMA_LOG_LEVEL'] ?? file.logLevel ?? 'info',
    commitDelayMs: numberFromEnv(env, 'KERMA_COMMIT_DELAY_MS') ?? file.commitDelayMs ?? 2,
    decayIntervalMs: (numberFromEnv(env, 'KERMA_DECAY_INTERVAL_MINUTES') ?? file.decayIntervalMinutes ?? 15) * 60_000,
    retentionDays: numberFromEnv(env, 'KERMA_RETENTION_DAYS') ?? file.retentionDays ?? null,
    rateLimitPerMinute: numberFromEnv(env, 'KERMA_RATE_LIMIT_PER_MINUTE') ?? file.rateLimitPerMinute ?? 60_000,
    predictionIntervalMs:
      (numberFromEnv(env, 'KERMA_PREDICTION_INTERVAL_SECONDS') ?? file.predictionIntervalSeconds ?? 60) * 1000,
    maxEventBytes: 32 * 1024,
    maxBatchBytes: 500 * 1024,
    stageNames: { ...DEFAULT_STAGE_NAMES, ...file.stageNames },
    production: (env['KERMA_ENV'] ?? file.environment) === 'production',
    smtpUrl: env['KERMA_SMTP_URL'] ?? file.smtpUrl ?? null,
    emailFrom: env['KERMA_EMAIL_FROM'] ?? file.emailFrom ?? 'Kerma <kerma@localhost>',
    emailSendWindow: parseSendWindow(env['KERMA_EMAIL_SEND_WINDOW'] ?? file.emailSendWindow ?? '09:00-17:00'),
    deliveryIntervalMs: numberFromEnv(env, 'KERMA_DELIVERY_INTERVAL_MS') ?? file.deliveryIntervalMs ?? 1000,
    exchangeRates: file.exchangeRates ?? null,
    qualifyingPages: file.qualifyingPages ?? ['/pricing', '/demo', '/contact'],
    conversionEvents: file.conversionEvents ?? ['Form Submitted', 'Demo Requested', 'Signed Up', 'Contact Requested'],
    ltv: {
      purchasesPerYear: file.ltv?.purchasesPerYear ?? 1,
      lifespanYears: file.ltv?.lifespanYears ?? 1,
      margin: file.ltv?.margin ?? 1,
      value: file.ltv?.value ?? null,
    },
  };
}

function parseSendWindow(text: string): { start: number; end: number } {
  const match = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(text.trim());
  const minutes = match ? [Number(match[1]) * 60 + Number(match[2]), Number(match[3]) * 60 + Number(match[4])] : null;
  if (!minutes || minutes[0]! >= minutes[1]! || minutes[1]! > 24 * 60) {
    throw new KermaError(
      'invalid_config',
      `email send window "${text}" is not HH:MM-HH:MM with the start before the end, e.g. 09:00-17:00`,
    );
  }
  return { start: minutes[0]!, end: minutes[1]! };
}

function numberFromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new KermaError('invalid_config', `${name}=${raw} is not a number`);
  return value;
}

function readConfigFile(fileName: string): z.infer<typeof fileSchema> {
  let text: string;
  try {
    text = readFileSync(fileName, 'utf8');
  } catch (error) {
    throw new KermaError('invalid_config', `cannot read config file ${fileName}: ${(error as Error).message}`);
  }
  const parsed = fileSchema.safeParse(parseYaml(text) ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new KermaError('invalid_config', `config file ${fileName} is invalid: ${issues.join('; ')}`);
  }
  return parsed.data;
}
