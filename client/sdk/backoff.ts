/** Reconnect delay: 1 s doubling to 30 s, each ±20 % so that a classroom does not reconnect in lockstep. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(30_000, 1000 * 2 ** attempt);
  return Math.round(base * (0.8 + 0.4 * random()));
}
