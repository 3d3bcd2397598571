import type { types } from 'mediasoup-client';
import type { ServerRequestData } from '../../protocol/schema.js';
import { SignalingError, type SignalingSocket } from '../../protocol/client.js';
import type { Emit, RemoteTrack } from './types.js';

/** The receive transport of the moment, as the media path holds it. */
export interface ReceiveSide {
  /** Settles once a receive transport being created exists. */
  ready(): Promise<void>;
  transport(): types.Transport | undefined;
}

/**
 * What we receive: the consumers the server offers us, delivered as remote tracks, with their
 * ended, paused, resumed and layer events.
 */
export class RemoteMedia {
  private readonly consumers = new Map<string, { consumer: types.Consumer; remote: RemoteTrack }>();
  /** Cameras we paused ourselves for audio only (a page without a view, see holdVideos). */
  private readonly held = new Set<string>();
  private holding = false;

  constructor(
    private readonly socket: SignalingSocket,
    private readonly emit: Emit,
    private readonly recv: ReceiveSide,
  ) {
    socket.onServerRequest = (method, data) => this.onNewConsumer(data as ServerRequestData<typeof method>);
    socket.on('consumerClosed', ({ consumerId }) => this.drop(consumerId));
    socket.on('consumerPaused', ({ consumerId }) => {
      const c = this.consumers.get(consumerId);
      if (c) this.emit('trackPaused', c.remote);
    });
    socket.on('consumerResumed', ({ consumerId }) => {
      const c = this.consumers.get(consumerId);
      if (c) this.emit('trackResumed', c.remote);
    });
    socket.on('consumerLayersChanged', (d) => this.emit('layersChanged', d));
  }

  get tracks(): RemoteTrack[] {
    return [...this.consumers.values()].map((c) => c.remote);
  }

  /** How many consumers we hold. */
  get count(): number {
    return this.consumers.size;
  }

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

  async getStats(consumerId: string): Promise<RTCStatsReport> {
    const c = this.consumers.get(consumerId);
    if (!c) throw new SignalingError('not_found', `no consumer ${consumerId}`);
    return c.consumer.getStats();
  }

  /**
   * Audio only on a page that reports no view (so the server's choice stands): we pause every
   * video but screen shares ourselves (pauseConsumer), new ones included, and resume them after.
   */
  async holdVideos(on: boolean): Promise<void> {
    this.holding = on;
    await Promise.all([...this.consumers.keys()].map((id) => this.hold(id)));
  }

  private async hold(consumerId: string): Promise<void> {
    const c = this.consumers.get(consumerId);
    if (!c || c.remote.kind !== 'video' || c.remote.source === 'screen' || this.held.has(consumerId) === this.holding) return;
    if (this.holding) this.held.add(consumerId);
    else this.held.delete(consumerId);
    await this.socket.request(this.holding ? 'pauseConsumer' : 'resumeConsumer', { consumerId }).catch(() => undefined);
  }

  drop(consumerId: string): void {
    const c = this.consumers.get(consumerId);
    if (!c) return;
    this.consumers.delete(consumerId);
    this.held.delete(consumerId);
    c.consumer.close();
    this.emit('trackEnded', c.remote);
  }

  /** A peer left: its tracks end. */
  dropPeer(peerId: string): void {
    for (const c of [...this.consumers.values()]) if (c.remote.peerId === peerId) this.drop(c.consumer.id);
  }

  /** After a resume: the consumers the server no longer holds end. */
  keepOnly(consumerIds: string[]): void {
    const alive = new Set(consumerIds);
    for (const id of [...this.consumers.keys()]) if (!alive.has(id)) this.drop(id);
  }

  dropAll(): void {
    for (const id of [...this.consumers.keys()]) this.drop(id);
  }

  private async onNewConsumer(data: ServerRequestData<'newConsumer'>): Promise<void> {
    await this.recv.ready();
    const transport = this.recv.transport();
    if (!transport) throw new Error('no receive transport');
    const consumer = await transport.consume({
      id: data.id,
      producerId: data.producerId,
      kind: data.kind,
      rtpParameters: data.rtpParameters as types.RtpParameters,
    });
    const remote: RemoteTrack = { consumerId: consumer.id, peerId: data.peerId, source: data.source, kind: data.kind, track: consumer.track };
    this.consumers.set(consumer.id, { consumer, remote });
    if (this.holding) void this.hold(consumer.id);
    this.emit('track', remote);
  }
}
