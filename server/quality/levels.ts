import type { QualityLevel } from '../../protocol/schema.js';
import type { Config } from '../config/schema.js';

export interface LinkSample {
  /** The link carries nothing any more (ICE disconnected). */
  lost: boolean;
  rttMs: number | null;
  lossPct: number | null;
  /** Share of the time the sender's encoder was held back by bandwidth (uplink only). */
  limitedPct?: number | null;
}

/** good / fair / poor / lost from a sample; null when there is nothing to judge by. */
export function qualityLevel(s: LinkSample, t: Config['quality']): QualityLevel | null {
  if (s.lost) return 'lost';
  if (s.rttMs === null && s.lossPct === null && (s.limitedPct ?? null) === null) return null;
  const rtt = s.rttMs ?? 0;
  const loss = s.lossPct ?? 0;
  const limited = s.limitedPct ?? 0;
  if (rtt > t.poorRttMs || loss > t.poorLossPct || limited > t.poorLimitedPct) return 'poor';
  if (rtt > t.fairRttMs || loss > t.fairLossPct || limited > t.fairLimitedPct) return 'fair';
  return 'good';
}

/**
 * Hysteresis: after a poor (or lost) level, report at most fair until `recoverSamples` good
 * samples in a row, so that a client stepping its sending back up does it one step at a time.
 */
export function damped(raw: QualityLevel | null, goodStreak: number, recovering: boolean, t: Config['quality']): QualityLevel | null {
  if (raw !== 'good' || !recovering) return raw;
  return goodStreak >= t.recoverSamples ? 'good' : 'fair';
}

/**
 * One direction's recovery after a poor (or lost) level: `recovering` from then until
 * `recoverSamples` good samples in a row. The downlink holds its video down while it recovers; the
 * uplink reports at most fair (see `damped`).
 */
export class Recovery {
  recovering = false;
  goodStreak = 0;

  observe(level: QualityLevel | null, t: Config['quality']): void {
    if (level === 'poor' || level === 'lost') {
      this.recovering = true;
      this.goodStreak = 0;
    } else if (level === 'good') {
      this.goodStreak++;
      if (this.goodStreak >= t.recoverSamples) this.recovering = false;
    } else {
      this.goodStreak = 0;
    }
  }
}

/** RTCP's fraction lost is 8 bits (0–255 of 256): as a percentage. */
export const fractionToPct = (fraction: number) => (fraction / 256) * 100;
