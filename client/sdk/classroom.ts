import type { ChatMessage, Direction, NetworkQuality, PeerInfo, Role, RoomPolicy, Source, VideoLimits } from '../../protocol/schema.js';
import { AudioOnlySwitch } from './audioOnly.js';
import { ClassState } from './classState.js';
import { Emitter } from '../../protocol/emitter.js';
import { LocalMedia } from './localMedia.js';
import { MediaPath } from './mediaPath.js';
import { NetworkReporter } from './networkReport.js';
import { RemoteMedia } from './remoteMedia.js';
import { Session } from './session.js';
import { ViewReport } from './viewReport.js';
import { SignalingError, SignalingSocket } from '../../protocol/client.js';
import type { ClassroomEvents, ClassroomOptions, ConnectionState, Emit, RemoteTrack, TransportPath } from './types.js';

export type { Source } from '../../protocol/schema.js';
export type { ClassroomEvents, ClassroomOptions, ConnectionState, RemoteTrack, TransportPath } from './types.js';
export type { AudioOnlyTiming } from './audioOnly.js';

/**
 * The browser SDK: joins a class, publishes camera / microphone / screen, delivers remote tracks,
 * and survives dropped sockets by resuming the session (same peer id) or, when the session is gone,
 * rejoining and re-publishing by itself.
 *
 * The facade of a few parts, each with its own state, that it wires together here: the session
 * (joining, reconnecting), the media path (device, transports, ICE), local and remote media, the
 * network reports, the class state (peers, policy, chat, hands, moderation), and what the page
 * shows of the remote videos (the view, audio only).
 */
export class Classroom extends Emitter<ClassroomEvents> {
  readonly socket = new SignalingSocket();
  private readonly session: Session;
  private readonly path: MediaPath;
  private readonly local: LocalMedia;
  private readonly remote: RemoteMedia;
  private readonly reports: NetworkReporter;
  private readonly cls: ClassState;
  private readonly view: ViewReport;
  private readonly audio: AudioOnlySwitch;

  constructor(opts: ClassroomOptions) {
    super();
    const emit: Emit = (event, ...args) => this.emit(event, ...args);
    this.cls = new ClassState(this.socket, emit, {
      peerGone: (peerId) => this.remote.dropPeer(peerId),
      ownUplink: (uplink) => void this.local.adaptSending(uplink),
      ownDownlink: (downlink) => this.audio.downlink(downlink),
    });
    const auto = opts.autoAudioOnly ?? true;
    this.audio = new AudioOnlySwitch(auto === false ? null : auto === true ? {} : auto, (on, automatic) => {
      // A page with a view says it in its view; one without pauses the cameras itself.
      if (this.view.active) this.view.changed();
      else void this.remote.holdVideos(on);
      this.emit('audioOnly', { on, auto: automatic });
    });
    this.view = new ViewReport(this.socket, () => this.audio.on, emit);
    this.on('trackEnded', (t) => this.view.hide(t.consumerId));
    // A resumed peer keeps its view at the server, a new one has none: say it (again) either way.
    this.on('joined', () => this.view.resend());
    // New limits: the server applied our view again; asking again tells us what it forwards now.
    this.on('videoLimits', () => this.view.resend());
    this.path = new MediaPath(this.socket, opts, emit, {
      isLeaving: () => this.session.isLeaving,
      produce: (transportId, kind, rtpParameters, source) => this.local.requestProduce(transportId, kind, rtpParameters, source),
      takeTracks: () => this.local.takeTracks(),
      republish: (tracks) => this.local.republish(tracks),
      dropConsumers: () => this.remote.dropAll(),
    });
    this.local = new LocalMedia(this.socket, opts, emit, () => this.path.send, () => this.reports.settle());
    this.remote = new RemoteMedia(this.socket, emit, { ready: () => this.path.receiveReady, transport: () => this.path.recv });
    this.reports = new NetworkReporter(this.socket, {
      send: () => this.path.send,
      recv: () => this.path.recv,
      sending: () => this.local.count > 0,
      receiving: () => this.remote.count > 0,
    });
    this.session = new Session(this.socket, opts, emit, {
      accept: (answer) => this.cls.accept(answer),
      startMedia: async (answer) => {
        await this.path.setUp(answer);
        this.reports.start();
      },
      canResume: () => this.path.loaded,
      resumeMedia: async (consumerIds) => {
        this.remote.keepOnly(consumerIds);
        await this.path.restartAll();
      },
      teardownMedia: (stopTracks) => {
        if (stopTracks) this.audio.reset();
        this.reports.stop();
        this.remote.dropAll();
        this.local.closeAll(stopTracks);
        this.path.close();
      },
      takeTracks: () => this.local.takeTracks(),
      republish: (tracks) => this.local.republish(tracks),
    });
    // The server already paused or closed the producer: our side first, then the class's.
    this.socket.on('moderated', (m) => {
      this.local.onModerated(m);
      this.cls.onModerated(m);
    });
    this.socket.on('error', ({ code, message }) => this.emit('error', new SignalingError(code, message)));
  }

  // ---- Who, and the connection ----------------------------------------------------------------

  get peerId(): string | undefined {
    return this.cls.peerId;
  }

  get role(): Role | undefined {
    return this.cls.role;
  }

  get state(): ConnectionState {
    return this.session.state;
  }

  /** The node to (re)connect to: the origin a redirect named, or the entry URL we were given. */
  get serverUrl(): string {
    return this.session.serverUrl;
  }

  /** Which path each connected transport uses. */
  get paths(): { send?: TransportPath; recv?: TransportPath } {
    return this.path.paths;
  }

  /** Rejects with the server's reason (forbidden: locked or removed; room_full...) and stays out. */
  join(): Promise<void> {
    return this.session.join();
  }

  leave(): Promise<void> {
    return this.session.leave();
  }

  // ---- Media -----------------------------------------------------------------------------------

  /** Remote tracks currently received. */
  get remoteTracks(): RemoteTrack[] {
    return this.remote.tracks;
  }

  /** The local track published for a source, if any. */
  localTrack(source: Source): MediaStreamTrack | null {
    return this.local.track(source);
  }

  /**
   * The highest simulcast layer we currently send of a source: the fewest of what our uplink allows
   * and what anyone in the class shows (undefined: all, never limited; null: none, nobody shows it).
   */
  maxSendLayer(source: Source): number | null | undefined {
    return this.local.maxSendLayer(source);
  }

  /** Whether nobody in the class shows our video of a source: we send none of it until someone does. */
  unwatched(source: Source): boolean {
    return this.local.unwatched(source);
  }

  /** Whether our producer of a source is paused (muted by us, by the teacher, or on joining). */
  isPaused(source: Source): boolean {
    return this.local.isPaused(source);
  }

  /**
   * Publishes the camera, 1280x720 in three layers unless `width` / `height` ask for a smaller
   * capture (cheaper to encode): 640x360 goes in two layers (160 and 640 px), 320 px or less in one.
   * A student beyond the class's camera limit is refused (`room_full`); the camera is closed again.
   */
  publishCamera(opts: { deviceId?: string; width?: number; height?: number } = {}): Promise<void> {
    return this.local.publishCamera(opts);
  }

  publishMicrophone(opts: { deviceId?: string } = {}): Promise<void> {
    return this.local.publishMicrophone(opts);
  }

  /** Shares a screen; `audio: true` also its sound (source `screenAudio`) when the user shares it. */
  publishScreen(opts: { audio?: boolean } = {}): Promise<void> {
    return this.local.publishScreen(opts);
  }

  /** Publishes a track the application already has (e.g. a canvas capture). */
  publishTrack(source: Source, track: MediaStreamTrack): Promise<void> {
    return this.local.publishTrack(source, track);
  }

  mute(source: Source): Promise<void> {
    return this.local.mute(source);
  }

  /** Refused with `forbidden` when the class does not let students unmute themselves. */
  unmute(source: Source): Promise<void> {
    return this.local.unmute(source);
  }

  /** Unpublishing the screen also unpublishes its sound. */
  unpublish(source: Source): Promise<void> {
    return this.local.unpublish(source);
  }

  /** Switches the camera or microphone to another device without renegotiating. */
  switchDevice(source: 'cam' | 'mic', deviceId: string): Promise<void> {
    return this.local.switchDevice(source, deviceId);
  }

  /** Asks the server for a lower or higher simulcast layer of a remote video (0 = lowest). */
  setPreferredLayers(consumerId: string, spatialLayer: number, temporalLayer?: number): Promise<void> {
    return this.remote.setPreferredLayers(consumerId, spatialLayer, temporalLayer);
  }

  /**
   * Shows a remote video in `element`: from the first call on, the SDK tells the server what the
   * page shows (setView), and the server forwards only that. The video counts while any of the
   * element is within the viewport, at the element's size in device pixels (which picks its
   * layer: up to 160 px the lowest, up to 640 px the middle, wider the top); both are watched by
   * the SDK. Higher `priority` goes first under the class's cap (the stage before thumbnails).
   * Call again to change the priority or the element. A page that never calls it gets the
   * server's choice (teachers, screen shares, recent speakers).
   */
  show(track: RemoteTrack | string, element: Element, opts: { priority?: number } = {}): void {
    const first = !this.view.active;
    this.view.show(typeof track === 'string' ? track : track.consumerId, element, opts.priority ?? 0);
    if (first && this.audio.on) void this.remote.holdVideos(false); // the view carries audio only now
  }

  /** The video is no longer shown (an ended track is dropped by itself). */
  hide(track: RemoteTrack | string): void {
    this.view.hide(typeof track === 'string' ? track : track.consumerId);
  }

  /** The video consumers the server forwards us now, of those shown (after show() only). */
  get receivingVideos(): string[] {
    return this.view.receiving;
  }

  /** Whether we receive audio only now (no video but screen shares). */
  get audioOnly(): boolean {
    return this.audio.on;
  }

  /**
   * Audio only (true): no video but screen shares; false: video; null: let the SDK decide by our
   * downlink again (see `autoAudioOnly`). The application's choice wins over the automatic one.
   */
  setAudioOnly(on: boolean | null): void {
    this.audio.set(on);
  }

  setPriority(consumerId: string, priority: number): Promise<void> {
    return this.remote.setPriority(consumerId, priority);
  }

  /** The browser's own stats of a remote track (inbound-rtp and friends). */
  getRemoteStats(consumerId: string): Promise<RTCStatsReport> {
    return this.remote.getStats(consumerId);
  }

  /** The browser's own stats of what we send of a source (outbound-rtp: bytes, frames per layer). */
  getLocalStats(source: Source): Promise<RTCStatsReport> {
    return this.local.getStats(source);
  }

  /** The server's stats of our transports. */
  getTransportStats(): Promise<Record<Direction, unknown[]>> {
    return this.path.serverStats();
  }

  // ---- The class ------------------------------------------------------------------------------

  get peers(): Map<string, PeerInfo> {
    return this.cls.peers;
  }

  /** The room's rules, as the teacher last set them. */
  get policy(): RoomPolicy | undefined {
    return this.cls.policy;
  }

  /** How much video the class carries: videos per student, student cameras. */
  get videoLimits(): VideoLimits | undefined {
    return this.cls.videoLimits;
  }

  /** Chat messages, oldest first (history from the join, then live). */
  get chat(): ChatMessage[] {
    return this.cls.chat;
  }

  /** Our own hand (ms since the epoch it went up, or null). */
  get handRaisedAt(): number | null {
    return this.cls.handRaisedAt;
  }

  /** Whether we may unmute in a class that needs permission. */
  get speakAllowed(): boolean {
    return this.cls.speakAllowed;
  }

  get activeSpeaker(): string | null {
    return this.cls.activeSpeaker;
  }

  /** Network quality by peer id: ours, and everyone's for a teacher. */
  get quality(): Map<string, NetworkQuality> {
    return this.cls.quality;
  }

  /** Peers with a raised hand, first raised first. */
  get handQueue(): PeerInfo[] {
    return this.cls.handQueue;
  }

  raiseHand(): Promise<void> {
    return this.cls.raiseHand();
  }

  /** Lowers our hand, or (teacher) another peer's. */
  lowerHand(peerId?: string): Promise<void> {
    return this.cls.lowerHand(peerId);
  }

  sendChat(text: string): Promise<ChatMessage> {
    return this.cls.sendChat(text);
  }

  // Teacher only (the server answers `forbidden` to anyone else).

  setRoomPolicy(change: Partial<RoomPolicy>): Promise<RoomPolicy> {
    return this.cls.setRoomPolicy(change);
  }

  /** Changes the class's video limits; every participant gets them (`videoLimits`). */
  setVideoLimits(change: Partial<VideoLimits>): Promise<VideoLimits> {
    return this.cls.setVideoLimits(change);
  }

  mutePeer(peerId: string): Promise<void> {
    return this.cls.mutePeer(peerId);
  }

  muteAll(): Promise<number> {
    return this.cls.muteAll();
  }

  stopPeerSource(peerId: string, source: Source): Promise<void> {
    return this.cls.stopPeerSource(peerId, source);
  }

  allowSpeak(peerId: string, allowed: boolean): Promise<void> {
    return this.cls.allowSpeak(peerId, allowed);
  }

  removePeer(peerId: string, reason?: string): Promise<void> {
    return this.cls.removePeer(peerId, reason);
  }

  endClass(): Promise<void> {
    return this.cls.endClass();
  }

  /** Record the class (every participant's media, to files on the server). */
  startRecording(): Promise<string> {
    return this.cls.startRecording();
  }

  stopRecording(): Promise<string> {
    return this.cls.stopRecording();
  }
}
