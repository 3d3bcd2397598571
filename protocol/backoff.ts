/**
 * Retry pacing shared by the SDK and the server: `firstMs` doubling up to `maxMs`, each delay moved
 * by up to ±`jitter` (a share) so that many clients, or nodes, that lost the same thing do not
 * retry in lockstep.
 */
export interface Backoff {
  firstMs: number;
  maxMs: number;
  /** 0.2: each delay lies within ±20 % of the exponential one; 0: none. */
  jitter: number;
}

export function backoffMs(attempt: number, b: Backoff, random: () => number = Math.random): number {
  const base = Math.min(b.maxMs, b.firstMs * 2 ** Math.min(attempt, 30));
  return Math.round(base * (1 - b.jitter + 2 * b.jitter * random()));
}
