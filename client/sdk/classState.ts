import type { ChatMessage, NetworkQuality, NotificationData, PeerInfo, QualityLevel, Role, RoomPolicy, Source, VideoLimits } from '../../protocol/schema.js';
import type { SignalingSocket } from '../../protocol/client.js';
import type { Emit, JoinAnswer } from './types.js';

/** What the class state tells the media about. */
export interface ClassStateHooks {
  /** A peer left (or was gone at a resume): its tracks end, before `peerLeft`. */
  peerGone(peerId: string): void;
  /** The server rated our own uplink... */
  ownUplink(uplink: QualityLevel | null): void;
  /** ...and downlink. */
  ownDownlink(downlink: QualityLevel | null): void;
}

/**
 * The class as we see it: who we are, the other peers, the room's policy, the chat, hands and
 * speak permissions, the active speaker, network quality; and the requests that act on them,
 * a teacher's moderation and recording included.
 */
export class ClassState {
  peerId: string | undefined;
  role: Role | undefined;
  readonly peers = new Map<string, PeerInfo>();
  /** The room's rules, as the teacher last set them. */
  policy: RoomPolicy | undefined;
  /** How much video the class carries, as the teacher last set it. */
  videoLimits: VideoLimits | undefined;
  /** Chat messages, oldest first (history from the join, then live). */
  readonly chat: ChatMessage[] = [];
  /** Our own hand (ms since the epoch it went up, or null) and speak permission. */
  handRaisedAt: number | null = null;
  speakAllowed = false;
  activeSpeaker: string | null = null;
  /** Network quality by peer id: ours, and everyone's for a teacher. */
  readonly quality = new Map<string, NetworkQuality>();

  constructor(
    private readonly socket: SignalingSocket,
    private readonly emit: Emit,
    private readonly hooks: ClassStateHooks,
  ) {
    socket.on('peerJoined', ({ peer }) => {
      this.peers.set(peer.id, peer);
      this.emit('peerJoined', peer);
    });
    socket.on('peerLeft', ({ peerId }) => this.dropPeer(peerId));
    socket.on('activeSpeaker', ({ peerId }) => {
      this.activeSpeaker = peerId;
      this.emit('activeSpeaker', peerId);
    });
    socket.on('peerUpdated', ({ peer }) => this.updatePeer(peer));
    socket.on('roomPolicy', ({ policy }) => {
      this.policy = policy;
      this.emit('policy', policy);
    });
    socket.on('videoLimits', ({ videoLimits }) => {
      this.videoLimits = videoLimits;
      this.emit('videoLimits', videoLimits);
    });
    socket.on('chat', ({ message }) => this.addChat(message));
    socket.on('networkQuality', (q) => {
      this.quality.set(q.peerId, q);
      if (q.peerId === this.peerId) {
        this.hooks.ownUplink(q.uplink);
        this.hooks.ownDownlink(q.downlink);
      }
      this.emit('networkQuality', q);
    });
    socket.on('recordingStarted', ({ recordingId }) => this.emit('recording', { state: 'started', recordingId }));
    socket.on('recordingStopped', ({ recordingId }) => this.emit('recording', { state: 'stopped', recordingId }));
    socket.on('recordingFailed', ({ recordingId, reason }) => this.emit('recording', { state: 'failed', recordingId, reason }));
    socket.on('recordingFileFailed', ({ recordingId, file, reason }) => this.emit('recording', { state: 'fileFailed', recordingId, file, reason }));
  }

  /** Peers with a raised hand, first raised first. */
  get handQueue(): PeerInfo[] {
    return [...this.peers.values()].filter((p) => p.handRaisedAt !== null).sort((a, b) => a.handRaisedAt! - b.handRaisedAt!);
  }

  /** A join answer, fresh or resumed: the class as the server has it now. */
  accept(answer: JoinAnswer): void {
    this.peerId = answer.peerId;
    this.role = answer.role;
    this.policy = answer.policy;
    this.videoLimits = answer.videoLimits;
    this.activeSpeaker = answer.activeSpeaker;
    const known = new Set(this.chat.map((m) => m.seq));
    for (const m of answer.chat) if (!known.has(m.seq)) this.addChat(m);
    const seen = new Set(answer.peers.map((p) => p.id));
    for (const id of [...this.peers.keys()]) if (!seen.has(id)) this.dropPeer(id);
    for (const p of answer.peers) {
      const known = this.peers.has(p.id);
      this.peers.set(p.id, p);
      if (!known) this.emit('peerJoined', p);
    }
    this.emit('joined', { peerId: answer.peerId, role: answer.role, peers: answer.peers });
  }

  /** After our media caught up with a moderation: our speak permission, then the event. */
  onModerated(m: NotificationData<'moderated'>): void {
    if (m.action === 'speakAllowed') this.speakAllowed = true;
    if (m.action === 'speakRevoked') this.speakAllowed = false;
    this.emit('moderated', m);
  }

  async raiseHand(): Promise<void> {
    await this.socket.request('raiseHand', {});
  }

  async lowerHand(peerId?: string): Promise<void> {
    await this.socket.request('lowerHand', peerId ? { peerId } : {});
  }

  async sendChat(text: string): Promise<ChatMessage> {
    const { message } = await this.socket.request('sendChat', { text });
    this.addChat(message);
    return message;
  }

  // Teacher only (the server answers `forbidden` to anyone else).

  async setRoomPolicy(change: Partial<RoomPolicy>): Promise<RoomPolicy> {
    const { policy } = await this.socket.request('setRoomPolicy', change);
    this.policy = policy;
    return policy;
  }

  async setVideoLimits(change: Partial<VideoLimits>): Promise<VideoLimits> {
    const { videoLimits } = await this.socket.request('setVideoLimits', change);
    this.videoLimits = videoLimits;
    return videoLimits;
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

  async startRecording(): Promise<string> {
    return (await this.socket.request('startRecording', {})).recordingId;
  }

  async stopRecording(): Promise<string> {
    return (await this.socket.request('stopRecording', {})).recordingId;
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

  private dropPeer(peerId: string): void {
    this.hooks.peerGone(peerId);
    if (this.peers.delete(peerId)) this.emit('peerLeft', peerId);
  }
}
