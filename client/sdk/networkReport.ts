import type { types } from 'mediasoup-client';
import type { SignalingSocket } from '../../protocol/client.js';

/** The fields of the browser's RTCStats the network report reads. */
interface NetStats {
  type: string;
  kind?: string;
  roundTripTime?: number;
  fractionLost?: number;
  nominated?: boolean;
  availableOutgoingBitrate?: number;
  jitter?: number;
  qualityLimitationDurations?: Record<string, number>;
}

/** The transports to measure, and whether anything flows on them. */
export interface MeasuredMedia {
  send(): types.Transport | undefined;
  recv(): types.Transport | undefined;
  sending(): boolean;
  receiving(): boolean;
}

const reportIntervalMs = 2000;
/** How long the encoder's bandwidth limitation is left out after we asked it for more. */
const settleMs = 6000;

/**
 * Tells the server, every 2 s, what the browser measures: of its sending, the round trip and loss
 * from the server's receiver reports and how long bandwidth held its encoder back (except while it
 * settles, see `settle`); of what it receives, the jitter. Best effort.
 */
export class NetworkReporter {
  private timer: ReturnType<typeof setInterval> | undefined;
  /** The cumulative limitation durations at the last report. */
  private lastLimitation: { limited: number; total: number } | undefined;
  /** Until when the bandwidth limitation is left out. */
  private settleUntil = 0;

  constructor(
    private readonly socket: SignalingSocket,
    private readonly media: MeasuredMedia,
  ) {}

  start(): void {
    clearInterval(this.timer);
    this.lastLimitation = undefined;
    this.timer = setInterval(() => void this.report(), reportIntervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /**
   * We just asked the encoder for more (a new video, a layer turned back on): it is held back
   * until the bandwidth estimate has ramped up to it, which says nothing about the link (a 720p
   * layer needs about 1.3 Mbit/s in all). Counting that would rate a good uplink poor and take
   * the layer off again, over and over. Loss and round trip still speak for the link meanwhile.
   */
  settle(): void {
    this.settleUntil = Math.max(this.settleUntil, Date.now() + settleMs);
  }

  private async report(): Promise<void> {
    const t = this.media.send();
    if (!this.socket.connected) return;
    const stats = t && !t.closed && this.media.sending() ? await t.getStats().catch(() => undefined) : undefined;
    let jitter: number | null = null;
    const recv = this.media.recv();
    if (recv && !recv.closed && this.media.receiving()) {
      (await recv.getStats().catch(() => undefined))?.forEach((s: NetStats) => {
        if (s.type === 'inbound-rtp' && s.jitter !== undefined) jitter = Math.max(jitter ?? 0, s.jitter * 1000);
      });
    }
    if (!stats && jitter === null) return;
    const m = { rtt: null as number | null, loss: null as number | null, aob: null as number | null, limited: 0, total: 0 };
    stats?.forEach((s: NetStats) => {
      if (s.type === 'remote-inbound-rtp') {
        if (s.roundTripTime !== undefined) m.rtt = Math.max(m.rtt ?? 0, s.roundTripTime * 1000);
        if (s.fractionLost !== undefined) m.loss = Math.max(m.loss ?? 0, s.fractionLost * 100);
      } else if (s.type === 'candidate-pair' && s.nominated && s.availableOutgoingBitrate !== undefined) {
        m.aob = s.availableOutgoingBitrate;
      } else if (s.type === 'outbound-rtp' && s.kind === 'video' && s.qualityLimitationDurations) {
        // Simulcast layers share one encoder: the most limited stream speaks for it.
        const d = s.qualityLimitationDurations;
        const total = Object.values(d).reduce((a, b) => a + b, 0);
        if ((d.bandwidth ?? 0) >= m.limited) Object.assign(m, { limited: d.bandwidth ?? 0, total });
      }
    });
    // The durations are cumulative: the share of the time since the last report.
    const prev = this.lastLimitation;
    this.lastLimitation = { limited: m.limited, total: m.total };
    const span = prev ? m.total - prev.total : 0;
    const limitedPct = prev && span > 0 && Date.now() >= this.settleUntil ? Math.min(100, Math.max(0, ((m.limited - prev.limited) / span) * 100)) : null;
    await this.socket
      .request('reportNetwork', { rttMs: m.rtt, lossPct: m.loss, bandwidthLimitedPct: limitedPct, availableOutgoingBitrate: m.aob, jitterMs: jitter })
      .catch(() => undefined);
  }
}
