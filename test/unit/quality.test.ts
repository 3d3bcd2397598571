import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../server/config/schema.js';
import { Recovery, damped, fractionToPct, qualityLevel } from '../../server/quality/levels.js';

const t = defaultConfig.quality;

describe('network quality levels', () => {
  it.each([
    [{ lost: false, rttMs: 40, lossPct: 0 }, 'good'],
    [{ lost: false, rttMs: 151, lossPct: 0 }, 'fair'],
    [{ lost: false, rttMs: 40, lossPct: 2.5 }, 'fair'],
    [{ lost: false, rttMs: 301, lossPct: 0 }, 'poor'],
    [{ lost: false, rttMs: 20, lossPct: 5.1 }, 'poor'],
    [{ lost: false, rttMs: 20, lossPct: 0, limitedPct: 30 }, 'fair'],
    [{ lost: false, rttMs: 20, lossPct: 0, limitedPct: 60 }, 'poor'],
    [{ lost: true, rttMs: 20, lossPct: 0 }, 'lost'],
    [{ lost: false, rttMs: null, lossPct: null }, null],
  ] as const)('%o is %s with the default thresholds (poor: RTT > 300 ms or loss > 5 %%)', (sample, level) => {
    expect(qualityLevel(sample, t)).toBe(level);
  });

  it('climbs back from poor through fair: good only after recoverSamples good samples in a row', () => {
    expect(damped('good', 1, true, t)).toBe('fair');
    expect(damped('good', t.recoverSamples, true, t)).toBe('good');
    expect(damped('good', 0, false, t)).toBe('good');
    expect(damped('poor', 5, true, t)).toBe('poor');
  });

  it('a direction recovers after recoverSamples good samples in a row; fair or unmeasured restarts the count', () => {
    const r = new Recovery();
    r.observe('good', t);
    expect(r.recovering).toBe(false);
    r.observe('poor', t);
    expect(r.recovering).toBe(true);
    for (let i = 1; i < t.recoverSamples; i++) r.observe('good', t);
    r.observe('fair', t);
    for (let i = 1; i < t.recoverSamples; i++) r.observe('good', t);
    expect(r.recovering).toBe(true);
    r.observe('good', t);
    expect(r.recovering).toBe(false);
    r.observe('lost', t);
    expect(r.recovering).toBe(true);
  });

  it("reads RTCP's 8-bit fraction lost as a percentage", () => {
    expect(fractionToPct(0)).toBe(0);
    expect(fractionToPct(128)).toBe(50);
  });
});
