/**
 * Wraps an expensive read (stats from every worker) so that callers share it: while one run is in
 * progress every caller gets that run, and its result is reused for `ttlMs` after it settles. A
 * thousand concurrent callers cost one run.
 */
export function cachedTask<T>(run: () => Promise<T>, ttlMs: number): () => Promise<T> {
  let current: Promise<T> | undefined;
  let settledAt = 0;
  return () => {
    if (current && (settledAt === 0 || Date.now() - settledAt < ttlMs)) return current;
    settledAt = 0;
    const mine = run();
    current = mine;
    const settle = () => {
      if (current === mine) settledAt = Date.now();
    };
    mine.then(settle, settle);
    return mine;
  };
}
