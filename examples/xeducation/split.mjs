// Writes train.csv and test.csv (into the folder given, default .) from the X Education leads and the fixed split
// beside them in the shared data folder: node examples/xeducation/split.mjs [OUT_DIR]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';

const data = join(import.meta.dirname, '..', '..', '..', 'shared', 'data', 'xeducation');
const out = process.argv[2] ?? '.';
mkdirSync(out, { recursive: true });
const rows = parse(readFileSync(join(data, 'leads.csv')), { columns: true, bom: true });
const split = parse(readFileSync(join(data, 'split.csv')), { columns: true });
for (const part of ['train', 'test']) {
  const picked = split.filter((s) => s.split === part).map((s) => rows[Number(s.row_index)]);
  writeFileSync(join(out, `${part}.csv`), stringify(picked, { header: true }));
  console.log(`${join(out, `${part}.csv`)}: ${picked.length} rows`);
}
