import { Device, type types } from 'mediasoup-client';
import type { Direction, MediaKind, Source } from '../../protocol/schema.js';
import { SignalingError, type SignalingSocket } from '../../protocol/client.js';
import type { ClassroomOptions, Emit, JoinAnswer, PublishedTrack, TransportPath } from './types.js';

/** What the media path asks of the media it carries. */
export interface MediaPathHooks {
  /** The class was left: a transport's troubles no longer matter. */
  isLeaving(): boolean;
  /** The send transport's `produce`: asks the server for a producer, answers its id. */
  produce(transportId: string, kind: MediaKind, rtpParameters: types.RtpParameters, source: Source): Promise<string>;
  /** Before the send transport is replaced: close the producers, handing back their tracks... */
  takeTracks(): PublishedTrack[];
  /** ...to publish them on the new one. */
  republish(tracks: PublishedTrack[]): Promise<void>;
  /** Before the receive transport is replaced: drop every consumer (the server offers them again). */
  dropConsumers(): void;
}

/** A transport stuck in 'disconnected' or 'failed' gets an ICE restart this often until it recovers. */
const recoveryIntervalMs = 3000;
/** A relay-only transport not connected by then has no usable relay: say so instead of hanging. */
const relayDeadlineMs = 12_000;

/**
 * The way media travels: the mediasoup Device and our send and receive transports, kept alive
 * through ICE restarts and, when those do not help, re-created relay-only (TURN).
 */
export class MediaPath {
  /** Which path each connected transport uses. */
  readonly paths: { send?: TransportPath; recv?: TransportPath } = {};
  private device: Device | undefined;
  private sendTransport: types.Transport | undefined;
  private recvTransport: types.Transport | undefined;
  /** Pending while the receive transport is being created: the server's consumers wait for it. */
  private recvReady: Promise<void> = Promise.resolve();
  private iceServers: RTCIceServer[] = [];
  private readonly relayOnly = { send: false, recv: false };

  constructor(
    private readonly socket: SignalingSocket,
    private readonly opts: ClassroomOptions,
    private readonly emit: Emit,
    private readonly hooks: MediaPathHooks,
  ) {}

  get send(): types.Transport | undefined {
    return this.sendTransport;
  }

  get recv(): types.Transport | undefined {
    return this.recvTransport;
  }

  get receiveReady(): Promise<void> {
    return this.recvReady;
  }

  get loaded(): boolean {
    return this.device !== undefined;
  }

  /** After a fresh join: load the device, then the receive transport before the send one. */
  async setUp(answer: JoinAnswer): Promise<void> {
    this.device = new Device();
    await this.device.load({ routerRtpCapabilities: answer.routerRtpCapabilities as types.RtpCapabilities });
    await this.socket.request('setRtpCapabilities', { rtpCapabilities: this.device.rtpCapabilities as never });
    this.iceServers = this.opts.iceServers ?? answer.iceServers;
    this.relayOnly.send = this.relayOnly.recv = this.opts.forceRelay === true;
    this.recvTransport = await this.createTransport('recv');
    if (answer.role !== 'observer') this.sendTransport = await this.createTransport('send');
  }

  close(): void {
    this.sendTransport?.close();
    this.recvTransport?.close();
    this.sendTransport = this.recvTransport = undefined;
  }

  /** The network may have changed under us (a resume): refresh ICE on both transports. */
  async restartAll(): Promise<void> {
    await Promise.all([this.sendTransport, this.recvTransport].map((t) => (t ? this.restartIce(t) : undefined)));
  }

  /** The server's stats of our transports. */
  async serverStats(): Promise<Record<Direction, unknown[]>> {
    const get = async (t?: types.Transport) => (t ? (await this.socket.request('getTransportStats', { transportId: t.id })).stats : []);
    return { send: await get(this.sendTransport), recv: await get(this.recvTransport) };
  }

  private async createTransport(direction: Direction): Promise<types.Transport> {
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
        this.hooks.produce(transport.id, kind, rtpParameters, appData.source as Source).then((id) => ok({ id }), fail);
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
  private watchIce(transport: types.Transport, direction: Direction): void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let restarts = 0;
    const maxRestarts = this.opts.maxIceRestarts ?? 3;
    const relayDeadline = this.relayOnly[direction]
      ? setTimeout(() => void this.reportRelayFailure(transport, direction), relayDeadlineMs)
      : undefined;
    const recover = async (): Promise<void> => {
      if (transport.closed || this.hooks.isLeaving()) return;
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
  private async detectPath(transport: types.Transport, direction: Direction): Promise<void> {
    const path = await relayCandidateSelected(transport).catch(() => undefined);
    if (path === undefined || transport.closed) return;
    this.paths[direction] = path ? 'relay' : 'direct';
    this.emit('transportPath', { direction, path: this.paths[direction]! });
  }

  private async reportRelayFailure(transport: types.Transport, direction: Direction): Promise<void> {
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
  private async recreateRelayOnly(direction: Direction): Promise<void> {
    const old = direction === 'send' ? this.sendTransport : this.recvTransport;
    if (!old || old.closed) return;
    this.relayOnly[direction] = true;
    let tracks: PublishedTrack[] = [];
    if (direction === 'send') tracks = this.hooks.takeTracks();
    else this.hooks.dropConsumers();
    old.close();
    // Closing it on the server first releases its consumers, so that the new one is offered them.
    await this.socket.request('closeTransport', { transportId: old.id }).catch(() => undefined);
    const fresh = await this.createTransport(direction);
    if (direction === 'send') {
      this.sendTransport = fresh;
      await this.hooks.republish(tracks);
    } else {
      this.recvTransport = fresh;
    }
  }
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
