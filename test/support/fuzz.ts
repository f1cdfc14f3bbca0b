import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { compileChannelRules } from '../../src/attribution/group-channel.js';
import { KermaError } from '../../src/errors.js';
import { importContactsCsv } from '../../src/identity/import-contacts-csv.js';
import { importStagesCsv } from '../../src/lifecycle/import-stages-csv.js';
import { DEFAULT_STAGE_NAMES } from '../../src/lifecycle/stages.js';
import { readTrainingCsv } from '../../src/predictions/read-training-csv.js';
import { importSpendCsv } from '../../src/spend/import-spend.js';
import type { Storage } from '../../src/storage/storage.js';
import type { Workspace } from '../../src/workspaces/workspace-service.js';

export interface FuzzTally {
  payloads: number;
  /** Exceptions that are not an expected error (a KermaError), or a request that did not answer. */
  crashes: number;
  serverErrors: number;
  /** 4xx answers without an error message. */
  unexplained: number;
  byStatus: Record<string, number>;
  examples: string[];
}

export const newTally = (): FuzzTally => ({
  payloads: 0,
  crashes: 0,
  serverErrors: 0,
  unexplained: 0,
  byStatus: {},
  examples: [],
});

const anything = fc.jsonValue({ maxDepth: 3 });
const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    'null',
    'undefined',
    '0',
    'anonymous',
    '\u0000',
    '<script>x</script>',
    '../../etc/passwd',
    "' OR 1=1 --",
  ),
);
const when = fc.oneof(
  fc
    .date({ min: new Date('1960-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  text,
  fc.integer(),
  fc.constantFrom('2026-13-45T99:99:99Z', 'yesterday', 'NaN', '1e400'),
);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.oneof(arb, anything, fc.constant(undefined));
const segmentItem = fc.record(
  {
    type: maybe(fc.constantFrom('track', 'page', 'identify', 'alias', 'group', 'screen', 'TRACK', 'nonsense')),
    userId: maybe(fc.oneof(text, fc.integer())),
    anonymousId: maybe(text),
    previousId: maybe(text),
    groupId: maybe(text),
    event: maybe(text),
    name: maybe(text),
    messageId: maybe(text),
    timestamp: maybe(when),
    originalTimestamp: maybe(when),
    sentAt: maybe(when),
    properties: maybe(fc.dictionary(text, anything, { maxKeys: 5 })),
    traits: maybe(fc.dictionary(text, anything, { maxKeys: 5 })),
    context: maybe(
      fc.record(
        {
          ip: maybe(fc.oneof(fc.ipV4(), fc.ipV6(), text)),
          userAgent: maybe(text),
          page: maybe(
            fc.record({
              url: maybe(fc.oneof(fc.webUrl({ withQueryParameters: true }), text)),
              referrer: maybe(text),
              path: maybe(text),
            }),
          ),
          campaign: maybe(fc.dictionary(text, anything, { maxKeys: 4 })),
          kerma: maybe(fc.record({ mode: fc.constantFrom('cookieless', 'x') })),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
);
/** Near-valid: right types, odd values (so the storage path, identity and attribution see odd but storable data). */
const plausibleItem = fc.record({
  type: fc.constantFrom('track', 'page', 'identify', 'alias', 'group', 'screen'),
  userId: fc.oneof(text, fc.constant(undefined)),
  anonymousId: text,
  previousId: fc.oneof(text, fc.constant(undefined)),
  groupId: text,
  event: text,
  messageId: fc.oneof(fc.uuid(), text),
  timestamp: fc.oneof(when, fc.constant(undefined)),
  properties: fc.dictionary(text, anything, { maxKeys: 5 }),
  traits: fc.dictionary(fc.oneof(text, fc.constantFrom('email', 'phone', 'company', 'timezone')), anything, {
    maxKeys: 5,
  }),
  context: fc.record({
    ip: fc.oneof(fc.ipV4(), fc.ipV6(), text),
    page: fc.record({
      url: fc.oneof(fc.webUrl({ withQueryParameters: true }), text),
      referrer: fc.oneof(fc.webUrl(), text),
    }),
    userAgent: text,
  }),
});

const posthogItem = fc.record(
  {
    event: maybe(fc.oneof(text, fc.constantFrom('$pageview', '$identify', '$create_alias', '$set'))),
    distinct_id: maybe(fc.oneof(text, fc.integer())),
    uuid: maybe(text),
    timestamp: maybe(when),
    properties: maybe(
      fc.dictionary(fc.oneof(text, fc.constantFrom('$anon_distinct_id', '$current_url', '$set', 'alias')), anything, {
        maxKeys: 5,
      }),
    ),
  },
  { requiredKeys: [] },
);

interface Request {
  route: string;
  body: Buffer;
  headers: Record<string, string>;
  auth: 'write' | 'secret' | 'wrong' | 'none';
}

const asBody = fc.oneof(
  { weight: 6, arbitrary: fc.constant('json' as const) },
  { weight: 1, arbitrary: fc.constant('gzip' as const) },
  { weight: 1, arbitrary: fc.constant('fake-gzip' as const) },
);

function request(routes: string[], body: fc.Arbitrary<unknown>, auth: Request['auth'][]): fc.Arbitrary<Request> {
  return fc
    .record({
      route: fc.constantFrom(...routes),
      value: fc.oneof(
        { weight: 8, arbitrary: body.map((b) => JSON.stringify(b) ?? 'null') },
        { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
        { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u).toString('latin1')) },
        { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v) ?? 'null') },
      ),
      encoding: asBody,
      contentType: fc.constantFrom(
        'application/json',
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data',
        '',
      ),
      auth: fc.constantFrom(...auth),
    })
    .map(({ route, value, encoding, contentType, auth }) => ({
      route,
      body: encoding === 'gzip' ? gzipSync(value) : Buffer.from(value, encoding === 'fake-gzip' ? 'latin1' : 'utf8'),
      headers: {
        ...(contentType ? { 'content-type': contentType } : {}),
        ...(encoding === 'json' ? {} : { 'content-encoding': 'gzip' }),
      },
      auth,
    }));
}

/** Malformed and half-right requests for every ingest route, the CRM stage route and the spend route. */
export function fuzzRequests(): fc.Arbitrary<Request> {
  const segment = [
    '/v1/batch',
    '/v1/track',
    '/v1/page',
    '/v1/identify',
    '/v1/alias',
    '/v1/group',
    '/v1/screen',
    '/v1/import',
    '/v1/b',
    '/v1/t',
    '/v1/p',
    '/v1/i',
    '/v1/a',
    '/v1/g',
    '/v1/s',
    '/beacon/v1/batch',
  ];
  const segmentBody = fc.oneof(
    segmentItem,
    plausibleItem,
    fc.record({ batch: fc.array(plausibleItem, { maxLength: 10 }) }),
    fc.record(
      {
        batch: maybe(fc.array(segmentItem, { maxLength: 15 })),
        context: maybe(anything),
        sentAt: maybe(when),
        writeKey: maybe(text),
      },
      { requiredKeys: [] },
    ),
  );
  const posthogBody = fc.oneof(
    posthogItem,
    fc.array(posthogItem, { maxLength: 10 }),
    fc.record(
      { api_key: maybe(text), batch: maybe(fc.array(posthogItem, { maxLength: 10 })), sent_at: maybe(when) },
      { requiredKeys: [] },
    ),
  );
  const stage = fc.record(
    {
      updateId: maybe(text),
      contactId: maybe(text),
      email: maybe(fc.oneof(fc.emailAddress(), text)),
      crmId: maybe(text),
      stage: maybe(fc.oneof(fc.constantFrom('mql', 'sql', 'meeting', 'won', 'lost', 'contact', 'Closed Won'), text)),
      at: maybe(when),
      value: maybe(fc.oneof(fc.double(), fc.integer(), text)),
      currency: maybe(fc.oneof(fc.constantFrom('EUR', 'USD', 'eur', 'XX'), text)),
      reason: maybe(text),
      owner: maybe(text),
      reopen: maybe(fc.boolean()),
    },
    { requiredKeys: [] },
  );
  const crmBody = fc.oneof(
    stage,
    fc.record(
      { updates: maybe(fc.array(stage, { maxLength: 20 })), createMissing: maybe(fc.boolean()) },
      { requiredKeys: [] },
    ),
  );
  const spendRow = fc.record(
    {
      date: maybe(when),
      source: maybe(text),
      medium: maybe(text),
      campaign: maybe(text),
      ad: maybe(text),
      cost: maybe(fc.oneof(fc.double(), fc.integer(), text)),
      currency: maybe(text),
      impressions: maybe(fc.oneof(fc.integer(), fc.double(), text)),
      clicks: maybe(fc.oneof(fc.integer(), text)),
      conversions: maybe(fc.oneof(fc.integer(), text)),
    },
    { requiredKeys: [] },
  );
  const spendBody = fc.record({ rows: maybe(fc.array(spendRow, { maxLength: 20 })) }, { requiredKeys: [] });
  return fc.oneof(
    { weight: 5, arbitrary: request(segment, segmentBody, ['write', 'write', 'write', 'wrong', 'none']) },
    {
      weight: 2,
      arbitrary: request(['/batch/', '/capture/', '/e/', '/i/v0/e/'], posthogBody, ['write', 'write', 'wrong']),
    },
    { weight: 2, arbitrary: request(['/api/crm/stages'], crmBody, ['secret', 'secret', 'secret', 'write']) },
    { weight: 1, arbitrary: request(['/api/spend'], spendBody, ['secret', 'secret', 'write']) },
  );
}

/** Sends `n` generated requests (seeded) to the app and tallies crashes, 5xx answers and 4xx answers without a message. */
export async function fuzzHttp(
  app: FastifyInstance,
  keys: { writeKey: string; secretKey: string },
  n: number,
  seed: number,
  tally: FuzzTally = newTally(),
): Promise<FuzzTally> {
  const auth = (kind: Request['auth'], route: string): Record<string, string> => {
    if (kind === 'none') return {};
    if (kind === 'wrong')
      return {
        authorization: route.startsWith('/api/')
          ? 'Bearer sk_wrong'
          : `Basic ${Buffer.from('wk_wrong:').toString('base64')}`,
      };
    if (kind === 'secret') return { authorization: `Bearer ${keys.secretKey}` };
    return route.startsWith('/api/')
      ? { authorization: `Bearer ${keys.writeKey}` }
      : { authorization: `Basic ${Buffer.from(`${keys.writeKey}:`).toString('base64')}` };
  };
  const requests = fc.sample(fuzzRequests(), { numRuns: n, seed });
  for (const r of requests) {
    tally.payloads++;
    let status: number;
    let body: string;
    try {
      const response = await app.inject({
        method: 'POST',
        url: r.route,
        headers: { ...r.headers, ...auth(r.auth, r.route) },
        payload: r.body,
      });
      status = response.statusCode;
      body = response.body;
    } catch (error) {
      tally.crashes++;
      note(tally, `${r.route} threw ${(error as Error).stack?.slice(0, 300)}`);
      continue;
    }
    tally.byStatus[status] = (tally.byStatus[status] ?? 0) + 1;
    if (status >= 500) {
      tally.serverErrors++;
      note(tally, `${r.route} → ${status} ${body.slice(0, 200)} for ${r.body.toString('utf8').slice(0, 300)}`);
    } else if (status >= 400 && !hasMessage(body)) {
      tally.unexplained++;
      note(tally, `${r.route} → ${status} without a message: ${body.slice(0, 200)}`);
    }
  }
  return tally;
}

function hasMessage(body: string): boolean {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    return typeof message === 'string' && message.length > 3;
  } catch {
    return false;
  }
}

function note(tally: FuzzTally, example: string): void {
  if (tally.examples.length < 10) tally.examples.push(example);
}

const csvCell = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    '"',
    '""',
    '"a,b"',
    '"multi\nline"',
    ';',
    ',',
    '\r',
    'won',
    'lost',
    'Closed Won',
    'a@b.c',
    '2026-01-05',
    '12.5',
    '-1',
    'NaN',
    '1e309',
    '',
  ),
  fc.emailAddress(),
);
const csvText = (columns: string[]) =>
  fc
    .record({
      header: fc.shuffledSubarray([...columns, 'extra', ''], { minLength: 0 }),
      rows: fc.array(fc.array(csvCell, { minLength: 0, maxLength: 8 }), { maxLength: 12 }),
      delimiter: fc.constantFrom(',', ';'),
      bom: fc.boolean(),
      junk: fc.option(fc.string({ maxLength: 30 })),
    })
    .map(({ header, rows, delimiter, bom, junk }) => {
      const line = (cells: string[]) => cells.join(delimiter);
      return `${bom ? '\uFEFF' : ''}${line(header)}\n${rows.map(line).join('\n')}${junk ? `\n${junk}` : ''}`;
    });

/**
 * `n` generated CSV files through each importer (contacts, stages, spend, training data): an importer may refuse a
 * file with an expected error (a message saying what is wrong) or reject rows with reasons, never throw otherwise.
 */
export async function fuzzCsv(
  storage: Storage,
  workspace: Workspace,
  dir: string,
  n: number,
  seed: number,
  tally: FuzzTally = newTally(),
): Promise<FuzzTally> {
  const files = fc.sample(
    fc.record({
      importer: fc.constantFrom('contacts', 'stages', 'spend', 'training'),
      text: csvText([
        'email',
        'id',
        'stage',
        'at',
        'value',
        'date',
        'source',
        'campaign',
        'cost',
        'currency',
        'impressions',
        'clicks',
        'Converted',
        'Spent',
        'Impressions',
        'xyz_campaign_id',
      ]),
    }),
    { numRuns: n, seed },
  );
  const rules = compileChannelRules([]);
  for (const [i, f] of files.entries()) {
    tally.payloads++;
    const file = join(dir, `fuzz-${i % 50}.csv`);
    writeFileSync(file, f.text);
    try {
      const result =
        f.importer === 'contacts'
          ? await importContactsCsv(storage, workspace, file, {
              email: 'email',
              id: 'id',
              traits: {},
              onlyMapped: false,
            })
          : f.importer === 'stages'
            ? await importStagesCsv(
                storage,
                workspace,
                file,
                { email: 'email', stage: 'stage', at: 'at', value: 'value', stageMap: {} },
                { stageNames: DEFAULT_STAGE_NAMES, createMissing: true, fireTriggers: false },
              )
            : f.importer === 'spend'
              ? await importSpendCsv(storage.db, workspace.id, file, { currency: 'EUR', channelRules: rules })
              : await readTrainingCsv(file, 'Converted');
      const key = `${f.importer} ok`;
      tally.byStatus[key] = (tally.byStatus[key] ?? 0) + 1;
      if (result.rejected.some((r) => !r.reason)) {
        tally.unexplained++;
        note(tally, `${f.importer}: a row rejected without a reason`);
      }
    } catch (error) {
      if (error instanceof KermaError && error.message.length > 3) {
        const key = `${f.importer} refused`;
        tally.byStatus[key] = (tally.byStatus[key] ?? 0) + 1;
      } else {
        tally.crashes++;
        note(
          tally,
          `${f.importer} threw ${(error as Error).stack?.slice(0, 400)} on ${JSON.stringify(f.text).slice(0, 300)}`,
        );
      }
    }
  }
  return tally;
}
