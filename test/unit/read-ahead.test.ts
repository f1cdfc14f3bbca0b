import { describe, expect, it } from 'vitest';
import { readAhead } from '../../src/models/read-ahead.js';

/** A source that logs when each fetch starts and ends, and can fail at one item. */
function source(count: number, log: string[], failAt = -1) {
  let returned = false;
  async function* items() {
    try {
      for (let i = 0; i < count; i++) {
        log.push(`fetch ${i}`);
        await new Promise((r) => setTimeout(r, 1));
        if (i === failAt) throw new Error(`fetch ${i} failed`);
        yield i;
      }
    } finally {
      returned = true;
    }
  }
  return { items: items(), returned: () => returned };
}

describe('readAhead', () => {
  it('hands over every item in order, the next fetch started before the caller works on the current one', async () => {
    const log: string[] = [];
    const s = source(3, log);
    const seen: number[] = [];
    for await (const item of readAhead(s.items)) {
      log.push(`work ${item}`);
      seen.push(item);
    }
    expect(seen).toEqual([0, 1, 2]);
    expect(log).toEqual(['fetch 0', 'fetch 1', 'work 0', 'fetch 2', 'work 1', 'work 2']);
  });

  it('passes a failed fetch to the caller at that item', async () => {
    const seen: number[] = [];
    const run = async () => {
      for await (const item of readAhead(source(5, [], 2).items)) seen.push(item);
    };
    await expect(run()).rejects.toThrow('fetch 2 failed');
    expect(seen).toEqual([0, 1]);
  });

  it('closes the source when the caller stops early, leaving no fetch failing unhandled', async () => {
    const s = source(5, [], 1);
    for await (const item of readAhead(s.items)) {
      // The fetch of item 1 (which fails) is under way when the caller leaves.
      if (item === 0) break;
    }
    expect(s.returned()).toBe(true);
  });
});
