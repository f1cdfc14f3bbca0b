/**
 * A token bucket per API key (by its hash): `perMinute` requests a minute on average, bursts up to that many. Kept in
 * the process: with several Kerma processes each applies the limit to the requests it serves.
 * @example const limiter = new RateLimiter(600); limiter.take(hash) // { ok: true } | { ok: false, retryAfterSeconds }
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly perMinute: number) {}

  take(key: string, now = Date.now()): { ok: true } | { ok: false; retryAfterSeconds: number } {
    const perMs = this.perMinute / 60_000;
    const bucket = this.buckets.get(key) ?? { tokens: this.perMinute, at: now };
    bucket.tokens = Math.min(this.perMinute, bucket.tokens + (now - bucket.at) * perMs);
    bucket.at = now;
    if (this.buckets.size > 100_000) this.buckets.clear();
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { ok: true };
    }
    return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)) };
  }
}
