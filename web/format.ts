const integer = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en', { maximumFractionDigits: 2 });

export const num = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : integer.format(x));
export const dec = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : decimal.format(x));
/** A fraction (0.123) as a percentage. */
export const pct = (x: number | null | undefined, digits = 1): string =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : `${(x * 100).toFixed(digits)} %`;
/** A change already in percent (12.5 → +12.5 %). */
export const change = (x: number | null | undefined): string =>
  x === null || x === undefined ? 'no earlier data' : `${x > 0 ? '+' : ''}${x.toFixed(1)} %`;
export const money = (x: number | null | undefined, currency: string): string =>
  x === null || x === undefined
    ? '—'
    : new Intl.NumberFormat('en', { style: 'currency', currency, maximumFractionDigits: 0 }).format(x);
export const date = (iso: string | number | null | undefined): string =>
  iso === null || iso === undefined ? '—' : new Date(iso).toISOString().slice(0, 16).replace('T', ' ');
