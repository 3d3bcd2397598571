import type { types } from 'mediasoup';
import type { NotificationData, NotificationMethod, PeerInfo, Role, ServerMethod, ServerRequestData, Source } from '../../protocol/schema.js';
import type { TokenClaims } from '../auth/tokens.js';
import type { RateLimiter } from '../util/rateLimiter.js';
import type { ConsumerData, ProducerData, TransportData } from './appData.js';
import { applyLayers } from './layers.js';
import { PeerView } from './peerView.js';
import type { RoomRouter } from './roomRouters.js';

/** The peer's side of its signaling connection, as rooms see it. */
export interface PeerSink {
  notify<M extends NotificationMethod>(method: M, data: NotificationData<M>): void;
  request<M extends ServerMethod>(method: M, data: ServerRequestData<M>): Promise<unknown>;
  close(code: number, reason: string): void;
}

/**
 * One participant. Owns its transports (and through them its producers and consumers); `close()`
 * is the one place they are released. Its state is read by all, and changed only through the
 * methods below, each named for what it does.
 */
export class Peer {
  readonly userId: string;
  readonly name: string;
  readonly role: Role;
  readonly transports = new Map<string, types.WebRtcTransport<TransportData>>();
  readonly producers = new Map<string, types.Producer<ProducerData>>();
  readonly consumers = new Map<string, types.Consumer<ConsumerData>>();
  /** Producer ids with a consumer being created, so two triggers do not consume twice. */
  readonly consuming = new Set<string>();
  /** What its page shows (setView): which videos it receives. */
  readonly view = new PeerView();
  private currentSink: PeerSink | null;
  private capabilities: types.RtpCapabilities | undefined;
  private placedOn: RoomRouter | undefined;
  private graceTimer: NodeJS.Timeout | undefined;
  private gone = false;
  private handSince: number | null = null;
  private floorGiven = false;
  private heldDown = false;

  constructor(
    readonly id: string,
    readonly sessionToken: string,
    claims: TokenClaims,
    sink: PeerSink,
    /** Chat messages this peer may send: its own bucket, apart from the socket's request limit. */
    readonly chatLimiter: RateLimiter,
    /** The layers it receives changed (its downlink held down or released): dynacast looks again. */
    private readonly layersChanged: () => void = () => undefined,
  ) {
    this.userId = claims.sub;
    this.name = claims.name;
    this.role = claims.role;
    this.currentSink = sink;
  }

  /** Its connection; null while it is away (awaiting resume). */
  get sink(): PeerSink | null {
    return this.currentSink;
  }

  get closed(): boolean {
    return this.gone;
  }

  /** What its browser can receive (setRtpCapabilities); none yet: nothing is consumed for it. */
  get rtpCapabilities(): types.RtpCapabilities | undefined {
    return this.capabilities;
  }

  setRtpCapabilities(capabilities: types.RtpCapabilities): void {
    this.capabilities = capabilities;
  }

  /** The room's router its transports live on (set at its first transport). */
  get home(): RoomRouter | undefined {
    return this.placedOn;
  }

  settleOn(home: RoomRouter): void {
    this.placedOn = home;
  }

  /** Returns the router it leaves, for the room to give the place back. */
  leaveHome(): RoomRouter | undefined {
    const home = this.placedOn;
    this.placedOn = undefined;
    return home;
  }

  /** A connection for this peer (a resumed session): returns the one it replaces, if any. */
  attach(sink: PeerSink): PeerSink | null {
    clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
    const previous = this.currentSink;
    this.currentSink = sink;
    return previous;
  }

  /**
   * `sink` dropped: the peer waits `graceMs` for a resume, then `expire` runs. False when `sink` is
   * no longer its connection (resumed elsewhere) or the peer is gone.
   */
  detach(sink: PeerSink, graceMs: number, expire: () => void): boolean {
    if (this.currentSink !== sink || this.gone) return false;
    this.currentSink = null;
    this.graceTimer = setTimeout(expire, graceMs);
    this.graceTimer.unref();
    return true;
  }

  /** When the hand went up (ms since the epoch), or null. */
  get handRaisedAt(): number | null {
    return this.handSince;
  }

  /** False when it was up already: it keeps its place in the queue. */
  raiseHand(): boolean {
    if (this.handSince !== null) return false;
    this.handSince = Date.now();
    return true;
  }

  /** False when it was down already. */
  lowerHand(): boolean {
    if (this.handSince === null) return false;
    this.handSince = null;
    return true;
  }

  /** The teacher let this student unmute whatever the room's policy says. */
  get speakAllowed(): boolean {
    return this.floorGiven;
  }

  /** False when nothing changed. */
  allowSpeak(allowed: boolean): boolean {
    if (this.floorGiven === allowed) return false;
    this.floorGiven = allowed;
    return true;
  }

  /** Whether the video layers this peer receives are held down now (see layers.ts). */
  get downlinkCapped(): boolean {
    return this.heldDown;
  }

  /** Holds down or releases every video this peer receives. */
  async holdDownlink(held: boolean): Promise<void> {
    if (this.heldDown === held) return;
    this.heldDown = held;
    this.layersChanged();
    await Promise.all([...this.consumers.values()].map((c) => applyLayers(c, held)));
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
      handRaisedAt: this.handSince,
      speakAllowed: this.floorGiven,
    };
  }

  /** The receive transport consumers go on: the newest open one. */
  recvTransport(): types.WebRtcTransport<TransportData> | undefined {
    return [...this.transports.values()].reverse().find((t) => t.appData.direction === 'recv' && !t.closed);
  }

  notify<M extends NotificationMethod>(method: M, data: NotificationData<M>): void {
    this.currentSink?.notify(method, data);
  }

  close(): void {
    if (this.gone) return;
    this.gone = true;
    clearTimeout(this.graceTimer);
    // Closing a transport closes its producers and consumers in the worker and fires their
    // 'transportclose' handlers, which empty the maps below.
    for (const t of this.transports.values()) t.close();
    this.transports.clear();
    this.producers.clear();
    this.consumers.clear();
  }
}
