import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { types } from 'mediasoup';
import { closeCodes, type Direction, type MediaKind, type NotificationData, type NotificationMethod, type RoomPolicy, type Source } from '../../protocol/schema.js';
import type { TokenClaims } from '../auth/tokens.js';
import type { Config } from '../config/schema.js';
import { badRequest, conflict, forbidden, notFound, roomFull, unavailable } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { PoolWorker } from '../media/workerPool.js';
import { RateLimiter } from '../util/rateLimiter.js';
import type { ConsumerData, ProducerData, TransportData } from './appData.js';
import type { BanList } from './banList.js';
import { ChatLog } from './chatLog.js';
import { consume } from './consumption.js';
import { Peer, type PeerSink } from './peer.js';
import { Placement } from './placement.js';
import { RoomRouters, type RoomRouter, type WorkerChooser } from './roomRouters.js';

export interface RoomOptions {
  /** Sizes, chat limits and the policy a new room starts with. */
  limits: Config['rooms'];
  /** Users removed by a teacher (shared by all rooms of the registry). */
  bans: BanList;
  resumeGraceMs: number;
  /** Peers in every room of this process, for the node-wide limit (limits.nodeMaxPeers). */
  peersOnNode: () => number;
  logger: Logger;
  /** A transport's DTLS failed ('dtls') or its ICE got disconnected ('ice'), for metrics. */
  onTransportFailure?: (kind: 'dtls' | 'ice') => void;
  /** Where a room too big for one router opens its next one (the least loaded other worker). */
  chooseWorker: WorkerChooser;
  /** Called once the room has closed (empty, or its worker died). */
  onClose: (room: Room) => void;
}

/** What a room tells whoever follows it, as mediasoup's objects do on their `observer`. */
export type RoomEvents = {
  /** A producer was offered to the room's peers (after its produce answer went out). */
  newproducer: [{ peer: Peer; producer: types.Producer<ProducerData> }];
  /** The room is closing: its peers and routers are still there, and are closed right after. */
  close: [];
};

const sourceKind: Record<Source, MediaKind> = { mic: 'audio', cam: 'video', screen: 'video', screenAudio: 'audio' };
/** A client re-creating transports (ICE fallback) may briefly hold an old and a new one. */
const maxTransportsPerDirection = 2;

/**
 * One class: its routers (one, or one per worker for a class bigger than a core; see
 * RoomRouters), its peers, and the rules that tie their media together (who consumes what).
 * Every mediasoup object of the room hangs off its routers, so closing them releases all of it.
 */
export class Room {
  readonly peers = new Map<string, Peer>();
  readonly log: Logger;
  readonly observer = new EventEmitter<RoomEvents>();
  /** This class session: a room id reused later (a new Room) is another session. */
  readonly sessionId = randomUUID();
  /** The users who joined this session as teachers (their recordings stay theirs after it ends). */
  readonly teachers = new Set<string>();
  closed = false;
  policy: RoomPolicy;
  readonly chat: ChatLog;
  /** The peer the ActiveSpeakerObserver last named, for late joiners. */
  activeSpeaker: string | null = null;
  /** Users whose microphone this room has seen: only a student's first one starts muted. */
  private readonly micUsers = new Set<string>();
  private readonly placement: Placement;
  readonly routers: RoomRouters;
  /** The room's first router (speaker observer, recordings) and its worker. */
  readonly router: types.Router;
  readonly host: PoolWorker;

  private constructor(
    readonly id: string,
    routers: RoomRouters,
    private readonly speakerObserver: types.ActiveSpeakerObserver,
    private readonly opts: RoomOptions,
  ) {
    this.routers = routers;
    this.router = routers.primary.router;
    this.host = routers.primary.host;
    this.log = opts.logger.child({ room: id, worker: this.host.index });
    this.placement = new Placement(routers, this.peers, this.log);
    const l = opts.limits;
    this.policy = { locked: false, joinMuted: l.joinMuted, studentsMayUnmute: l.studentsMayUnmute, maxScreenShares: l.maxScreenShares };
    this.chat = new ChatLog(l.chatHistory, l.chatMaxLength);
    speakerObserver.on('dominantspeaker', ({ producer }) => {
      const peerId = (producer.appData as ProducerData).peerId;
      this.activeSpeaker = peerId;
      this.broadcast('activeSpeaker', { peerId });
    });
    this.router.on('workerclose', () => this.close('media worker closed'));
  }

  get limits(): Config['rooms'] {
    return this.opts.limits;
  }

  get bans(): BanList {
    return this.opts.bans;
  }

  static async create(id: string, host: PoolWorker, opts: RoomOptions): Promise<Room> {
    // The routers' events need the room, which needs the routers first.
    const made: { room?: Room } = {};
    const routers = await RoomRouters.open(host, {
      roomId: id,
      maxConsumers: opts.limits.routerMaxConsumers,
      chooseWorker: opts.chooseWorker,
      logger: opts.logger.child({ room: id }),
      onAdded: (rr) => made.room?.placement.pipeAll(rr),
      onLost: (rr) => made.room?.dropPeersOn(rr),
    });
    const speakerObserver = await routers.primary.router.createActiveSpeakerObserver({ interval: 300 });
    const room = new Room(id, routers, speakerObserver, opts);
    made.room = room;
    room.log.info({ session: room.sessionId }, 'room opened');
    return room;
  }

  // ---- Membership ----------------------------------------------------------------------------

  /**
   * A new participant. Teachers get in past the lock and the room's size limit: a class must not
   * lock out its own teacher. Nobody gets past the node's limit. A user has one peer per room: a
   * new join replaces the user's earlier session (another tab or device taking over), so one token
   * cannot fill a room. Synchronous from the checks to the insertion, so concurrent joins of one
   * user cannot both get in.
   */
  addPeer(claims: TokenClaims, sink: PeerSink): Peer {
    if (this.closed) throw conflict('room is closing; join again');
    const banned = this.opts.bans.remainingMs(this.id, claims.sub);
    if (banned > 0) throw forbidden(`removed from this class by the teacher; you may rejoin in ${Math.ceil(banned / 1000)} s`);
    const teacher = claims.role === 'teacher';
    if (this.policy.locked && !teacher) throw forbidden('the class is locked: no new participants');
    const l = this.opts.limits;
    const earlier = [...this.peers.values()].filter((p) => p.userId === claims.sub);
    if (this.peers.size - earlier.length >= l.maxPeers && !teacher) throw roomFull(`room ${this.id} is full (${l.maxPeers} participants)`);
    if (this.opts.peersOnNode() - earlier.length >= l.nodeMaxPeers) {
      throw unavailable(`this server is full (${l.nodeMaxPeers} participants in all its classes, SFU_MAX_PEERS); try again later`);
    }
    for (const old of earlier) {
      old.sink?.close(closeCodes.replaced, 'replaced: the same user joined this class on another connection');
      this.drop(old, 'replaced by a new join of the same user');
    }
    const peer = new Peer(randomUUID(), randomBytes(24).toString('base64url'), claims, sink, new RateLimiter(l.chatRatePerSec, l.chatBurst));
    this.broadcast('peerJoined', { peer: peer.info() });
    this.peers.set(peer.id, peer);
    if (teacher) this.teachers.add(claims.sub);
    this.log.info({ peer: peer.id, user: peer.userId, role: peer.role }, 'peer joined');
    return peer;
  }

  /** A resumed session: the same peer on a new socket. Unconfirmed consumers are re-offered. */
  resumePeer(peerId: string, sessionToken: string, userId: string, sink: PeerSink): Peer {
    const peer = this.peers.get(peerId);
    if (!peer || peer.sessionToken !== sessionToken || peer.userId !== userId) {
      throw notFound('no session to resume (expired or never existed); join afresh');
    }
    const previous = peer.attach(sink);
    previous?.close(4003, 'session resumed on another connection');
    for (const c of peer.consumers.values()) if (!c.appData.acked) c.close();
    this.log.info({ peer: peer.id }, 'peer resumed');
    return peer;
  }

  /** The socket dropped: keep the peer (and its media) for the grace period, then remove it. */
  detachPeer(peer: Peer, sink: PeerSink): void {
    const graceMs = this.opts.resumeGraceMs;
    // False when already resumed elsewhere, or gone.
    if (!peer.detach(sink, graceMs, () => this.removePeer(peer, 'resume grace period expired'))) return;
    this.log.info({ peer: peer.id, graceMs }, 'peer disconnected; awaiting resume');
  }

  removePeer(peer: Peer, reason: string): void {
    if (this.drop(peer, reason) && this.peers.size === 0) this.close('empty');
  }

  /** Removes a peer, leaving the room open even when it was the last (it is being replaced). */
  private drop(peer: Peer, reason: string): boolean {
    if (!this.peers.delete(peer.id)) return false;
    peer.close();
    this.placement.leave(peer);
    this.log.info({ peer: peer.id, reason }, 'peer left');
    this.broadcast('peerLeft', { peerId: peer.id });
    if (this.activeSpeaker === peer.id) {
      this.activeSpeaker = null;
      this.broadcast('activeSpeaker', { peerId: null });
    }
    return true;
  }

  /** `ended`: the teacher ended the class, and clients should not come back. */
  close(reason: string, opts: { ended?: boolean } = {}): void {
    if (this.closed) return;
    this.closed = true;
    const ended = opts.ended === true;
    // Before anything is released, so that followers finish with the media (a recording finalizes
    // its files: ffmpeg is told to finish, not killed).
    this.observer.emit('close');
    for (const peer of this.peers.values()) {
      if (reason !== 'empty') {
        peer.notify('roomClosed', { reason, ended });
        peer.sink?.close(ended ? closeCodes.classEnded : closeCodes.goingAway, `room closed: ${reason}`.slice(0, 120));
      }
      peer.close();
    }
    this.peers.clear();
    this.routers.close();
    this.log.info({ reason }, 'room closed');
    this.opts.onClose(this);
  }

  broadcast<M extends NotificationMethod>(method: M, data: NotificationData<M>, except?: Peer): void {
    for (const p of this.peers.values()) if (p !== except) p.notify(method, data);
  }

  // ---- Routers ------------------------------------------------------------------------------

  /**
   * Resolves whether `producer` can be consumed on the room's first router, where recordings
   * consume (piped there if its owner lives on another router).
   */
  pipeToFirstRouter(owner: Peer, producer: types.Producer<ProducerData>): Promise<boolean> {
    return this.placement.pipe(producer, owner, this.routers.primary);
  }

  /** A router other than the first went with its worker: its peers reconnect and are placed anew. */
  private dropPeersOn(rr: RoomRouter): void {
    for (const peer of [...this.peers.values()]) {
      if (peer.home !== rr) continue;
      peer.leaveHome(); // nothing to release: the router is gone
      peer.sink?.close(closeCodes.goingAway, 'media worker failed; reconnect to continue');
      this.removePeer(peer, 'media worker failed');
    }
  }

  // ---- Transports ----------------------------------------------------------------------------

  async createTransport(peer: Peer, direction: Direction): Promise<types.WebRtcTransport<TransportData>> {
    if (direction === 'send' && peer.role === 'observer') throw forbidden('observers cannot publish');
    const same = [...peer.transports.values()].filter((t) => t.appData.direction === direction);
    if (same.length >= maxTransportsPerDirection) {
      throw conflict(`already ${same.length} ${direction} transports; close one first (closeTransport)`);
    }
    const home = await this.placement.homeOf(peer);
    const transport = await home.router.createWebRtcTransport<TransportData>({
      webRtcServer: home.host.webRtcServer,
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: 1_000_000,
      appData: { direction },
    });
    // Re-checked after the wait: the peer may have left, or its previous socket (a resumed
    // session) may have added one meanwhile.
    const now = [...peer.transports.values()].filter((t) => t.appData.direction === direction).length;
    if (peer.closed || now >= maxTransportsPerDirection) {
      transport.close();
      throw peer.closed ? notFound('peer left') : conflict(`already ${now} ${direction} transports; close one first (closeTransport)`);
    }
    peer.transports.set(transport.id, transport);
    transport.observer.once('close', () => peer.transports.delete(transport.id));
    transport.on('dtlsstatechange', (state) => {
      if (state === 'failed' || state === 'closed') this.log.warn({ peer: peer.id, transport: transport.id, state }, 'DTLS state');
      if (state === 'failed') this.opts.onTransportFailure?.('dtls');
    });
    transport.on('icestatechange', (state) => {
      if (state === 'disconnected') this.opts.onTransportFailure?.('ice');
    });
    if (direction === 'send') await transport.setMaxIncomingBitrate(5_000_000);
    return transport;
  }

  transportOf(peer: Peer, transportId: string): types.WebRtcTransport<TransportData> {
    const t = peer.transports.get(transportId);
    if (!t) throw notFound(`transport ${transportId} not found`);
    return t;
  }

  // ---- Producers -----------------------------------------------------------------------------

  async produce(
    peer: Peer,
    req: { transportId: string; kind: MediaKind; rtpParameters: types.RtpParameters; source: Source; paused?: boolean | undefined },
  ): Promise<types.Producer<ProducerData>> {
    if (peer.role === 'observer') throw forbidden('observers cannot publish');
    const transport = this.transportOf(peer, req.transportId);
    if (transport.appData.direction !== 'send') throw badRequest('produce needs a send transport');
    if (sourceKind[req.source] !== req.kind) throw badRequest(`source ${req.source} must be ${sourceKind[req.source]}`);
    const same = peer.producerBySource(req.source);
    if (same) throw conflict(`already publishing ${req.source} (producer ${same.id})`);
    const publishers = [...this.peers.values()].filter((p) => p.producers.size > 0).length;
    const max = this.opts.limits.maxPublishers;
    if (peer.producers.size === 0 && publishers >= max && peer.role !== 'teacher') {
      throw roomFull(`the room has its maximum of ${max} publishers; you can still watch and listen`);
    }
    if (req.source === 'screen') {
      const shares = [...this.peers.values()].filter((p) => p.producerBySource('screen')).length;
      if (shares >= this.policy.maxScreenShares) throw conflict(`${shares} screen share(s) running, the most this class allows; ask the teacher`);
    }
    // A student's microphone starts muted when it is their first in this room and the policy says
    // so, or whenever they may not unmute themselves.
    const muteMic = req.source === 'mic' && peer.role === 'student' && ((this.policy.joinMuted && !this.micUsers.has(peer.userId)) || !this.mayUnmute(peer));
    const producer = await transport.produce<ProducerData>({
      kind: req.kind,
      rtpParameters: req.rtpParameters,
      paused: (req.paused ?? false) || muteMic,
      appData: { peerId: peer.id, source: req.source },
    });
    // The peer left (or was replaced) while the worker created it: its transport closed before
    // the producer existed here, so nothing else would release it. Or a request of the peer's
    // previous socket (a resumed session) published the same source meanwhile.
    const duplicate = peer.producerBySource(req.source);
    if (peer.closed || transport.closed || duplicate) {
      producer.close();
      if (duplicate) throw conflict(`already publishing ${req.source} (producer ${duplicate.id})`);
      throw notFound(peer.closed ? 'peer left' : `transport ${transport.id} closed`);
    }
    peer.producers.set(producer.id, producer);
    producer.observer.once('close', () => peer.producers.delete(producer.id));
    // Piped at once to every other router of the room, so that its consumers there need not wait.
    for (const rr of this.routers.all) if (rr !== peer.home) void this.placement.pipe(producer, peer, rr);
    // Only while the peer and the room stay (a dying worker closes the router first): when they
    // go, the client keeps its tracks to publish again wherever it rejoins.
    producer.on('transportclose', () => {
      if (!peer.closed && !this.router.closed) peer.notify('producerClosed', { producerId: producer.id });
    });
    if (req.source === 'mic') this.micUsers.add(peer.userId);
    if (producer.kind === 'audio') {
      // The observer sits on the first router: it hears another router's producer through its pipe.
      if (await this.placement.pipe(producer, peer, this.routers.primary)) {
        await this.speakerObserver.addProducer({ producerId: producer.id }).catch(() => undefined);
      }
    }
    this.log.info({ peer: peer.id, producer: producer.id, source: req.source, simulcast: producer.type }, 'producer created');
    return producer;
  }

  /** After the produce answer went out: offer the new producer to everyone else. */
  offerProducer(owner: Peer, producer: types.Producer<ProducerData>): void {
    for (const peer of this.peers.values()) {
      if (peer !== owner) void consume(this.placement, this.log, peer, owner, producer);
    }
    this.observer.emit('newproducer', { peer: owner, producer });
  }

  producerOf(peer: Peer, producerId: string): types.Producer<ProducerData> {
    const p = peer.producers.get(producerId);
    if (!p) throw notFound(`producer ${producerId} not found`);
    return p;
  }

  /** Whether a peer may unmute its microphone itself. */
  mayUnmute(peer: Peer): boolean {
    return peer.role !== 'student' || this.policy.studentsMayUnmute || peer.speakAllowed;
  }

  async setProducerPaused(peer: Peer, producerId: string, paused: boolean): Promise<void> {
    const producer = this.producerOf(peer, producerId);
    if (!paused && producer.appData.source === 'mic' && !this.mayUnmute(peer)) {
      throw forbidden('students may not unmute themselves in this class; raise your hand and wait for the teacher');
    }
    if (paused) await producer.pause();
    else await producer.resume();
    this.broadcast(paused ? 'producerPaused' : 'producerResumed', { peerId: peer.id, producerId }, peer);
  }

  // ---- Consumers -----------------------------------------------------------------------------

  /** Consumes every producer of the others that this peer does not consume yet. */
  consumeMissing(peer: Peer): void {
    for (const owner of this.peers.values()) {
      if (owner === peer) continue;
      for (const producer of owner.producers.values()) void consume(this.placement, this.log, peer, owner, producer);
    }
  }

  consumerOf(peer: Peer, consumerId: string): types.Consumer<ConsumerData> {
    const c = peer.consumers.get(consumerId);
    if (!c) throw notFound(`consumer ${consumerId} not found`);
    return c;
  }
}
