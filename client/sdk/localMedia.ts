import type { types } from 'mediasoup-client';
import type { MediaKind, NotificationData, QualityLevel, Source } from '../../protocol/schema.js';
import { SignalingError, type SignalingSocket } from '../../protocol/client.js';
import { cameraConstraints, cameraConstraintsFor, cameraLayerFor, produceOptions, screenAudioConstraints, screenBitrateFor, screenMaxBitrate } from './encodings.js';
import { SendLayers } from './sendLayers.js';
import type { ClassroomOptions, Emit, PublishedTrack } from './types.js';

/**
 * What we send: one producer per source (camera, microphone, screen and its sound), on the send
 * transport the media path holds; paused by us, by the teacher or by the room's policy; thinned
 * out on a poor uplink, and to the layers the class shows (none while nobody does).
 */
export class LocalMedia {
  private readonly producers = new Map<Source, types.Producer>();
  /** Producers the server created paused (a student joining muted), by id. */
  private readonly pausedByServer = new Set<string>();
  /** The bitrate cap a screen share was last given (each change renegotiates: only on a change). */
  private readonly screenCaps = new WeakMap<types.Producer, number>();
  private readonly layers: SendLayers;

  constructor(
    private readonly socket: SignalingSocket,
    private readonly opts: Pick<ClassroomOptions, 'simulcast'>,
    private readonly emit: Emit,
    /** The send transport of the moment (undefined: none, e.g. an observer). */
    private readonly transport: () => types.Transport | undefined,
    /** We ask the encoder for more: a new video, or a layer or bitrate back after a poor uplink. */
    private readonly sendingMore: () => void = () => undefined,
  ) {
    this.layers = new SendLayers(sendingMore, (err) => this.emit('error', err));
    // Dynacast: the server says how much of a video anyone shows.
    socket.on('layersWanted', ({ producerId, spatialLayer }) => {
      const p = [...this.producers.values()].find((x) => x.id === producerId);
      if (p && p.kind === 'video') this.layers.setWanted(p, spatialLayer);
    });
    socket.on('producerClosed', ({ producerId }) => {
      for (const [source, p] of this.producers) {
        if (p.id === producerId) {
          p.close();
          this.producers.delete(source);
          this.emit('localSourceClosed', source);
        }
      }
    });
  }

  /** How many producers we hold. */
  get count(): number {
    return this.producers.size;
  }

  track(source: Source): MediaStreamTrack | null {
    return this.producers.get(source)?.track ?? null;
  }

  maxSendLayer(source: Source): number | null | undefined {
    const p = this.producers.get(source);
    return p ? this.layers.sending(p) : undefined;
  }

  /** The browser's own stats of one of our producers (outbound-rtp and friends). */
  async getStats(source: Source): Promise<RTCStatsReport> {
    const p = this.producers.get(source);
    if (!p) throw new SignalingError('not_found', `not publishing ${source}`);
    return p.getStats();
  }

  /** Whether nobody in the class shows our video of a source (we send none of it then). */
  unwatched(source: Source): boolean {
    const p = this.producers.get(source);
    return p ? this.layers.unwanted(p) : false;
  }

  isPaused(source: Source): boolean {
    return this.producers.get(source)?.paused ?? false;
  }

  async publishCamera(opts: { deviceId?: string; width?: number; height?: number } = {}): Promise<void> {
    const size = opts.width || opts.height ? cameraConstraintsFor(opts) : cameraConstraints;
    const stream = await navigator.mediaDevices.getUserMedia({
      video: { ...size, ...(opts.deviceId ? { deviceId: { exact: opts.deviceId } } : {}) },
    });
    await this.publishCaptured('cam', stream.getVideoTracks()[0]!);
  }

  async publishMicrophone(opts: { deviceId?: string } = {}): Promise<void> {
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: opts.deviceId ? { deviceId: { exact: opts.deviceId } } : true,
    });
    await this.publishCaptured('mic', stream.getAudioTracks()[0]!);
  }

  /** A device we opened ourselves: refused (a class's camera limit, say), it is closed again. */
  private async publishCaptured(source: Source, track: MediaStreamTrack): Promise<void> {
    try {
      await this.publishTrack(source, track);
    } catch (err) {
      track.stop();
      throw err;
    }
  }

  /**
   * Shares a screen, window or tab at its native size; with `audio`, also the sound it plays (a
   * tab's, or the system's where the browser offers it) as the `screenAudio` source, when the user
   * chose to share it. The sound goes when the share goes.
   */
  async publishScreen(opts: { audio?: boolean } = {}): Promise<void> {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: opts.audio ? screenAudioConstraints : false });
    const track = stream.getVideoTracks()[0]!;
    const sound = stream.getAudioTracks()[0];
    track.addEventListener('ended', () => void this.unpublish('screen'));
    sound?.addEventListener('ended', () => void this.unpublish('screenAudio'));
    try {
      await this.publishTrack('screen', track);
    } catch (err) {
      // Refused (one share at a time, say): nothing stays captured.
      for (const t of stream.getTracks()) t.stop();
      throw err;
    }
    // The share goes on without its sound where the sound is refused (a server that does not
    // know the source yet): said, not thrown.
    if (sound) {
      await this.publishTrack('screenAudio', sound).catch((err: unknown) => {
        sound.stop();
        this.emit('error', err as Error);
      });
    }
  }

  async publishTrack(source: Source, track: MediaStreamTrack): Promise<void> {
    const transport = this.transport();
    if (!transport) throw new SignalingError('forbidden', 'this role cannot publish');
    if (this.producers.has(source)) throw new SignalingError('conflict', `already publishing ${source}`);
    // Text and fine lines: the encoder keeps the resolution and gives up frame rate first.
    if (source === 'screen' && !track.contentHint) track.contentHint = 'detail';
    if (track.kind === 'video') this.sendingMore();
    const producer = await transport.produce({
      track,
      appData: { source },
      ...produceOptions(source, track.kind, this.opts.simulcast !== false, source === 'cam' ? track.getSettings().width : undefined),
      stopTracks: false,
    });
    this.producers.set(source, producer);
    if (this.pausedByServer.delete(producer.id)) {
      producer.pause();
      this.emit('moderated', { action: 'muted', source, producerId: producer.id, policy: true });
    }
  }

  /** The send transport's `produce`: the server may create the producer paused (joining muted). */
  async requestProduce(transportId: string, kind: MediaKind, rtpParameters: types.RtpParameters, source: Source): Promise<string> {
    const { producerId, paused } = await this.socket.request('produce', { transportId, kind, rtpParameters: rtpParameters as never, source });
    if (paused) this.pausedByServer.add(producerId);
    return producerId;
  }

  async mute(source: Source): Promise<void> {
    const p = this.producers.get(source);
    if (!p || p.paused) return;
    p.pause();
    await this.socket.request('pauseProducer', { producerId: p.id });
  }

  async unmute(source: Source): Promise<void> {
    const p = this.producers.get(source);
    if (!p || !p.paused) return;
    await this.socket.request('resumeProducer', { producerId: p.id });
    p.resume();
  }

  async unpublish(source: Source): Promise<void> {
    // A screen share's sound goes with it.
    if (source === 'screen') await this.unpublish('screenAudio');
    const p = this.producers.get(source);
    if (!p) return;
    this.producers.delete(source);
    p.close();
    p.track?.stop();
    await this.socket.request('closeProducer', { producerId: p.id }).catch(() => undefined);
  }

  async switchDevice(source: 'cam' | 'mic', deviceId: string): Promise<void> {
    const p = this.producers.get(source);
    if (!p) throw new SignalingError('not_found', `not publishing ${source}`);
    const constraints = source === 'cam' ? { video: { ...cameraConstraints, deviceId: { exact: deviceId } } } : { audio: { deviceId: { exact: deviceId } } };
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    const track = source === 'cam' ? stream.getVideoTracks()[0]! : stream.getAudioTracks()[0]!;
    const old = p.track;
    await p.replaceTrack({ track });
    old?.stop();
  }

  /** The teacher muted or stopped a source: the server already did; bring our side in line. */
  onModerated(m: NotificationData<'moderated'>): void {
    const p = m.source ? this.producers.get(m.source) : undefined;
    if (!p || (m.producerId && p.id !== m.producerId)) return;
    if (m.action === 'muted') p.pause();
    if (m.action === 'stopped') {
      this.producers.delete(m.source!);
      p.close();
      p.track?.stop();
      this.emit('localSourceClosed', m.source!);
      // The teacher stopped the share: its sound stops with it.
      if (m.source === 'screen') void this.unpublish('screenAudio');
    }
  }

  /** A poor uplink: send less video (audio is left alone); back up as the link recovers. */
  async adaptSending(uplink: QualityLevel | null): Promise<void> {
    const cam = this.producers.get('cam');
    const screen = this.producers.get('screen');
    try {
      const layers = cam?.rtpParameters.encodings?.length ?? 0;
      if (cam && !cam.closed && layers > 1) this.layers.setUplink(cam, cameraLayerFor(uplink, layers));
      // Always a cap, the full one included: the browser merges what it is given, so an empty
      // change would leave a poor link's cap in place once the link recovers.
      const cap = screenBitrateFor(uplink);
      const before = screen ? (this.screenCaps.get(screen) ?? screenMaxBitrate) : cap;
      if (screen && !screen.closed && before !== cap) {
        if (cap > before) this.sendingMore();
        this.screenCaps.set(screen, cap);
        await screen.setRtpEncodingParameters({ maxBitrate: cap });
      }
    } catch (err) {
      this.emit('error', err as Error);
    }
  }

  /** Closes every producer (its transport is going), handing back what each sent and whether paused. */
  takeTracks(): PublishedTrack[] {
    const tracks = [...this.producers.entries()].map(([source, p]) => ({ source, track: p.track, paused: p.paused }));
    for (const p of this.producers.values()) p.close();
    this.producers.clear();
    return tracks;
  }

  /** Publishes taken tracks again (on a new transport, or after a rejoin), muted again where they were. */
  async republish(tracks: PublishedTrack[]): Promise<void> {
    for (const { source, track, paused } of tracks) {
      if (!track || track.readyState === 'ended') continue;
      await this.publishTrack(source, track);
      if (paused) await this.mute(source);
    }
  }

  /** With the transports going: close every producer; `stopTracks` also ends the tracks and forgets them. */
  closeAll(stopTracks: boolean): void {
    for (const p of this.producers.values()) {
      p.close();
      if (stopTracks) p.track?.stop();
    }
    if (stopTracks) this.producers.clear();
  }
}
