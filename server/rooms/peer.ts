import type { types } from 'mediasoup';
import type { NetworkQuality, NotificationData, NotificationMethod, PeerInfo, ServerMethod, ServerRequestData } from '../../protocol/schema.js';
import type { TokenClaims } from '../auth/tokens.js';
import { Recovery } from '../quality/levels.js';
import { RateLimiter } from '../util/rateLimiter.js';
import type { RoomRouter } from './roomRouters.js';

export type Source = 'mic' | 'cam' | 'screen';
export type Direction = 'send' | 'recv';

/** The peer's side of its signaling connection, as rooms see it. */
export interface PeerSink {
  notify<M extends NotificationMethod>(method: M, data: NotificationData<M>): void;
  request<M extends ServerMethod>(method: M, data: ServerRequestData<M>): Promise<unknown>;
  close(code: number, reason: string): void;
}

export interface ProducerData {
  peerId: string;
  source: Source;
  [key: string]: unknown;
}
export interface ConsumerData {
  /** The peer whose producer this consumes. */
  peerId: string;
  source: Source;
  /** Whether the client confirmed it has the consumer (only then is it resumed). */
  acked: boolean;
  /** The owner's role, for priorities (the teacher's video first). */
  ownerRole: string;
  /** The spatial layer the client asked for (setConsumerPreferredLayers); none: the best. */
  preferredSpatial?: number;
  [key: string]: unknown;
}
export interface TransportData {
  direction: Direction;
  [key: string]: unknown;
}

/**
 * One participant. Owns its transports (and through them its producers and consumers); `close()`
 * is the one place they are released.
 */
export class Peer {
  readonly userId: string;
  readonly name: string;
  readonly role: TokenClaims['role'];
  sink: PeerSink | null;
  rtpCapabilities: types.RtpCapabilities | undefined;
  readonly transports = new Map<string, types.WebRtcTransport<TransportData>>();
  readonly producers = new Map<string, types.Producer<ProducerData>>();
  readonly consumers = new Map<string, types.Consumer<ConsumerData>>();
  /** Producer ids with a consumer being created, so two triggers do not consume twice. */
  readonly consuming = new Set<string>();
  /** The room's router its transports live on (set at its first transport). */
  home: RoomRouter | undefined;
  graceTimer: NodeJS.Timeout | undefined;
  closed = false;
  /** When the hand went up (ms since the epoch), or null. */
  handRaisedAt: number | null = null;
  /** The teacher let this student unmute whatever the room's policy says. */
  speakAllowed = false;
  /** The last network quality computed for this peer (see QualityMonitor). */
  quality: NetworkQuality | undefined;
  /** What the browser last reported of its sending: round trip and loss. */
  clientReport: { rttMs: number | null; lossPct: number | null; bandwidthLimitedPct: number | null; availableOutgoingBitrate: number | null; jitterMs: number | null; at: number } | undefined;
  /** Whether the video layers this peer receives are held down now (see quality/adaptation.ts). */
  downlinkCapped = false;
  /** Each direction's recovery after a poor level (see QualityMonitor). */
  readonly downlinkRecovery = new Recovery();
  readonly uplinkRecovery = new Recovery();

  constructor(
    readonly id: string,
    readonly sessionToken: string,
    claims: TokenClaims,
    sink: PeerSink,
    /** Chat messages this peer may send: its own bucket, apart from the socket's request limit. */
    readonly chatLimiter: RateLimiter,
  ) {
    this.userId = claims.sub;
    this.name = claims.name;
    this.role = claims.role;
    this.sink = sink;
  }

  producerBySource(source: Source): types.Producer<ProducerData> | undefined {
    for (const p of this.producers.values()) if (p.appData.source === source) return p;
    return undefined;
  }

  info(): PeerInfo {
    return {
      id: this.id,
      userId: this.userId,
      name: this.name,
      role: this.role,
      producers: [...this.producers.values()].map((p) => ({
        id: p.id,
        kind: p.kind,
        source: p.appData.source,
        paused: p.paused,
      })),
      handRaisedAt: this.handRaisedAt,
      speakAllowed: this.speakAllowed,
    };
  }

  /** The receive transport consumers go on: the newest open one. */
  recvTransport(): types.WebRtcTransport<TransportData> | undefined {
    return [...this.transports.values()].reverse().find((t) => t.appData.direction === 'recv' && !t.closed);
  }

  notify<M extends NotificationMethod>(method: M, data: NotificationData<M>): void {
    this.sink?.notify(method, data);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.graceTimer);
    // Closing a transport closes its producers and consumers in the worker and fires their
    // 'transportclose' handlers, which empty the maps below.
    for (const t of this.transports.values()) t.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
  }
}
