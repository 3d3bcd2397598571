import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../client/sdk/backoff.js';

describe('client reconnect backoff', () => {
  it('starts at 1 s and doubles up to 30 s', () => {
    const mid = () => 0.5; // no jitter
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, mid))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  it('jitters each delay by ±20 %', () => {
    expect(backoffDelay(0, () => 0)).toBe(800);
    expect(backoffDelay(0, () => 1)).toBe(1200);
    expect(backoffDelay(9, () => 0)).toBe(24000);
    expect(backoffDelay(9, () => 1)).toBe(36000);
  });
});
