import { describe, expect, it } from 'vitest';
import { isPlaceholderId } from '../../src/identity/is-placeholder-id.js';
import { anonymizeIp } from '../../src/ingest/anonymize-ip.js';
import { classifyUserAgent } from '../../src/ingest/classify-user-agent.js';
import { correctClockSkew, parseTime } from '../../src/ingest/correct-clock-skew.js';
import { GroupCommitter } from '../../src/ingest/group-committer.js';
import type { IngestEvent } from '../../src/ingest/ingest-event.js';
import { localDay } from '../../src/ingest/local-day.js';
import type { WorkspaceBatch } from '../../src/storage/storage.js';

describe('correctClockSkew', () => {
  it('applies receivedAt − (sentAt − originalTimestamp)', () => {
    expect(correctClockSkew({ originalTimestamp: 1_000, sentAt: 2_000, receivedAt: 10_000 })).toBe(9_000);
    expect(correctClockSkew({ timestamp: 1_000, sentAt: 2_000, receivedAt: 10_000 })).toBe(9_000);
  });
  it('keeps a hand-set timestamp next to originalTimestamp (back-dated events)', () => {
    expect(correctClockSkew({ timestamp: 500, originalTimestamp: 9_000, sentAt: 9_100, receivedAt: 10_000 })).toBe(500);
  });
  it('uses receivedAt when nothing is sent, and clamps the far future', () => {
    expect(correctClockSkew({ receivedAt: 10_000 })).toBe(10_000);
    expect(correctClockSkew({ timestamp: 10_000 + 3_600_000, receivedAt: 10_000 })).toBe(10_000);
  });
  it('parses ISO strings and numbers; flags garbage', () => {
    expect(parseTime('2026-01-01T00:00:00Z')).toBe(Date.UTC(2026, 0, 1));
    expect(parseTime(5)).toBe(5);
    expect(parseTime(undefined)).toBeNull();
    expect(parseTime('yesterday-ish')).toBe('invalid');
    // Numbers a Date cannot hold, or far outside any event's time, are not dates (found by fuzzing).
    expect(parseTime(-3.5e242)).toBe('invalid');
    expect(parseTime(Date.UTC(2300, 0, 1))).toBe('invalid');
    expect(parseTime(1_700_000_000_000.7)).toBe(1_700_000_000_000);
    expect(correctClockSkew({ originalTimestamp: 1_000, sentAt: 9e15, receivedAt: 10_000 })).toBe(10_000);
    expect(parseTime({})).toBe('invalid');
  });
});

describe('anonymizeIp', () => {
  it('zeroes the last IPv4 octet and all but 48 bits of IPv6', () => {
    expect(anonymizeIp('203.0.113.7')).toBe('203.0.113.0');
    expect(anonymizeIp('::ffff:198.51.100.23')).toBe('198.51.100.0');
    expect(anonymizeIp('2001:db8:85a3:8d3:1319:8a2e:370:7348')).toBe('2001:db8:85a3::');
    expect(anonymizeIp('2001:db8::1')).toBe('2001:db8:0::');
    expect(anonymizeIp('not-an-ip')).toBeNull();
  });
});

describe('isPlaceholderId', () => {
  it('refuses ids broken integrations send for everyone', () => {
    for (const id of ['', ' ', 'anonymous', 'NULL', 'undefined', '0', 'None', '[object Object]', 'distinct_id'])
      expect(isPlaceholderId(id), id).toBe(true);
    for (const id of ['user-42', 'a1b2', '00123']) expect(isPlaceholderId(id), id).toBe(false);
  });
});

describe('classifyUserAgent', () => {
  it('flags bots and parses browsers', () => {
    expect(classifyUserAgent('Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)').isBot).toBe(
      true,
    );
    const chrome = classifyUserAgent(
      'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
    );
    expect(chrome).toEqual({ isBot: false, browser: 'Chrome', os: 'Windows', device: 'desktop' });
    expect(
      classifyUserAgent(
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      ).device,
    ).toBe('mobile');
    expect(classifyUserAgent(null)).toEqual({ isBot: false, browser: null, os: null, device: null });
  });
});

describe('localDay', () => {
  it('gives the calendar day in the time zone, including half-hour and 45-minute offsets', () => {
    expect(localDay(Date.UTC(2026, 0, 1, 23, 30), 'Europe/Berlin')).toBe('2026-01-02');
    expect(localDay(Date.UTC(2026, 0, 2, 3, 0), 'America/New_York')).toBe('2026-01-01');
    expect(localDay(Date.UTC(2026, 0, 1, 18, 29), 'Asia/Kolkata')).toBe('2026-01-01');
    expect(localDay(Date.UTC(2026, 0, 1, 18, 30), 'Asia/Kolkata')).toBe('2026-01-02');
    expect(localDay(Date.UTC(2026, 0, 1, 18, 15), 'Asia/Kathmandu')).toBe('2026-01-02');
    expect(localDay(Date.UTC(2026, 0, 1, 18, 14), 'Asia/Kathmandu')).toBe('2026-01-01');
  });

  it('agrees with Intl near the first instant asked for and decades away from it, across DST changes', () => {
    const zone = 'America/Asuncion'; // fell back at midnight until 2024: a day's last hour came twice
    const intl = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    const first = Date.UTC(2023, 2, 26, 2, 59, 59, 999);
    const instants = [first];
    for (let k = -40_000; k <= 40_000; k += 37) instants.push(first + k * 15 * 60_000 + (k % 7) * 60_000);
    for (const years of [-30, -5, 5, 30]) instants.push(first + years * 365.25 * 86_400_000);
    for (const at of instants) expect(localDay(at, zone), new Date(at).toISOString()).toBe(intl.format(new Date(at)));
  });
});

describe('group commit isolation', () => {
  // A storage whose commit fails whenever a batch holds the poison event: the committer's own logic under test.
  const storage = (up: () => boolean) => ({
    engine: 'sqlite' as const,
    db: null as never,
    file: null,
    bulkScores: null,
    calls: 0,
    async ingest(batches: WorkspaceBatch[]) {
      this.calls++;
      if (!up() || batches.some((b) => b.events.some((e) => e.messageId === 'poison'))) throw new Error('cannot store');
      return batches.map((b) => ({ inserted: b.events.length, duplicates: 0 }));
    },
    async ping() {
      return up();
    },
    async close() {},
  });
  const batch = (id: string) => ({ workspaceId: 'ws', timeZone: 'UTC', events: [{ messageId: id } as IngestEvent] });

  it('one request that cannot be stored fails alone; the requests grouped with it are stored', async () => {
    const s = storage(() => true);
    const committer = new GroupCommitter(s, { delayMs: 20, maxEvents: 100, maxQueuedEvents: 1000 });
    const results = await Promise.allSettled([
      committer.submit(batch('a')),
      committer.submit(batch('poison')),
      committer.submit(batch('b')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(s.calls).toBe(4);
  });

  it('when the database is down, every grouped request is refused at once', async () => {
    const s = storage(() => false);
    const committer = new GroupCommitter(s, { delayMs: 20, maxEvents: 100, maxQueuedEvents: 1000 });
    const results = await Promise.allSettled([committer.submit(batch('a')), committer.submit(batch('b'))]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(s.calls).toBe(1);
  });
});
