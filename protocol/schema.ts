/**
 * The signaling protocol: one schema module shared by the server and the browser SDK. Every message
 * crossing the WebSocket is validated against it at runtime; the TypeScript types derive from it.
 * docs/protocol.md is its human-readable description.
 */
import { z } from 'zod';

export const errorCodes = [
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'conflict',
  'room_full',
  'rate_limited',
  'internal',
  /** Cluster: this room lives on another node; the error's `redirect` says which (join only). */
  'redirect',
  /** Cluster: the room's node cannot be determined right now (Redis unreachable); try again later. */
  'unavailable',
] as const;
export type ErrorCode = (typeof errorCodes)[number];

// ---- Envelopes -------------------------------------------------------------------------------

const requestId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** `{ id, method, data }` in either direction: the receiver answers with a response of the same id. */
/** Every payload is a JSON object (possibly empty); its fields are checked per method. */
const payload = z.looseObject({});
export const requestEnvelope = z.strictObject({ id: requestId, method: z.string().min(1).max(64), data: payload });
export const okResponse = z.strictObject({ id: requestId, ok: z.literal(true), data: payload });
/** Where a `redirect` error sends the client: the origin node's public WebSocket URL. */
export const redirectTarget = z.strictObject({ url: z.string().regex(/^wss?:\/\/\S+$/).max(512), nodeId: z.string().min(1).max(64) });
export type RedirectTarget = z.infer<typeof redirectTarget>;
export const errorResponse = z.strictObject({
  id: requestId,
  ok: z.literal(false),
  error: z.strictObject({ code: z.enum(errorCodes), message: z.string(), redirect: redirectTarget.optional() }),
});
/** `{ method, data }`: no answer expected. */
export const notificationEnvelope = z.strictObject({ method: z.string().min(1).max(64), data: payload });
export const anyMessage = z.union([requestEnvelope, okResponse, errorResponse, notificationEnvelope]);

export type RequestEnvelope = z.infer<typeof requestEnvelope>;
export type OkResponse = z.infer<typeof okResponse>;
export type ErrorResponse = z.infer<typeof errorResponse>;
export type NotificationEnvelope = z.infer<typeof notificationEnvelope>;

// ---- Shared pieces ---------------------------------------------------------------------------

const id = z.string().min(1).max(128);
export const roles = ['teacher', 'student', 'observer'] as const;
/** `screenAudio`: the sound of a shared tab or screen, published beside `screen`. */
export const sources = ['mic', 'cam', 'screen', 'screenAudio'] as const;
export const kinds = ['audio', 'video'] as const;
export const directions = ['send', 'recv'] as const;
export type Role = (typeof roles)[number];
/** What a producer carries: a microphone, a camera, a screen share or its sound (one of each per peer). */
export type Source = (typeof sources)[number];
export type MediaKind = (typeof kinds)[number];
/** A WebRTC transport's direction, from the client's side. */
export type Direction = (typeof directions)[number];

/**
 * mediasoup's own structures are checked for their shape here and in depth by mediasoup itself
 * (which rejects a bad one with a TypeError, answered as bad_request). Loose objects: browsers add
 * fields over the years and mediasoup ignores unknown ones.
 */
const codecCapability = z.looseObject({ kind: z.enum(['audio', 'video']), mimeType: z.string().regex(/^(audio|video)\/[\w.-]+$/), clockRate: z.number().int().positive() });
const rtpCapabilities = z.looseObject({ codecs: z.array(codecCapability).min(1).max(64), headerExtensions: z.array(z.looseObject({ uri: z.string() })).max(64).optional() });
const rtpParameters = z.looseObject({ codecs: z.array(z.looseObject({})).min(1).max(64), encodings: z.array(z.looseObject({})).max(8).optional() });
const dtlsParameters = z.looseObject({ fingerprints: z.array(z.looseObject({ algorithm: z.string(), value: z.string() })).min(1).max(8), role: z.enum(['auto', 'client', 'server']).optional() });
const iceParameters = z.looseObject({ usernameFragment: z.string(), password: z.string(), iceLite: z.boolean().optional() });
const iceCandidate = z.looseObject({ foundation: z.string(), priority: z.number(), ip: z.string(), protocol: z.enum(['udp', 'tcp']), port: z.number(), type: z.string() });
export const iceServer = z.strictObject({ urls: z.union([z.string(), z.array(z.string())]), username: z.string().optional(), credential: z.string().optional() });

export const producerInfo = z.strictObject({ id, kind: z.enum(kinds), source: z.enum(sources), paused: z.boolean() });
export const peerInfo = z.strictObject({
  id,
  userId: z.string(),
  name: z.string(),
  role: z.enum(roles),
  producers: z.array(producerInfo),
  /** When the hand went up (server clock, ms since the epoch), null when down: the queue's order. */
  handRaisedAt: z.number().nullable(),
  /** The teacher let this student unmute although the room's policy does not. */
  speakAllowed: z.boolean(),
});
export type PeerInfo = z.infer<typeof peerInfo>;
export type ProducerInfo = z.infer<typeof producerInfo>;

/** The rules of a room, set by its teacher (defaults from the server's config). */
export const roomPolicy = z.strictObject({
  /** No new joins (teachers excepted); a resumed session is not a new join. */
  locked: z.boolean(),
  /** Students may unmute their microphone themselves; otherwise only after `allowSpeak`. */
  studentsMayUnmute: z.boolean(),
  /** A student's first microphone in the room starts muted. */
  joinMuted: z.boolean(),
  /** How many screen shares may run at once in the room. */
  maxScreenShares: z.number().int().min(1).max(16),
});
export type RoomPolicy = z.infer<typeof roomPolicy>;

/** How much video a class carries, set by its teacher (defaults from the server's config). */
export const videoLimits = z.strictObject({
  /**
   * The most remote videos a student receives at once (their `setView`, or the server's fallback
   * choice, is cut to it); the teachers' cameras and screen shares do not count.
   */
  maxVideosPerStudent: z.number().int().min(1).max(100),
  /** The most students who may send a camera at once (a camera beyond it is refused). */
  maxStudentCameras: z.number().int().min(0).max(1000),
});
export type VideoLimits = z.infer<typeof videoLimits>;

export const qualityLevels = ['good', 'fair', 'poor', 'lost'] as const;
export type QualityLevel = (typeof qualityLevels)[number];
/** One peer's network, per direction (null: not measured yet, e.g. nothing sent that way). */
export const networkQuality = z.strictObject({
  peerId: id,
  uplink: z.enum(qualityLevels).nullable(),
  downlink: z.enum(qualityLevels).nullable(),
  rttMs: z.number().nullable(),
  uplinkLossPct: z.number().nullable(),
  downlinkLossPct: z.number().nullable(),
  /** Interarrival jitter of what the peer sends (measured by the server) and receives (by its browser). */
  uplinkJitterMs: z.number().nullable(),
  downlinkJitterMs: z.number().nullable(),
  /** The server's estimate of what it may send this peer, bits per second. */
  availableBitrate: z.number().nullable(),
});
export type NetworkQuality = z.infer<typeof networkQuality>;

/** The most characters a chat message may have on the wire; the server's limit may be lower. */
export const chatTextMax = 4000;
export const chatMessage = z.strictObject({
  /** Room-wide order: messages are shown by seq. */
  seq: z.number().int().nonnegative(),
  peerId: id,
  userId: z.string(),
  name: z.string(),
  role: z.enum(roles),
  text: z.string(),
  /** Server clock, ms since the epoch. */
  ts: z.number(),
});
export type ChatMessage = z.infer<typeof chatMessage>;

const transportRef = z.strictObject({ transportId: id });
const producerRef = z.strictObject({ producerId: id });
const consumerRef = z.strictObject({ consumerId: id });
const empty = z.strictObject({});

// ---- Client → server requests: method name → [request data, response data] --------------------

export const clientRequests = {
  join: [
    z.strictObject({
      /** Resume a session after a dropped socket: the peer id and secret from the first join answer. */
      resume: z.strictObject({ peerId: id, sessionToken: z.string().min(16).max(128) }).optional(),
      /**
       * Cluster: this join follows a `redirect` from another node. Clients follow one redirect at
       * most; the flag lets the logs and the tests tell the hop.
       */
      redirected: z.boolean().optional(),
    }),
    z.strictObject({
      peerId: id,
      sessionToken: z.string(),
      resumed: z.boolean(),
      role: z.enum(roles),
      roomId: z.string(),
      peers: z.array(peerInfo),
      routerRtpCapabilities: rtpCapabilities,
      iceServers: z.array(iceServer),
      /** On resume: the consumers the server still holds for this peer; the client drops others. */
      consumerIds: z.array(id),
      policy: roomPolicy,
      videoLimits,
      /** The room's last chat messages, oldest first. */
      chat: z.array(chatMessage),
      /** The current dominant speaker, if any. */
      activeSpeaker: id.nullable(),
    }),
  ],
  setRtpCapabilities: [z.strictObject({ rtpCapabilities }), empty],
  createTransport: [
    z.strictObject({ direction: z.enum(directions) }),
    z.strictObject({ id, iceParameters, iceCandidates: z.array(iceCandidate), dtlsParameters }),
  ],
  connectTransport: [z.strictObject({ transportId: id, dtlsParameters }), empty],
  restartIce: [transportRef, z.strictObject({ iceParameters })],
  produce: [
    z.strictObject({ transportId: id, kind: z.enum(kinds), rtpParameters, source: z.enum(sources), paused: z.boolean().optional() }),
    /** paused: the server created it paused (a student joining muted): the client pauses its side. */
    z.strictObject({ producerId: id, paused: z.boolean() }),
  ],
  closeProducer: [producerRef, empty],
  pauseProducer: [producerRef, empty],
  resumeProducer: [producerRef, empty],
  pauseConsumer: [consumerRef, empty],
  resumeConsumer: [consumerRef, empty],
  setConsumerPreferredLayers: [
    z.strictObject({ consumerId: id, spatialLayer: z.number().int().min(0).max(3), temporalLayer: z.number().int().min(0).max(3).optional() }),
    empty,
  ],
  setConsumerPriority: [z.strictObject({ consumerId: id, priority: z.number().int().min(1).max(255) }), empty],
  /**
   * What this peer shows: the remote videos on its page, each with its size in device pixels (a
   * video consumer not listed is hidden: the server pauses it, and resumes it with a key frame once
   * listed again; a listed one gets the simulcast layer that fits its size). `audioOnly`: no video
   * but screen shares. Until a peer sends its first view, the server chooses for it (the teachers,
   * screen shares and recent speakers, up to the room's cap). Answers the video consumers now
   * forwarded (the cap may cut the list).
   */
  setView: [
    z.strictObject({
      videos: z.array(z.strictObject({ consumerId: id, width: z.number().int().min(0).max(16384), height: z.number().int().min(0).max(16384) })).max(500),
      audioOnly: z.boolean(),
    }),
    z.strictObject({ receiving: z.array(id) }),
  ],
  /** Closes one of the peer's transports and everything on it (e.g. to re-create it relay-only). */
  closeTransport: [transportRef, empty],
  getTransportStats: [transportRef, z.strictObject({ stats: z.array(z.looseObject({})) })],
  leave: [empty, empty],
  /**
   * A fresh access token for the same room, user and role, before the current one expires (the
   * server sends `tokenExpiring` a minute before): the session then lasts until the new `exp`.
   */
  refreshToken: [z.strictObject({ token: z.string().min(1).max(4096) }), z.strictObject({ expiresAt: z.number() })],
  /** Teacher only: record every participant's media into files, until stopRecording or the room ends. */
  startRecording: [empty, z.strictObject({ recordingId: id })],
  stopRecording: [empty, z.strictObject({ recordingId: id })],

  /** What the browser measures of its own sending (RTCP from the server): round trip and loss. */
  reportNetwork: [
    z.strictObject({
      rttMs: z.number().min(0).max(60_000).nullable(),
      lossPct: z.number().min(0).max(100).nullable(),
      /** Share of the last interval the browser's video encoder was held back by bandwidth. */
      bandwidthLimitedPct: z.number().min(0).max(100).nullable(),
      /** The browser's estimate of what it can send, bits per second. */
      availableOutgoingBitrate: z.number().min(0).max(1e10).nullable(),
      /** Interarrival jitter of what the browser receives, the worst stream. */
      jitterMs: z.number().min(0).max(60_000).nullable(),
    }),
    empty,
  ],

  // The class: hands, chat, and the teacher's controls (teacher only: `forbidden` otherwise).
  raiseHand: [empty, empty],
  /** Lowers one's own hand, or (teacher) another peer's. */
  lowerHand: [z.strictObject({ peerId: id.optional() }), empty],
  sendChat: [z.strictObject({ text: z.string().min(1).max(chatTextMax) }), z.strictObject({ message: chatMessage })],
  /** Teacher: change some of the room's rules; answers the whole policy. */
  setRoomPolicy: [roomPolicy.partial(), z.strictObject({ policy: roomPolicy })],
  /** Teacher: change the class's video limits; answers them whole (everyone gets `videoLimits`). */
  setVideoLimits: [videoLimits.partial(), z.strictObject({ videoLimits })],
  /** Teacher: pause a student's microphone (the student may unmute again only if the policy lets it). */
  mutePeer: [z.strictObject({ peerId: id }), empty],
  /** Teacher: pause every student's microphone. */
  muteAll: [empty, z.strictObject({ muted: z.number().int().nonnegative() })],
  /** Teacher: close a student's camera, screen share or microphone producer. */
  stopPeerSource: [z.strictObject({ peerId: id, source: z.enum(sources) }), empty],
  /** Teacher: let a student unmute (allowed: true) or take it back (false, which also mutes). */
  allowSpeak: [z.strictObject({ peerId: id, allowed: z.boolean() }), empty],
  /** Teacher: remove a peer; its user may not rejoin for SFU_REMOVE_BAN_SEC. */
  removePeer: [z.strictObject({ peerId: id, reason: z.string().max(200).optional() }), empty],
  /** Teacher: end the class for everyone (the room closes; clients do not reconnect). */
  endClass: [empty, empty],
} as const;

export type ClientMethod = keyof typeof clientRequests;
export type ClientRequestData<M extends ClientMethod> = z.infer<(typeof clientRequests)[M][0]>;
export type ClientResponseData<M extends ClientMethod> = z.infer<(typeof clientRequests)[M][1]>;
export const isClientMethod = (m: string): m is ClientMethod => Object.hasOwn(clientRequests, m);

// ---- Server → client requests (the client answers in the same envelope) ----------------------

export const serverRequests = {
  /** A consumer created paused: the client answers once it has it, then the server resumes it. */
  newConsumer: [
    z.strictObject({
      id,
      producerId: id,
      peerId: id,
      kind: z.enum(kinds),
      source: z.enum(sources),
      rtpParameters,
      type: z.string(),
      producerPaused: z.boolean(),
    }),
    empty,
  ],
} as const;
export type ServerMethod = keyof typeof serverRequests;
export type ServerRequestData<M extends ServerMethod> = z.infer<(typeof serverRequests)[M][0]>;

// ---- Server → client notifications -----------------------------------------------------------

export const notifications = {
  peerJoined: z.strictObject({ peer: peerInfo }),
  peerLeft: z.strictObject({ peerId: id }),
  consumerClosed: z.strictObject({ consumerId: id }),
  consumerPaused: z.strictObject({ consumerId: id }),
  consumerResumed: z.strictObject({ consumerId: id }),
  consumerLayersChanged: z.strictObject({ consumerId: id, spatialLayer: z.number().nullable(), temporalLayer: z.number().nullable() }),
  producerPaused: z.strictObject({ peerId: id, producerId: id }),
  producerResumed: z.strictObject({ peerId: id, producerId: id }),
  /**
   * Dynacast, to a publisher: the highest simulcast layer of its producer anyone shows now (0 the
   * lowest), or null when nobody shows it: the client encodes no more than that, and nothing at all
   * for null, until told otherwise. Sent on changes only; a new producer starts as wanted whole.
   */
  layersWanted: z.strictObject({ producerId: id, spatialLayer: z.number().int().min(0).max(3).nullable() }),
  /** The server closed one of the peer's own producers (e.g. its transport closed). */
  producerClosed: z.strictObject({ producerId: id }),
  activeSpeaker: z.strictObject({ peerId: id.nullable() }),
  /**
   * A peer's network quality level changed (sent to the peer itself and to the teachers; a
   * teacher joining gets everyone's current levels). An uplink `poor` asks the client to send less.
   */
  networkQuality,
  /** A peer's hand or speak permission changed. */
  peerUpdated: z.strictObject({ peer: peerInfo }),
  roomPolicy: z.strictObject({ policy: roomPolicy }),
  videoLimits: z.strictObject({ videoLimits }),
  chat: z.strictObject({ message: chatMessage }),
  /**
   * The teacher acted on this peer's media: its microphone muted (the client pauses its producer),
   * a source stopped (the client closes it), or its permission to unmute granted or taken back.
   */
  moderated: z.strictObject({
    action: z.enum(['muted', 'stopped', 'speakAllowed', 'speakRevoked']),
    source: z.enum(sources).optional(),
    producerId: id.optional(),
  }),
  /** This peer was removed by the teacher; the socket closes with 4005 next. */
  removed: z.strictObject({ reason: z.string(), banSeconds: z.number().int().nonnegative() }),
  recordingStarted: z.strictObject({ recordingId: id }),
  recordingStopped: z.strictObject({ recordingId: id }),
  /** To the teachers: one participant's file failed (its ffmpeg died); the recording goes on with the others. */
  recordingFileFailed: z.strictObject({ recordingId: id, file: z.string(), reason: z.string() }),
  /** ffmpeg is missing, or every file failed (the disk is full...): the class goes on, unrecorded. */
  recordingFailed: z.strictObject({ recordingId: id, reason: z.string() }),
  /**
   * The access token this session joined with expires at `expiresAt` (server clock, ms since the
   * epoch): send `refreshToken` before then, or the socket is closed with 4001.
   */
  tokenExpiring: z.strictObject({ expiresAt: z.number() }),
  /** Sent just before the server closes the socket because of this error (e.g. a bad token). */
  error: z.strictObject({ code: z.enum(errorCodes), message: z.string() }),
  /** The room is going away (server shutdown, worker failure, or the class ended: see `ended`). */
  roomClosed: z.strictObject({ reason: z.string(), ended: z.boolean() }),
} as const;
export type NotificationMethod = keyof typeof notifications;
export type NotificationData<M extends NotificationMethod> = z.infer<(typeof notifications)[M]>;

// ---- Presenting the access token ---------------------------------------------------------------

/**
 * The WebSocket subprotocol of this protocol. A client presents its access token as a second
 * offered subprotocol, `access_token.<JWT>` (a JWT's characters are all allowed there), so that the
 * token stays out of URLs and the logs that keep them; the server answers with `classroom-sfu`
 * only. `/ws?token=<JWT>` is still accepted, for clients that cannot set subprotocols.
 */
export const subprotocol = 'classroom-sfu';
export const tokenProtocolPrefix = 'access_token.';
export const tokenProtocols = (token: string): string[] => [subprotocol, `${tokenProtocolPrefix}${token}`];

// ---- WebSocket close codes the server uses ---------------------------------------------------
export const closeCodes = {
  /** Frame was not JSON or not a protocol envelope. */
  invalidData: 1007,
  /** Frame over the configured maximum size. */
  tooBig: 1009,
  /** Bad, expired or missing token, or a disallowed Origin; also a session whose token expired. */
  unauthorized: 4001,
  /** No join within the join timeout. */
  joinTimeout: 4002,
  /** The same user joined the room again on another connection, or a newer connection resumed this session. */
  replaced: 4003,
  /** Server shutting down or room rebuilt: reconnect. */
  goingAway: 1001,
  /** The teacher ended the class: do not reconnect. */
  classEnded: 4004,
  /** The teacher removed this peer: do not reconnect. */
  removed: 4005,
} as const;
