// Independent small state files read or written a few dozen at a time: the filesystem then commits
// their fsyncs in groups (and overlaps the reads), where one after another costs one disk flush (or
// one thread-pool round trip) each. Bounded, so a pass touching thousands of files never runs out of
// file descriptors.
const AT_ONCE = 32;

/** Run `fn` over `items`, at most AT_ONCE at a time; resolves when all are done (rejects with the first failure, after the rest settle). */
export async function inGroups<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(AT_ONCE, items.length) }, worker));
  if (failure) throw failure.err;
}
