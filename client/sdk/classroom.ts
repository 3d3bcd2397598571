import { Device, type types } from 'mediasoup-client';
import type { ChatMessage, ClientRequestData, ClientResponseData, NetworkQuality, NotificationData, PeerInfo, QualityLevel, RoomPolicy, ServerRequestData } from '../../protocol/schema.js';
import { closeCodes } from '../../protocol/schema.js';
import { backoffDelay } from './backoff.js';
import { Emitter } from './emitter.js';
import { SignalingError, SignalingSocket } from './signaling.js';

export type Source = 'mic' | 'cam' | 'screen';
export type ConnectionState = 'new' | 'connecting' | 'connected' | 'reconnecting' | 'disconnected';

export interface ClassroomOptions {
  /**
   * WebSocket endpoint, e.g. `wss://sfu.school.example/ws`. In a cluster, any node's: a node that
   * does not serve the class redirects the join to the one that does (followed once), and this URL
   * stays the fallback when that node goes away.
   */
  url: string;
  /**
   * Access token (JWT) for one room, user and role, or a function that returns a fresh one: it is
   * called on every (re)connection, so a class can outlast one token's lifetime.
   */
  token: string | (() => string | Promise<string>);
  /** Publish the camera as 3 simulcast layers (default true). */
  simulcast?: boolean;
  /** Use only the TURN relay from the start (networks known to block everything else). */
  forceRelay?: boolean;
  /** ICE servers to use instead of those the server hands out. */
  iceServers?: RTCIceServer[];
  /** ICE restarts before a transport is re-created relay-only (default 3). */
  maxIceRestarts?: number;
}

export type TransportPath = 'direct' | 'relay';

export interface RemoteTrack {
  consumerId: string;
  peerId: string;
  source: Source;
  kind: 'audio' | 'video';
  track: MediaStreamTrack;
}

export type ClassroomEvents = {
  connectionState: [ConnectionState];
  joined: [{ peerId: string; role: string; peers: PeerInfo[] }];
  peerJoined: [PeerInfo];
  peerLeft: [string];
  track: [RemoteTrack];
  trackEnded: [RemoteTrack];
  trackPaused: [RemoteTrack];
  trackResumed: [RemoteTrack];
  layersChanged: [{ consumerId: string; spatialLayer: number | null; temporalLayer: number | null }];
  activeSpeaker: [string | null];
  /** A peer's hand or speak permission changed (also our own: compare with peerId). */
  peerUpdated: [PeerInfo];
  policy: [RoomPolicy];
  chat: [ChatMessage];
  /** Our own network quality (peerId is ours) or, for a teacher, a participant's. */
  networkQuality: [NetworkQuality];
  /**
   * The teacher muted or stopped one of our sources, or gave or took our right to unmute;
   * `policy: true` when it is the room's policy that muted a newly published microphone.
   */
  moderated: [NotificationData<'moderated'> & { policy?: boolean }];
  /** The teacher removed us; no reconnecting (the user is banned for banSeconds). */
  removed: [{ reason: string; banSeconds: number }];
  /** The teacher ended the class; no reconnecting. */
  classEnded: [{ reason: string }];
  /** The room's recording started, stopped, or failed (with the reason). */
  recording: [{ state: 'started' | 'stopped' | 'failed'; recordingId: string; reason?: string }];
  /** One of our own producers was closed by the server. */
  localSourceClosed: [Source];
  /** A transport's ICE connection state changed. */
  transportState: [{ direction: 'send' | 'recv'; state: string }];
  /** Which network path a connected transport uses: 'direct' or through the TURN relay. */
  transportPath: [{ direction: 'send' | 'recv'; path: TransportPath }];
  error: [Error];
};

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

/** Whether a transport's selected ICE candidate pair uses a local relay candidate (undefined: none selected). */
async function relayCandidateSelected(transport: types.Transport): Promise<boolean | undefined> {
  const stats = await transport.getStats();
  const byId = new Map<string, { type: string; candidateType?: string; localCandidateId?: string; selectedCandidatePairId?: string; state?: string; nominated?: boolean }>();
  stats.forEach((s) => byId.set(s.id, s));
  let pairId: string | undefined;
  for (const s of byId.values()) if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  if (!pairId) for (const [id, s] of byId) if (s.type === 'candidate-pair' && s.state === 'succeeded' && s.nominated) pairId = id;
  const pair = pairId ? byId.get(pairId) : undefined;
  const local = pair?.localCandidateId ? byId.get(pair.localCandidateId) : undefined;
  return local ? local.candidateType === 'relay' : undefined;
}

const simulcastEncodings: types.RtpEncodingParameters[] = [
  { scaleResolutionDownBy: 4, maxBitrate: 150_000, scalabilityMode: 'L1T3' },
  { scaleResolutionDownBy: 2, maxBitrate: 500_000, scalabilityMode: 'L1T3' },
  { scaleResolutionDownBy: 1, maxBitrate: 1_500_000, scalabilityMode: 'L1T3' },
];
/** A transport stuck in 'disconnected' or 'failed' gets an ICE restart this often until it recovers. */
const recoveryIntervalMs = 3000;
/** A relay-only transport not connected by then has no usable relay: say so instead of hanging. */
const relayDeadlineMs = 12_000;

/**
 * The browser SDK: joins a class, publishes camera / microphone / screen, delivers remote tracks,
 * and survives dropped sockets by resuming the session (same peer id) or, when the session is gone,
 * rejoining and re-publishing by itself.
 */
export class Classroom extends Emitter<ClassroomEvents> {
  readonly socket = new SignalingSocket();
  peerId: string | undefined;
  role: string | undefined;
  state: ConnectionState = 'new';
  readonly peers = new Map<string, PeerInfo>();
  /** The room's rules, as the teacher last set them. */
  policy: RoomPolicy | undefined;
  /** Chat messages, oldest first (history from the join, then live). */
  readonly chat: ChatMessage[] = [];
  /** Our own hand (ms since the epoch it went up, or null) and speak permission. */
  handRaisedAt: number | null = null;
  speakAllowed = false;
  activeSpeaker: string | null = null;
  /** Network quality by peer id: ours, and everyone's for a teacher. */
  readonly quality = new Map<string, NetworkQuality>();
  private reportTimer: ReturnType<typeof setInterval> | undefined;
  private lastLimitation: { limited: number; total: number } | undefined;
  private device: Device | undefined;
  private sendTransport: types.Transport | undefined;
  private recvTransport: types.Transport | undefined;
  private readonly producers = new Map<Source, types.Producer>();
  /** Producers the server created paused (a student joining muted), by id. */
  private readonly pausedByServer = new Set<string>();
  private readonly consumers = new Map<string, { consumer: types.Consumer; remote: RemoteTrack }>();
  private session: { peerId: string; sessionToken: string } | undefined;
  private leaving = false;
  private reconnectAttempt = 0;
  private reconnecting = false;
  /** join() is running: its own socket closes are not dropped connections. */
  private joining = false;
  /** Cluster: the node a redirect sent us to (undefined: the entry node, opts.url, serves us). */
  private originUrl: string | undefined;
  /** The next reconnect attempt goes to the entry node rather than the origin (they alternate). */
  private viaEntry = false;
  private recvReady: Promise<void> = Promise.resolve();
  private iceServers: RTCIceServer[] = [];
  private readonly relayOnly = { send: false, recv: false };
  /** Which path each connected transport uses. */
  readonly paths: { send?: TransportPath; recv?: TransportPath } = {};

  constructor(private readonly opts: ClassroomOptions) {
    super();
    this.socket.onServerRequest = (method, data) => this.onNewConsumer(data as ServerRequestData<typeof method>);
    this.socket.on('peerJoined', ({ peer }) => {
      this.peers.set(peer.id, peer);
      this.emit('peerJoined', peer);
    });
    this.socket.on('peerLeft', ({ peerId }) => this.dropPeer(peerId));
    this.socket.on('consumerClosed', ({ consumerId }) => this.dropConsumer(consumerId));
    this.socket.on('consumerPaused', ({ consumerId }) => {
      const c = this.consumers.get(consumerId);
      if (c) this.emit('trackPaused', c.remote);
    });
    this.socket.on('consumerResumed', ({ consumerId }) => {
      const c = this.consumers.get(consumerId);
      if (c) this.emit('trackResumed', c.remote);
    });
    this.socket.on('consumerLayersChanged', (d) => this.emit('layersChanged', d));
    this.socket.on('activeSpeaker', ({ peerId }) => {
      this.activeSpeaker = peerId;
      this.emit('activeSpeaker', peerId);
    });
    this.socket.on('peerUpdated', ({ peer }) => this.updatePeer(peer));
    this.socket.on('roomPolicy', ({ policy }) => {
      this.policy = policy;
      this.emit('policy', policy);
    });
    this.socket.on('chat', ({ message }) => this.addChat(message));
    this.socket.on('networkQuality', (q) => {
      this.quality.set(q.peerId, q);
      if (q.peerId === this.peerId) void this.adaptSending(q.uplink);
      this.emit('networkQuality', q);
    });
    this.socket.on('moderated', (m) => this.onModerated(m));
    this.socket.on('removed', (r) => {
      this.leaving = true; // the socket closes next: do not reconnect
      this.emit('removed', r);
    });
    this.socket.on('roomClosed', ({ reason, ended }) => {
      if (!ended) return; // a server going away: the reconnect loop handles it
      this.leaving = true;
      this.emit('classEnded', { reason });
    });
    this.socket.on('producerClosed', ({ producerId }) => {
      for (const [source, p] of this.producers) {
        if (p.id === producerId) {
          p.close();
          this.producers.delete(source);
          this.emit('localSourceClosed', source);
        }
      }
    });
    this.socket.on('recordingStarted', ({ recordingId }) => this.emit('recording', { state: 'started', recordingId }));
    this.socket.on('recordingStopped', ({ recordingId }) => this.emit('recording', { state: 'stopped', recordingId }));
    this.socket.on('recordingFailed', ({ recordingId, reason }) => this.emit('recording', { state: 'failed', recordingId, reason }));
    this.socket.on('error', ({ code, message }) => this.emit('error', new SignalingError(code, message)));
    this.socket.on('close', ({ code }) => this.onSocketClosed(code));
    // Closing the tab: say goodbye at once, so that the others do not wait out the resume grace.
    globalThis.addEventListener?.('pagehide', () => {
      if (this.session && this.socket.connected) {
        this.leaving = true;
        this.socket.request('leave', {}).catch(() => undefined);
      }
    });
  }

  /** Remote tracks currently received. */
  get remoteTracks(): RemoteTrack[] {
    return [...this.consumers.values()].map((c) => c.remote);
  }

  /** The local track published for a source, if any. */
  localTrack(source: Source): MediaStreamTrack | null {
    return this.producers.get(source)?.track ?? null;
  }

  /** The highest simulcast layer we currently send of a source (undefined: all, or not simulcast). */
  maxSendLayer(source: Source): number | undefined {
    return this.producers.get(source)?.maxSpatialLayer;
  }

  /** Whether our producer of a source is paused (muted by us, by the teacher, or on joining). */
  isPaused(source: Source): boolean {
    return this.producers.get(source)?.paused ?? false;
  }

  /** Rejects with the server's reason (forbidden: locked or removed; room_full...) and stays out. */
  async join(): Promise<void> {
    this.leaving = false;
    this.setState('connecting');
    this.joining = true;
    try {
      for (let attempt = 0; ; attempt++) {
        this.originUrl = undefined;
        this.viaEntry = false;
        try {
          await this.socket.connect(await this.wsUrl());
          await this.joinFresh();
          break;
        } catch (err) {
          this.socket.close(1000, 'join failed');
          if (!this.mayRetryJoin(err, attempt)) throw err;
          this.emit('error', err as Error); // not final: the application may say "still trying"
          this.teardownMedia(false);
          await new Promise((r) => setTimeout(r, backoffDelay(attempt)));
        }
      }
    } catch (err) {
      this.leaving = true; // not a dropped connection: no reconnecting
      this.stopForGood();
      throw err;
    } finally {
      this.joining = false;
    }
    this.setState('connected');
  }

  /**
   * A first join is tried again (3 times, with backoff) when the server answered but could not
   * take it now (`unavailable`: at capacity, or in a cluster its Redis briefly away), or when the
   * node a redirect named did not answer (it has just died, and the entry does not know yet). Any
   * other failure is final.
   */
  private mayRetryJoin(err: unknown, attempt: number): boolean {
    if (attempt >= 3 || !(err instanceof SignalingError)) return false;
    if (err.code === 'unavailable') return true;
    const afterRedirect = this.originUrl !== undefined;
    return afterRedirect && (err.code === 'disconnected' || err.code === 'timeout' || err.code === 'redirect');
  }

  async publishCamera(opts: { deviceId?: string } = {}): Promise<void> {
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, ...(opts.deviceId ? { deviceId: { exact: opts.deviceId } } : {}) },
    });
    await this.publishTrack('cam', stream.getVideoTracks()[0]!);
  }

  async publishMicrophone(opts: { deviceId?: string } = {}): Promise<void> {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: opts.deviceId ? { deviceId: { exact: opts.deviceId } } : true,
    });
    await this.publishTrack('mic', stream.getAudioTracks()[0]!);
  }

  async publishScreen(): Promise<void> {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    const track = stream.getVideoTracks()[0]!;
    track.addEventListener('ended', () => void this.unpublish('screen'));
    await this.publishTrack('screen', track);
  }

  /** Publishes a track the application already has (e.g. a canvas capture). */
  async publishTrack(source: Source, track: MediaStreamTrack): Promise<void> {
    if (!this.sendTransport) throw new SignalingError('forbidden', 'this role cannot publish');
    if (this.producers.has(source)) throw new SignalingError('conflict', `already publishing ${source}`);
    const producer = await this.sendTransport.produce({
      track,
      appData: { source },
      ...(source === 'cam' && this.opts.simulcast !== false ? { encodings: simulcastEncodings } : {}),
      ...(source === 'mic' ? { codecOptions: { opusStereo: false, opusDtx: true, opusFec: true } } : {}),
      ...(source !== 'mic' ? { codecOptions: { videoGoogleStartBitrate: 1000 } } : {}),
      stopTracks: false,
    });
    this.producers.set(source, producer);
    if (this.pausedByServer.delete(producer.id)) {
      producer.pause();
      this.emit('moderated', { action: 'muted', source, producerId: producer.id, policy: true });
    }
  }

  async mute(source: Source): Promise<void> {
    const p = this.producers.get(source);
    if (!p || p.paused) return;
    p.pause();
    await this.socket.request('pauseProducer', { producerId: p.id });
  }

  /** Refused with `forbidden` when the class does not let students unmute themselves. */
  async unmute(source: Source): Promise<void> {
    const p = this.producers.get(source);
    if (!p || !p.paused) return;
    await this.socket.request('resumeProducer', { producerId: p.id });
    p.resume();
  }

  async unpublish(source: Source): Promise<void> {
    const p = this.producers.get(source);
    if (!p) return;
    this.producers.delete(source);
    p.close();
    p.track?.stop();
    await this.socket.request('closeProducer', { producerId: p.id }).catch(() => undefined);
  }

  /** Switches the camera or microphone to another device without renegotiating. */
  async switchDevice(source: 'cam' | 'mic', deviceId: string): Promise<void> {
    const p = this.producers.get(source);
    if (!p) throw new SignalingError('not_found', `not publishing ${source}`);
    const constraints = source === 'cam' ? { video: { deviceId: { exact: deviceId } } } : { audio: { deviceId: { exact: deviceId } } };
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    const track = source === 'cam' ? stream.getVideoTracks()[0]! : stream.getAudioTracks()[0]!;
    const old = p.track;
    await p.replaceTrack({ track });
    old?.stop();
  }

  /** Asks the server for a lower or higher simulcast layer of a remote video (0 = lowest). */
  async setPreferredLayers(consumerId: string, spatialLayer: number, temporalLayer?: number): Promise<void> {
    await this.socket.request('setConsumerPreferredLayers', {
      consumerId,
      spatialLayer,
      ...(temporalLayer !== undefined ? { temporalLayer } : {}),
    });
  }

  async setPriority(consumerId: string, priority: number): Promise<void> {
    await this.socket.request('setConsumerPriority', { consumerId, priority });
  }

  /** The browser's own stats of a remote track (inbound-rtp and friends). */
  async getRemoteStats(consumerId: string): Promise<RTCStatsReport> {
    const c = this.consumers.get(consumerId);
    if (!c) throw new SignalingError('not_found', `no consumer ${consumerId}`);
    return c.consumer.getStats();
  }

  /** The server's stats of our transports. */
  async getTransportStats(): Promise<Record<'send' | 'recv', unknown[]>> {
    const get = async (t?: types.Transport) => (t ? (await this.socket.request('getTransportStats', { transportId: t.id })).stats : []);
    return { send: await get(this.sendTransport), recv: await get(this.recvTransport) };
  }

  /** Teacher only: record the class (every participant's media, to files on the server). */
  async startRecording(): Promise<string> {
    return (await this.socket.request('startRecording', {})).recordingId;
  }

  async stopRecording(): Promise<string> {
    return (await this.socket.request('stopRecording', {})).recordingId;
  }

  // ---- The class ------------------------------------------------------------------------------

  async raiseHand(): Promise<void> {
    await this.socket.request('raiseHand', {});
  }

  /** Lowers our hand, or (teacher) another peer's. */
  async lowerHand(peerId?: string): Promise<void> {
    await this.socket.request('lowerHand', peerId ? { peerId } : {});
  }

  async sendChat(text: string): Promise<ChatMessage> {
    const { message } = await this.socket.request('sendChat', { text });
    this.addChat(message);
    return message;
  }

  /** Peers with a raised hand, first raised first. */
  get handQueue(): PeerInfo[] {
    return [...this.peers.values()].filter((p) => p.handRaisedAt !== null).sort((a, b) => a.handRaisedAt! - b.handRaisedAt!);
  }

  // Teacher only (the server answers `forbidden` to anyone else).

  async setRoomPolicy(change: Partial<RoomPolicy>): Promise<RoomPolicy> {
    const { policy } = await this.socket.request('setRoomPolicy', change);
    this.policy = policy;
    return policy;
  }

  async mutePeer(peerId: string): Promise<void> {
    await this.socket.request('mutePeer', { peerId });
  }

  async muteAll(): Promise<number> {
    return (await this.socket.request('muteAll', {})).muted;
  }

  async stopPeerSource(peerId: string, source: Source): Promise<void> {
    await this.socket.request('stopPeerSource', { peerId, source });
  }

  async allowSpeak(peerId: string, allowed: boolean): Promise<void> {
    await this.socket.request('allowSpeak', { peerId, allowed });
  }

  async removePeer(peerId: string, reason?: string): Promise<void> {
    await this.socket.request('removePeer', reason ? { peerId, reason } : { peerId });
  }

  async endClass(): Promise<void> {
    await this.socket.request('endClass', {});
  }

  async leave(): Promise<void> {
    this.leaving = true;
    if (this.socket.connected) await this.socket.request('leave', {}).catch(() => undefined);
    this.socket.close(1000, 'left');
    this.stopForGood();
  }

  // ---- Joining and resuming ------------------------------------------------------------------

  /** The node to (re)connect to: the origin a redirect named, or the entry URL we were given. */
  get serverUrl(): string {
    return this.originUrl && !this.viaEntry ? this.originUrl : new URL(this.opts.url, location.href).toString();
  }

  private async wsUrl(base = this.serverUrl): Promise<string> {
    const u = new URL(base, location.href);
    u.searchParams.set('token', typeof this.opts.token === 'string' ? this.opts.token : await this.opts.token());
    return u.toString();
  }

  /**
   * Sends `join` and follows a cluster's redirect to the node that serves the class, once: a
   * second redirect (the class moved meanwhile) fails this attempt, and a reconnect starts again
   * from the entry URL.
   */
  private async requestJoin(data: ClientRequestData<'join'>): Promise<ClientResponseData<'join'>> {
    const hopping = data.redirected === true;
    try {
      const answer = await this.socket.request('join', data);
      if (!hopping) this.originUrl = this.viaEntry || !this.originUrl ? undefined : this.originUrl;
      this.viaEntry = false;
      return answer;
    } catch (err) {
      if (!(err instanceof SignalingError) || err.code !== 'redirect' || !err.redirect || hopping) throw err;
      this.originUrl = err.redirect.url;
      this.viaEntry = false;
      await this.socket.switchTo(await this.wsUrl(err.redirect.url));
      return this.requestJoin({ ...data, redirected: true });
    }
  }

  private async joinFresh(): Promise<void> {
    const answer = await this.requestJoin({});
    this.acceptJoin(answer);
    this.device = new Device();
    await this.device.load({ routerRtpCapabilities: answer.routerRtpCapabilities as types.RtpCapabilities });
    await this.socket.request('setRtpCapabilities', { rtpCapabilities: this.device.rtpCapabilities as never });
    this.iceServers = this.opts.iceServers ?? answer.iceServers;
    this.relayOnly.send = this.relayOnly.recv = this.opts.forceRelay === true;
    this.recvTransport = await this.createTransport('recv');
    if (answer.role !== 'observer') this.sendTransport = await this.createTransport('send');
    clearInterval(this.reportTimer);
    this.lastLimitation = undefined;
    this.reportTimer = setInterval(() => void this.reportNetwork(), 2000);
  }

  /**
   * Tells the server what the browser measures: of its sending, the round trip and loss from the
   * server's receiver reports and how long bandwidth held its encoder back; of what it receives,
   * the jitter. Best effort.
   */
  private async reportNetwork(): Promise<void> {
    const t = this.sendTransport;
    if (!this.socket.connected) return;
    const stats = t && !t.closed && this.producers.size > 0 ? await t.getStats().catch(() => undefined) : undefined;
    let jitter: number | null = null;
    const recv = this.recvTransport;
    if (recv && !recv.closed && this.consumers.size > 0) {
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
    const limitedPct = prev && span > 0 ? Math.min(100, Math.max(0, ((m.limited - prev.limited) / span) * 100)) : null;
    await this.socket
      .request('reportNetwork', { rttMs: m.rtt, lossPct: m.loss, bandwidthLimitedPct: limitedPct, availableOutgoingBitrate: m.aob, jitterMs: jitter })
      .catch(() => undefined);
  }

  /** A poor uplink: send less video (audio is left alone); back up as the link recovers. */
  private async adaptSending(uplink: QualityLevel | null): Promise<void> {
    const cam = this.producers.get('cam');
    const screen = this.producers.get('screen');
    const layer = uplink === 'poor' || uplink === 'lost' ? 0 : uplink === 'fair' ? 1 : 2;
    try {
      if (cam && !cam.closed && cam.rtpParameters.encodings && cam.rtpParameters.encodings.length > 1) await cam.setMaxSpatialLayer(layer);
      if (screen && !screen.closed) await screen.setRtpEncodingParameters(layer === 2 ? {} : { maxBitrate: layer === 0 ? 300_000 : 800_000 });
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  private acceptJoin(answer: ClientResponseData<'join'>): void {
    this.peerId = answer.peerId;
    this.role = answer.role;
    this.policy = answer.policy;
    this.activeSpeaker = answer.activeSpeaker;
    const known = new Set(this.chat.map((m) => m.seq));
    for (const m of answer.chat) if (!known.has(m.seq)) this.addChat(m);
    this.session = { peerId: answer.peerId, sessionToken: answer.sessionToken };
    const seen = new Set(answer.peers.map((p) => p.id));
    for (const id of [...this.peers.keys()]) if (!seen.has(id)) this.dropPeer(id);
    for (const p of answer.peers) {
      const known = this.peers.has(p.id);
      this.peers.set(p.id, p);
      if (!known) this.emit('peerJoined', p);
    }
    this.emit('joined', { peerId: answer.peerId, role: answer.role, peers: answer.peers });
  }

  private async createTransport(direction: 'send' | 'recv'): Promise<types.Transport> {
    let markReady = (): void => undefined;
    if (direction === 'recv') this.recvReady = new Promise((r) => (markReady = r));
    const info = await this.socket.request('createTransport', { direction });
    const relay = this.relayOnly[direction];
    const params = {
      ...(info as unknown as types.TransportOptions),
      iceServers: this.iceServers,
      ...(relay ? { iceTransportPolicy: 'relay' as const } : {}),
    };
    const transport = direction === 'send' ? this.device!.createSendTransport(params) : this.device!.createRecvTransport(params);
    transport.on('connect', ({ dtlsParameters }, ok, fail) => {
      this.socket.request('connectTransport', { transportId: transport.id, dtlsParameters: dtlsParameters as never }).then(ok, fail);
    });
    if (direction === 'send') {
      transport.on('produce', ({ kind, rtpParameters, appData }, ok, fail) => {
        this.socket
          .request('produce', { transportId: transport.id, kind, rtpParameters: rtpParameters as never, source: appData.source as Source })
          .then(({ producerId, paused }) => {
            if (paused) this.pausedByServer.add(producerId);
            ok({ id: producerId });
          }, fail);
      });
    }
    this.watchIce(transport, direction);
    markReady();
    return transport;
  }

  /**
   * Keeps a transport's path alive: while ICE is 'disconnected' or 'failed', restart ICE every few
   * seconds; after maxIceRestarts, re-create the transport relay-only (TURN). A relay-only transport
   * that cannot connect reports 'relay_unavailable' instead of hanging.
   */
  private watchIce(transport: types.Transport, direction: 'send' | 'recv'): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let restarts = 0;
    const maxRestarts = this.opts.maxIceRestarts ?? 3;
    const relayDeadline = this.relayOnly[direction]
      ? setTimeout(() => void this.reportRelayFailure(transport, direction), relayDeadlineMs)
      : undefined;
    const recover = async (): Promise<void> => {
      if (transport.closed || this.leaving) return;
      if (!this.socket.connected) {
        // Signaling is down too: the reconnect restores transports; check again later.
        timer = setTimeout(() => void recover(), recoveryIntervalMs);
        return;
      }
      try {
        if (restarts >= maxRestarts) {
          await this.recreateRelayOnly(direction); // the fresh transport gets its own watcher
          return;
        }
        restarts++;
        await this.restartIce(transport);
      } catch (err) {
        this.emit('error', err as Error);
      }
      timer = setTimeout(() => void recover(), recoveryIntervalMs);
    };
    transport.on('connectionstatechange', (state) => {
      this.emit('transportState', { direction, state });
      clearTimeout(timer);
      if (state === 'connected') {
        restarts = 0;
        clearTimeout(relayDeadline);
        void this.detectPath(transport, direction);
      } else if (state === 'failed') {
        void recover();
      } else if (state === 'disconnected') {
        timer = setTimeout(() => void recover(), recoveryIntervalMs);
      }
    });
    transport.observer.on('close', () => {
      clearTimeout(timer);
      clearTimeout(relayDeadline);
    });
  }

  private async restartIce(transport: types.Transport): Promise<void> {
    if (transport.closed || !this.socket.connected) return;
    try {
      const { iceParameters } = await this.socket.request('restartIce', { transportId: transport.id });
      await transport.restartIce({ iceParameters: iceParameters as types.IceParameters });
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  /** Reads the selected candidate pair: is the local side a TURN relay candidate? */
  private async detectPath(transport: types.Transport, direction: 'send' | 'recv'): Promise<void> {
    const path = await relayCandidateSelected(transport).catch(() => undefined);
    if (path === undefined || transport.closed) return;
    this.paths[direction] = path ? 'relay' : 'direct';
    this.emit('transportPath', { direction, path: this.paths[direction]! });
  }

  private async reportRelayFailure(transport: types.Transport, direction: 'send' | 'recv'): Promise<void> {
    if (transport.closed || transport.connectionState === 'connected') return;
    const stats = await transport.getStats().catch(() => undefined);
    let relayCandidates = 0;
    stats?.forEach((s: { type: string; candidateType?: string }) => {
      if (s.type === 'local-candidate' && s.candidateType === 'relay') relayCandidates++;
    });
    const why =
      this.iceServers.length === 0
        ? 'the server hands out no TURN server (SFU_TURN_SECRET unset)'
        : relayCandidates === 0
          ? 'no relay candidate was gathered: TURN credentials rejected or expired, or the TURN server unreachable'
          : 'relay candidates were gathered but none reached the SFU';
    this.emit('error', new SignalingError('relay_unavailable', `${direction} transport cannot connect through TURN: ${why}`));
  }

  /** Re-creates a transport relay-only, moving its media over: tracks re-published, consumers re-offered. */
  private async recreateRelayOnly(direction: 'send' | 'recv'): Promise<void> {
    const old = direction === 'send' ? this.sendTransport : this.recvTransport;
    if (!old || old.closed) return;
    this.relayOnly[direction] = true;
    const tracks = direction === 'send' ? [...this.producers.entries()].map(([source, p]) => ({ source, track: p.track, paused: p.paused })) : [];
    if (direction === 'send') {
      for (const p of this.producers.values()) p.close();
      this.producers.clear();
    } else {
      for (const id of [...this.consumers.keys()]) this.dropConsumer(id);
    }
    old.close();
    // Closing it on the server first releases its consumers, so that the new one is offered them.
    await this.socket.request('closeTransport', { transportId: old.id }).catch(() => undefined);
    const fresh = await this.createTransport(direction);
    if (direction === 'send') {
      this.sendTransport = fresh;
      for (const { source, track, paused } of tracks) {
        if (!track || track.readyState === 'ended') continue;
        await this.publishTrack(source, track);
        if (paused) await this.mute(source);
      }
    } else {
      this.recvTransport = fresh;
    }
  }

  private async onNewConsumer(data: ServerRequestData<'newConsumer'>): Promise<void> {
    await this.recvReady;
    const transport = this.recvTransport;
    if (!transport) throw new Error('no receive transport');
    const consumer = await transport.consume({
      id: data.id,
      producerId: data.producerId,
      kind: data.kind,
      rtpParameters: data.rtpParameters as types.RtpParameters,
    });
    const remote: RemoteTrack = { consumerId: consumer.id, peerId: data.peerId, source: data.source, kind: data.kind, track: consumer.track };
    this.consumers.set(consumer.id, { consumer, remote });
    this.emit('track', remote);
  }

  private updatePeer(peer: PeerInfo): void {
    if (peer.id === this.peerId) {
      this.handRaisedAt = peer.handRaisedAt;
      this.speakAllowed = peer.speakAllowed;
    } else {
      this.peers.set(peer.id, peer);
    }
    this.emit('peerUpdated', peer);
  }

  private addChat(message: ChatMessage): void {
    if (this.chat.some((m) => m.seq === message.seq)) return;
    this.chat.push(message);
    this.chat.sort((a, b) => a.seq - b.seq);
    if (this.chat.length > 500) this.chat.splice(0, this.chat.length - 500);
    this.emit('chat', message);
  }

  /** The server already paused or closed the producer; bring our side in line. */
  private onModerated(m: NotificationData<'moderated'>): void {
    const p = m.source ? this.producers.get(m.source) : undefined;
    if (p && (!m.producerId || p.id === m.producerId)) {
      if (m.action === 'muted') p.pause();
      if (m.action === 'stopped') {
        this.producers.delete(m.source!);
        p.close();
        p.track?.stop();
        this.emit('localSourceClosed', m.source!);
      }
    }
    if (m.action === 'speakAllowed') this.speakAllowed = true;
    if (m.action === 'speakRevoked') this.speakAllowed = false;
    this.emit('moderated', m);
  }

  private dropConsumer(consumerId: string): void {
    const c = this.consumers.get(consumerId);
    if (!c) return;
    this.consumers.delete(consumerId);
    c.consumer.close();
    this.emit('trackEnded', c.remote);
  }

  private dropPeer(peerId: string): void {
    for (const c of [...this.consumers.values()]) if (c.remote.peerId === peerId) this.dropConsumer(c.consumer.id);
    if (this.peers.delete(peerId)) this.emit('peerLeft', peerId);
  }

  /** Out of the class for good: no media, no session to resume, no reconnecting. */
  private stopForGood(): void {
    this.teardownMedia(true);
    this.session = undefined;
    this.setState('disconnected');
  }

  private teardownMedia(stopTracks: boolean): void {
    clearInterval(this.reportTimer);
    for (const id of [...this.consumers.keys()]) this.dropConsumer(id);
    for (const p of this.producers.values()) {
      p.close();
      if (stopTracks) p.track?.stop();
    }
    if (stopTracks) this.producers.clear();
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.sendTransport = this.recvTransport = undefined;
  }

  // ---- Reconnecting --------------------------------------------------------------------------

  private onSocketClosed(code: number): void {
    if (this.reconnecting || this.joining) return;
    if (code === closeCodes.unauthorized || code === closeCodes.replaced || code === closeCodes.removed || code === closeCodes.classEnded) {
      // Retrying cannot help: the token is bad, this session continues in another tab, or the
      // teacher removed us or ended the class.
      this.stopForGood();
      return;
    }
    if (this.leaving) return;
    // The room is gone (its media worker failed, or the server is going down): rejoin afresh, and
    // soon, since the server asked for it; a little jitter spreads a whole class's rejoins.
    const goingAway = code === closeCodes.goingAway;
    if (goingAway) this.session = undefined;
    void this.reconnect(goingAway ? 100 + Math.round(200 * Math.random()) : undefined);
  }

  /** Retries with backoff until resumed or rejoined (or left); one loop at a time. */
  /** `firstDelayMs`: the first attempt's wait, instead of the backoff's (the server said when). */
  private async reconnect(firstDelayMs?: number): Promise<void> {
    this.reconnecting = true;
    this.setState('reconnecting');
    try {
      while (!this.leaving) {
        const attempt = this.reconnectAttempt++;
        await new Promise((r) => setTimeout(r, attempt === 0 && firstDelayMs !== undefined ? firstDelayMs : backoffDelay(attempt)));
        if (this.leaving) return;
        try {
          await this.socket.connect(await this.wsUrl());
          if (!(await this.tryResume())) await this.rejoin();
          this.reconnectAttempt = 0;
          this.setState('connected');
          return;
        } catch (err) {
          this.emit('error', err as Error);
          if (this.socket.connected) this.socket.close(1000, 'retrying');
          // Cluster: the node we were sent to may be gone; the next try goes through the entry URL
          // (which places the class again), the one after to the origin again, and so on.
          if (this.originUrl) this.viaEntry = !this.viaEntry;
          // Locked, or removed and banned: retrying cannot help.
          if (err instanceof SignalingError && err.code === 'forbidden') {
            this.stopForGood();
            return;
          }
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  /** Same peer, same transports: media may never have stopped. Returns false if the session is gone. */
  private async tryResume(): Promise<boolean> {
    if (!this.session || !this.device) return false;
    let answer: ClientResponseData<'join'>;
    try {
      answer = await this.requestJoin({ resume: this.session });
    } catch (err) {
      if (err instanceof SignalingError && err.code === 'not_found') return false;
      throw err;
    }
    this.acceptJoin(answer);
    const alive = new Set(answer.consumerIds);
    for (const id of [...this.consumers.keys()]) if (!alive.has(id)) this.dropConsumer(id);
    // The network may have changed under us: refresh ICE on both transports.
    await Promise.all([this.sendTransport, this.recvTransport].map((t) => (t ? this.restartIce(t) : undefined)));
    return true;
  }

  /** The session expired or the room was rebuilt: join as new and publish the same tracks again. */
  private async rejoin(): Promise<void> {
    const tracks = [...this.producers.entries()].map(([source, p]) => ({ source, track: p.track, paused: p.paused }));
    this.producers.clear();
    this.teardownMedia(false);
    await this.joinFresh();
    for (const { source, track, paused } of tracks) {
      if (!track || track.readyState === 'ended') continue;
      await this.publishTrack(source, track);
      if (paused) await this.mute(source);
    }
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.emit('connectionState', state);
  }
}
