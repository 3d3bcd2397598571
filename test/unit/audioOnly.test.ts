import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AudioOnlySwitch } from '../../client/sdk/audioOnly.js';

// The SDK's automatic audio only: when it switches, when it switches back, and that the
// application's choice wins. Timers are faked: the rule is about how long a level lasts.
describe('AudioOnlySwitch', () => {
  let changes: { on: boolean; auto: boolean }[];
  const make = (timing = {}) => new AudioOnlySwitch(timing, (on, auto) => changes.push({ on, auto }));
  beforeEach(() => {
    vi.useFakeTimers();
    changes = [];
  });
  afterEach(() => vi.useRealTimers());

  it('a downlink poor for 10 s switches to audio only, one good for 5 s back', () => {
    const s = make();
    s.downlink('poor');
    vi.advanceTimersByTime(9_999);
    expect(s.on).toBe(false);
    s.downlink('lost'); // still bad: the streak goes on
    vi.advanceTimersByTime(1);
    expect(s.on).toBe(true);
    expect(changes).toEqual([{ on: true, auto: true }]);
    s.downlink('good');
    vi.advanceTimersByTime(5_000);
    expect(s.on).toBe(false);
    expect(changes.at(-1)).toEqual({ on: false, auto: true });
  });

  it('a fair report does not end a bad streak, but ends a good one; a good report ends a bad one', () => {
    const s = make();
    s.downlink('poor');
    vi.advanceTimersByTime(8_000);
    s.downlink('fair'); // a link on the edge flickers: still counting
    s.downlink('poor');
    vi.advanceTimersByTime(2_000);
    expect(s.on).toBe(true);
    s.downlink('good');
    vi.advanceTimersByTime(4_000);
    s.downlink('fair'); // video comes back only on a link that stays good
    vi.advanceTimersByTime(10_000);
    expect(s.on).toBe(true);
    s.downlink('good');
    vi.advanceTimersByTime(5_000);
    expect(s.on).toBe(false);
    s.downlink('poor');
    vi.advanceTimersByTime(9_000);
    s.downlink('good'); // the bad streak is over
    s.downlink('poor');
    vi.advanceTimersByTime(9_999);
    expect(s.on).toBe(false);
  });

  it('a quick relapse doubles the wait before video comes back, up to the most', () => {
    const s = make({ afterMs: 1000, backAfterMs: 1000, maxBackAfterMs: 3000 });
    const cycle = (goodMs: number) => {
      s.downlink('poor');
      vi.advanceTimersByTime(1000);
      expect(s.on).toBe(true);
      s.downlink('good');
      vi.advanceTimersByTime(goodMs - 1);
      expect(s.on).toBe(true);
      vi.advanceTimersByTime(1);
      expect(s.on).toBe(false);
    };
    cycle(1000);
    cycle(2000);
    cycle(3000);
    cycle(3000); // capped
    vi.advanceTimersByTime(61_000); // a long quiet spell resets it
    cycle(1000);
  });

  it("the application's choice wins until it hands back with null; no timing: never by itself", () => {
    const s = make({ afterMs: 1000 });
    s.set(false);
    s.downlink('lost');
    vi.advanceTimersByTime(1000);
    expect(s.on).toBe(false);
    s.set(null); // the automatic state (audio only by now) takes over
    expect(s.on).toBe(true);
    expect(changes).toEqual([{ on: true, auto: true }]);
    s.reset();
    expect(s.on).toBe(false);

    const never = new AudioOnlySwitch(null, (on, auto) => changes.push({ on, auto }));
    never.downlink('lost');
    vi.advanceTimersByTime(60_000);
    expect(never.on).toBe(false);
    never.set(true);
    expect(never.on).toBe(true);
  });
});
