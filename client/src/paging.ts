// Walks a cursor-paged listing (`{sessions, nextCursor}`) to its end, one request per page. The
// caller's and the admin's session listings and the caller's and the admin's usage pages share it.

export async function* walkPages<T>(fetchPage: (cursor: string | undefined) => Promise<{ sessions: T[]; nextCursor: string | null }>): AsyncGenerator<T, void, undefined> {
  let cursor: string | undefined;
  const seen = new Set<string>();
  for (;;) {
    const page = await fetchPage(cursor);
    for (const item of page.sessions) yield item;
    // A cursor seen before would loop forever: a server bug, not a reason to hang the caller.
    if (page.nextCursor === null || seen.has(page.nextCursor)) return;
    seen.add(page.nextCursor);
    cursor = page.nextCursor;
  }
}
