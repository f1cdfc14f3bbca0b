import { createHash } from 'node:crypto';
import { stringify } from 'csv-stringify/sync';
import { type CountryCode, parsePhoneNumberFromString } from 'libphonenumber-js';

/** A contact reaching a stage, with what ad platforms match it on. */
export interface Conversion {
  contactId: string;
  stage: string;
  at: number;
  value: number | null;
  currency: string | null;
  email: string | null;
  phone: string | null;
  /** ISO 3166 country of the contact, to read a national phone number. */
  country: string | null;
  /** The Google click id of the newest ad click before the conversion. */
  gclid: string | null;
  gclidAt: number | null;
  fbclid: string | null;
  fbclidAt: number | null;
  /** A Meta lead-ads lead id, when the contact came from a lead form. */
  leadId: string | null;
}

/** Google accepts a conversion only within 90 days of its click. */
const GOOGLE_CLICK_WINDOW_MS = 90 * 86_400_000;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Meta's normalisation of an email: trimmed and lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Meta's normalisation of a phone: digits with the country code, no symbols or leading zeros. The number is read as
 * E.164 by libphonenumber (so "+49 (0)30 …" drops its trunk 0), with the contact's country for a national number;
 * what it cannot read is reduced to its digits.
 */
export function normalizePhone(phone: string, country: string | null = null): string {
  const parsed = parsePhoneNumberFromString(
    phone,
    country && /^[A-Z]{2}$/.test(country) ? (country as CountryCode) : undefined,
  );
  if (parsed?.isPossible()) return parsed.number.slice(1);
  return phone.replace(/\D/g, '').replace(/^0+/, '');
}

const utc = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

/**
 * Google Ads offline conversion import CSV (`Parameters:TimeZone=+0000`, then one row per click). Conversions without a
 * gclid, or whose click is over 90 days older than the conversion, are left out and counted.
 */
export function googleAdsCsv(conversions: Conversion[], conversionName: string, fallbackCurrency: string) {
  const rows: string[][] = [];
  const skipped = { noClickId: 0, clickTooOld: 0 };
  for (const c of conversions) {
    if (!c.gclid) {
      skipped.noClickId++;
      continue;
    }
    if (c.gclidAt !== null && c.at - c.gclidAt > GOOGLE_CLICK_WINDOW_MS) {
      skipped.clickTooOld++;
      continue;
    }
    rows.push([
      c.gclid,
      conversionName,
      utc(c.at),
      c.value === null ? '' : String(c.value),
      c.value === null ? '' : (c.currency ?? fallbackCurrency),
    ]);
  }
  const text =
    'Parameters:TimeZone=+0000\n' +
    stringify(rows, {
      header: true,
      columns: ['Google Click ID', 'Conversion Name', 'Conversion Time', 'Conversion Value', 'Conversion Currency'],
    });
  return { text, exported: rows.length, skipped };
}

/**
 * Meta Conversions API events for CRM stages (`action_source: system_generated`, `event_source: crm`): matched on
 * hashed email and phone, the lead id and the click id; `event_id` is stable per contact and stage, so a re-export is
 * deduplicated by Meta. Conversions with nothing to match on are left out and counted.
 */
export function metaEvents(conversions: Conversion[], eventName: string, fallbackCurrency: string) {
  const data: unknown[] = [];
  let noMatchKey = 0;
  for (const c of conversions) {
    const em = c.email ? [sha256(normalizeEmail(c.email))] : [];
    const phone = c.phone ? normalizePhone(c.phone, c.country) : '';
    const ph = phone ? [sha256(phone)] : [];
    if (em.length === 0 && ph.length === 0 && !c.leadId && !c.fbclid) {
      noMatchKey++;
      continue;
    }
    data.push({
      event_name: eventName,
      event_time: Math.floor(c.at / 1000),
      action_source: 'system_generated',
      event_id: `kerma.${c.contactId}.${c.stage}`,
      user_data: {
        ...(em.length ? { em } : {}),
        ...(ph.length ? { ph } : {}),
        ...(c.leadId ? { lead_id: c.leadId } : {}),
        ...(c.fbclid ? { fbc: `fb.1.${c.fbclidAt ?? c.at}.${c.fbclid}` } : {}),
      },
      custom_data: {
        ...(c.value === null ? {} : { value: c.value, currency: c.currency ?? fallbackCurrency }),
        event_source: 'crm',
        lead_event_source: 'Kerma',
      },
    });
  }
  return { data, exported: data.length, skipped: { noMatchKey } };
}
