// The SDK's public types (options, events, remote tracks), and the few its parts hand each other.
import type {
  ChatMessage,
  ClientResponseData,
  Direction,
  MediaKind,
  NetworkQuality,
  NotificationData,
  PeerInfo,
  Role,
  RoomPolicy,
  Source,
  VideoLimits,
} from '../../protocol/schema.js';
import type { AudioOnlyTiming } from './audioOnly.js';

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
  /**
   * Receive audio only (no video but screen shares) by itself while our downlink stays poor or
   * lost, and video again once it is good (default on, with AudioOnlyTiming's defaults); false:
   * never by itself. setAudioOnly() overrides it either way.
   */
  autoAudioOnly?: boolean | AudioOnlyTiming;
}

export type TransportPath = 'direct' | 'relay';

export interface RemoteTrack {
  consumerId: string;
  peerId: string;
  source: Source;
  kind: MediaKind;
  track: MediaStreamTrack;
}

export type ClassroomEvents = {
  connectionState: [ConnectionState];
  joined: [{ peerId: string; role: Role; peers: PeerInfo[] }];
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
  /** The class's video limits changed (the teacher set them). */
  videoLimits: [VideoLimits];
  /** We receive audio only now, or video again; `auto`: the SDK switched by itself (the downlink). */
  audioOnly: [{ on: boolean; auto: boolean }];
  /** The videos the server forwards us now, of those our view shows (the class's cap may cut it). */
  receiving: [string[]];
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
  /** The same user joined this class again (another tab or device), which took over; no reconnecting. */
  replaced: [{ reason: string }];
  /**
   * The room's recording started, stopped, or failed (with the reason); for a teacher also
   * `fileFailed`: one participant's file failed (`file`, `reason`) while the recording goes on.
   */
  recording: [{ state: 'started' | 'stopped' | 'failed' | 'fileFailed'; recordingId: string; reason?: string; file?: string }];
  /** One of our own producers was closed by the server. */
  localSourceClosed: [Source];
  /** A transport's ICE connection state changed. */
  transportState: [{ direction: Direction; state: string }];
  /** Which network path a connected transport uses: 'direct' or through the TURN relay. */
  transportPath: [{ direction: Direction; path: TransportPath }];
  error: [Error];
};

/** How the parts of the SDK raise the Classroom's events. */
export type Emit = <E extends keyof ClassroomEvents>(event: E, ...args: ClassroomEvents[E]) => void;

export type JoinAnswer = ClientResponseData<'join'>;

/** What one of our producers sent, kept to publish it again on a new transport. */
export interface PublishedTrack {
  source: Source;
  track: MediaStreamTrack | null;
  paused: boolean;
}
