import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { DATA, requireShared } from './captures.js';

/** Columns filled in after sales contact (leaky for a model used before it). */
export const XEDUCATION_LEAKY = ['Tags', 'Lead Quality', 'Last Activity', 'Last Notable Activity'];

/**
 * Writes the X Education leads as `train.csv` and `test.csv` in `dir`, by the fixed split in `split.csv`, and returns
 * their paths and the test rows' Prospect IDs.
 */
export function writeXeducationSplit(dir: string): {
  train: string;
  test: string;
  testIds: Set<string>;
  leads: string;
} {
  const leads = requireShared(join(DATA, 'xeducation', 'leads.csv'));
  const rows = parse(readFileSync(leads), { columns: true, bom: true }) as Array<Record<string, string>>;
  const split = parse(readFileSync(join(DATA, 'xeducation', 'split.csv')), { columns: true }) as Array<{
    row_index: string;
    split: string;
  }>;
  const pick = (name: string) => split.filter((s) => s.split === name).map((s) => rows[Number(s.row_index)]!);
  const train = join(dir, 'train.csv');
  const test = join(dir, 'test.csv');
  writeFileSync(train, stringify(pick('train'), { header: true }));
  writeFileSync(test, stringify(pick('test'), { header: true }));
  return { train, test, testIds: new Set(pick('test').map((r) => r['Prospect ID']!)), leads };
}
