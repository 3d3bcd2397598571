import type { QualityLevel } from '../../protocol/schema.js';

/** When the SDK turns video off by itself, and back on. */
export interface AudioOnlyTiming {
  /** The downlink poor or lost this long: audio only (default 10 s). */
  afterMs?: number;
  /** Then good this long: video again (default 5 s)... */
  backAfterMs?: number;
  /** ...twice as long each time it had to go back to audio only soon after, up to this (default 60 s). */
  maxBackAfterMs?: number;
}

/** Going back to audio only within this long of leaving it counts as flapping. */
const flapWindowMs = 60_000;

/**
 * Whether we receive audio only (no video but screen shares): the application's choice when it
 * made one, else the automatic one, which follows our downlink as the server rates it. A downlink
 * that stays poor or lost for a while switches to audio only; one good again for a while switches
 * back. A link that only copes without video would flap: each quick relapse doubles the wait.
 */
export class AudioOnlySwitch {
  private readonly enabled: boolean;
  private manual: boolean | null = null;
  private auto = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** What the running timer waits for: bad (to switch on) or good (to switch off). */
  private waitingFor: 'bad' | 'good' | undefined;
  private readonly afterMs: number;
  private readonly baseBackMs: number;
  private readonly maxBackMs: number;
  private backMs: number;
  private leftAt = -Infinity;

  constructor(
    /** null: no automatic switch. */
    timing: AudioOnlyTiming | null,
    /** The effective state changed; `auto`: the SDK decided it. */
    private readonly changed: (on: boolean, auto: boolean) => void,
  ) {
    this.enabled = timing !== null;
    this.afterMs = timing?.afterMs ?? 10_000;
    this.baseBackMs = this.backMs = timing?.backAfterMs ?? 5000;
    this.maxBackMs = Math.max(this.baseBackMs, timing?.maxBackAfterMs ?? 60_000);
  }

  /** Receiving audio only now. */
  get on(): boolean {
    return this.manual ?? this.auto;
  }

  /** Whether the SDK chose the current state (no choice of the application's holds). */
  get automatic(): boolean {
    return this.manual === null;
  }

  /** The application's choice (null: let the SDK decide again). */
  set(manual: boolean | null): void {
    const was = this.on;
    this.manual = manual;
    if (this.on !== was) this.changed(this.on, manual === null);
  }

  /**
   * Our downlink as the server rated it (on changes only: a level holds until the next). Fair is
   * in between: it does not end a bad streak (a link on the edge flickers between poor and fair),
   * and it ends a good one (video comes back only on a link that stays good).
   */
  downlink(level: QualityLevel | null): void {
    if (!this.enabled || level === null) return;
    const bad = level === 'poor' || level === 'lost';
    if (this.auto) {
      if (level === 'good') this.wait('good', this.backMs);
      else this.stop();
    } else if (bad) this.wait('bad', this.afterMs);
    else if (level === 'good') this.stop();
  }

  /** Out of the class: start afresh next time. */
  reset(): void {
    this.stop();
    const was = this.on;
    this.auto = false;
    this.backMs = this.baseBackMs;
    if (this.on !== was) this.changed(this.on, true);
  }

  private wait(what: 'bad' | 'good', ms: number): void {
    if (this.waitingFor === what) return; // the streak goes on
    this.stop();
    this.waitingFor = what;
    this.timer = setTimeout(() => {
      this.waitingFor = this.timer = undefined;
      this.flip(what === 'bad');
    }, ms);
  }

  private flip(on: boolean): void {
    const was = this.on;
    const now = Date.now();
    if (on) this.backMs = now - this.leftAt < flapWindowMs ? Math.min(this.maxBackMs, this.backMs * 2) : this.baseBackMs;
    else this.leftAt = now;
    this.auto = on;
    if (this.on !== was) this.changed(this.on, true);
  }

  private stop(): void {
    clearTimeout(this.timer);
    this.waitingFor = this.timer = undefined;
  }
}
