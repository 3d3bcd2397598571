import { backoffMs } from '../../protocol/backoff.js';

/** Reconnect delay: 1 s doubling to 30 s, each ±20 % so that a classroom does not reconnect in lockstep. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  return backoffMs(attempt, { firstMs: 1000, maxMs: 30_000, jitter: 0.2 }, random);
}
