/**
 * The items of `source`, each next one already being fetched while the caller works on the one it was handed: on
 * PostgreSQL a rescore reads its next page on one connection while it writes the last on another.
 * @example for await (const page of readAhead(loadContactRows(db, workspaceId))) await store(page)
 */
export async function* readAhead<T>(source: AsyncIterator<T>): AsyncGenerator<T> {
  let next = source.next();
  try {
    for (;;) {
      const item = await next;
      if (item.done) return;
      next = source.next();
      // Awaited on the next turn; a caller that stops before then must not leave it failing unhandled.
      next.catch(() => undefined);
      yield item.value;
    }
  } finally {
    await next.catch(() => undefined);
    await source.return?.(undefined);
  }
}
