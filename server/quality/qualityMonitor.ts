import type { types } from 'mediasoup';
import type { ClientRequestData, NetworkQuality } from '../../protocol/schema.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import type { Peer } from '../rooms/peer.js';
import type { Room } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/roomRegistry.js';
import { damped, fractionToPct, qualityLevel, Recovery } from './levels.js';

/** Streams sampled per peer and direction each round: bounds the stats traffic to the worker in big rooms. */
const maxStreamsSampled = 4;
/** A client report older than this no longer counts. */
const reportMaxAgeMs = 15_000;

type SendStats = { type: string; fractionLost: number; roundTripTime?: number; jitter?: number };

/** What the browser reports of its sending (reportNetwork): round trip and loss. */
export type ClientReport = ClientRequestData<'reportNetwork'>;

/** What the monitor keeps of one peer between rounds. */
interface PeerLink {
  /** The last network quality computed for this peer. */
  quality?: NetworkQuality;
  /** The client's last report, and when it came. */
  report?: ClientReport & { at: number };
  /** Each direction's recovery after a poor level. */
  readonly uplink: Recovery;
  readonly downlink: Recovery;
}

/**
 * Samples every peer's transports, producers and consumers, computes its uplink and downlink
 * quality levels, tells the peer and the room's teachers when a level changes, and adapts: a poor
 * downlink holds received video layers down until it recovers (Peer.holdDownlink, see
 * rooms/layers.ts); a poor uplink is the client's cue to send less.
 */
export class QualityMonitor {
  /** Per peer, gone with it. */
  private readonly links = new WeakMap<Peer, PeerLink>();
  private timer: NodeJS.Timeout | undefined;
  private round = 0;
  private running = false;

  constructor(
    private readonly rooms: RoomRegistry,
    private readonly cfg: Config['quality'],
    private readonly log: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.sampleAll(), this.cfg.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The last network quality computed for this peer, if any. */
  current(peer: Peer): NetworkQuality | undefined {
    return this.links.get(peer)?.quality;
  }

  /** What the peer's browser reports of its sending; counts in the next rounds while fresh. */
  noteReport(peer: Peer, report: ClientReport): void {
    this.linkOf(peer).report = { ...report, at: Date.now() };
  }

  /** Sends `to` everyone else's current levels (a teacher joining missed the changes so far). */
  sendCurrentLevels(room: Room, to: Peer): void {
    for (const p of room.peers.values()) {
      const q = this.current(p);
      if (q && p !== to) to.notify('networkQuality', q);
    }
  }

  /** One round over every room; a round still running when the next is due is not doubled. */
  async sampleAll(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.round++;
    try {
      for (const room of this.rooms.all()) {
        for (const peer of [...room.peers.values()]) {
          if (room.closed) break;
          await this.samplePeer(room, peer).catch((err: unknown) => this.log.debug({ err, peer: peer.id }, 'quality sample failed'));
        }
      }
    } finally {
      this.running = false;
    }
  }

  private linkOf(peer: Peer): PeerLink {
    let link = this.links.get(peer);
    if (!link) {
      link = { uplink: new Recovery(), downlink: new Recovery() };
      this.links.set(peer, link);
    }
    return link;
  }

  private async samplePeer(room: Room, peer: Peer): Promise<void> {
    if (peer.closed) return;
    const link = this.linkOf(peer);
    const recv = peer.recvTransport();
    const consumers = this.rotate([...peer.consumers.values()].filter((c) => !c.paused && !c.producerPaused));
    const producers = this.rotate([...peer.producers.values()].filter((p) => !p.paused));

    // Downlink: what the browser reports back (RTCP receiver reports) on what we send it.
    let downRtt: number | null = null;
    let downLoss: number | null = null;
    for (const c of consumers) {
      for (const s of (await c.getStats()) as SendStats[]) {
        if (s.type !== 'outbound-rtp') continue;
        downLoss = Math.max(downLoss ?? 0, fractionToPct(s.fractionLost));
        if (s.roundTripTime) downRtt = Math.max(downRtt ?? 0, s.roundTripTime);
      }
    }
    let availableBitrate: number | null = null;
    if (recv && !recv.closed) {
      const [t] = (await recv.getStats()) as { availableOutgoingBitrate?: number }[];
      availableBitrate = t?.availableOutgoingBitrate ?? null;
    }

    // Uplink: the loss mediasoup sees on what the browser sends, and the browser's own round trip.
    let upLoss: number | null = null;
    let upRtt: number | null = null;
    let upJitter: number | null = null;
    for (const p of producers) {
      const clockRate = p.rtpParameters.codecs[0]?.clockRate ?? 90_000;
      for (const s of (await p.getStats()) as SendStats[]) {
        upLoss = Math.max(upLoss ?? 0, fractionToPct(s.fractionLost));
        if (s.roundTripTime) upRtt = Math.max(upRtt ?? 0, s.roundTripTime);
        // RFC 3550 jitter, in RTP timestamp units.
        if (s.jitter !== undefined) upJitter = Math.max(upJitter ?? 0, (s.jitter / clockRate) * 1000);
      }
    }
    const report = link.report && Date.now() - link.report.at < reportMaxAgeMs ? link.report : undefined;
    if (report?.rttMs != null) upRtt = Math.max(upRtt ?? 0, report.rttMs);
    if (report?.lossPct != null && producers.length > 0) upLoss = Math.max(upLoss ?? 0, report.lossPct);
    const limitedPct = producers.some((p) => p.kind === 'video') ? (report?.bandwidthLimitedPct ?? null) : null;

    const send = [...peer.transports.values()].find((t) => t.appData.direction === 'send' && !t.closed);
    const down = qualityLevel({ lost: isLost(recv) && consumers.length > 0, rttMs: downRtt, lossPct: consumers.length ? downLoss : null }, this.cfg);
    const upRaw = qualityLevel({ lost: isLost(send) && producers.length > 0, rttMs: producers.length ? upRtt : null, lossPct: producers.length ? upLoss : null, limitedPct }, this.cfg);
    link.uplink.observe(upRaw, this.cfg);
    const up = damped(upRaw, link.uplink.goodStreak, link.uplink.recovering, this.cfg);
    const rtt = downRtt ?? upRtt;
    const q: NetworkQuality = {
      peerId: peer.id,
      uplink: up,
      downlink: down,
      rttMs: rtt === null ? null : Math.round(rtt),
      uplinkLossPct: upLoss === null ? null : round1(upLoss),
      downlinkLossPct: downLoss === null ? null : round1(downLoss),
      uplinkJitterMs: upJitter === null ? null : round1(upJitter),
      downlinkJitterMs: report?.jitterMs != null && consumers.length > 0 ? round1(report.jitterMs) : null,
      availableBitrate,
    };
    // Poor or lost: hold video down now; back up only after `recoverSamples` good rounds in a row.
    link.downlink.observe(down, this.cfg);
    await peer.holdDownlink(link.downlink.recovering);
    const before = link.quality;
    link.quality = q;
    if (before?.uplink === q.uplink && before?.downlink === q.downlink) return;
    this.log.info({ room: room.id, peer: peer.id, uplink: q.uplink, downlink: q.downlink, rttMs: q.rttMs, uplinkLossPct: q.uplinkLossPct, downlinkLossPct: q.downlinkLossPct }, 'network quality changed');
    peer.notify('networkQuality', q);
    for (const t of room.peers.values()) if (t.role === 'teacher' && t !== peer) t.notify('networkQuality', q);
  }

  /** A different slice of a long list each round, so every stream gets looked at. */
  private rotate<T>(items: T[]): T[] {
    if (items.length <= maxStreamsSampled) return items;
    const start = (this.round * maxStreamsSampled) % items.length;
    return [...items.slice(start), ...items.slice(0, start)].slice(0, maxStreamsSampled);
  }
}

const isLost = (t: types.WebRtcTransport | undefined) => t !== undefined && !t.closed && (t.iceState === 'disconnected' || t.dtlsState === 'failed');
const round1 = (n: number) => Math.round(n * 10) / 10;
