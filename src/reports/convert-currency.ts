/** Converts amounts into the workspace currency from a rate table; a currency without a rate is collected, not guessed. */
export interface CurrencyConverter {
  /** The amount in the target currency, or null when `currency` has no rate (then it is listed in `missing`). */
  convert(amount: number, currency: string): number | null;
  readonly missing: Set<string>;
}

/**
 * @param rates units of each currency per one unit of `base` (ECB style: base EUR, USD 1.08)
 * @example currencyConverter('EUR', { base: 'EUR', rates: { USD: 1.08 } }).convert(108, 'USD') // 100
 */
export function currencyConverter(
  target: string,
  rates: { base: string; rates: Record<string, number> } | null,
): CurrencyConverter {
  const missing = new Set<string>();
  const perBase = (currency: string): number | null =>
    currency === rates?.base ? 1 : (rates?.rates[currency] ?? null);
  return {
    missing,
    convert(amount, currency) {
      if (currency === target) return amount;
      const from = perBase(currency);
      const to = perBase(target);
      if (from === null || to === null) {
        missing.add(from === null ? currency : target);
        return null;
      }
      return (amount / from) * to;
    },
  };
}
