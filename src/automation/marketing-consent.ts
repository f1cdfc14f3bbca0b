const YES = new Set(['true', 'yes', 'y', '1', 'granted', 'opt-in', 'opted_in', 'subscribed']);

const truthy = (value: unknown) =>
  value === true || value === 1 || (typeof value === 'string' && YES.has(value.trim().toLowerCase()));

/**
 * Whether marketing email may go to a contact, from its traits: never when `unsubscribed` is set; otherwise only
 * with recorded consent (`marketing_consent` or `email_consent`), as GDPR asks for an opt-in.
 * @example marketingConsent({ marketing_consent: true }) // { ok: true }
 */
export function marketingConsent(traits: Record<string, unknown>): { ok: true } | { ok: false; reason: string } {
  if (truthy(traits['unsubscribed'])) return { ok: false, reason: 'the contact unsubscribed' };
  if (truthy(traits['marketing_consent']) || truthy(traits['email_consent'])) return { ok: true };
  return { ok: false, reason: 'no marketing consent recorded (trait marketing_consent or email_consent)' };
}
