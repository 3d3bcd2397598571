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
] as const;
export type ErrorCode = (typeof errorCodes)[number];

// ---- Envelopes -------------------------------------------------------------------------------

const requestId = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
/** `{ id, method, data }` in either direction: the receiver answers with a response of the same id. */
/** Every payload is a JSON object (possibly empty); its fields are checked per method. */
const payload = z.looseObject({});
export const requestEnvelope = z.strictObject({ id: requestId, method: z.string().min(1).max(64), data: payload });
export const okResponse = z.strictObject({ id: requestId, ok: z.literal(true), data: payload });
export const errorResponse = z.strictObject({
  id: requestId,
  ok: z.literal(false),
  error: z.strictObject({ code: z.enum(errorCodes), message: z.string() }),
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
export const sources = ['mic', 'cam', 'screen'] as const;
export const kinds = ['audio', 'video'] as const;

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
export const peerInfo = z.strictObject({ id, userId: z.string(), name: z.string(), role: z.enum(roles), producers: z.array(producerInfo) });
export type PeerInfo = z.infer<typeof peerInfo>;
export type ProducerInfo = z.infer<typeof producerInfo>;

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
    }),
  ],
  setRtpCapabilities: [z.strictObject({ rtpCapabilities }), empty],
  createTransport: [
    z.strictObject({ direction: z.enum(['send', 'recv']) }),
    z.strictObject({ id, iceParameters, iceCandidates: z.array(iceCandidate), dtlsParameters }),
  ],
  connectTransport: [z.strictObject({ transportId: id, dtlsParameters }), empty],
  restartIce: [transportRef, z.strictObject({ iceParameters })],
  produce: [
    z.strictObject({ transportId: id, kind: z.enum(kinds), rtpParameters, source: z.enum(sources), paused: z.boolean().optional() }),
    z.strictObject({ producerId: id }),
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
  /** Closes one of the peer's transports and everything on it (e.g. to re-create it relay-only). */
  closeTransport: [transportRef, empty],
  getTransportStats: [transportRef, z.strictObject({ stats: z.array(z.looseObject({})) })],
  leave: [empty, empty],
  /** Teacher only: record every participant's media into files, until stopRecording or the room ends. */
  startRecording: [empty, z.strictObject({ recordingId: id })],
  stopRecording: [empty, z.strictObject({ recordingId: id })],
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
  /** The server closed one of the peer's own producers (e.g. its transport closed). */
  producerClosed: z.strictObject({ producerId: id }),
  activeSpeaker: z.strictObject({ peerId: id.nullable() }),
  recordingStarted: z.strictObject({ recordingId: id }),
  recordingStopped: z.strictObject({ recordingId: id }),
  /** ffmpeg crashed, the disk is full, ffmpeg is missing...: the class goes on, unrecorded. */
  recordingFailed: z.strictObject({ recordingId: id, reason: z.string() }),
  /** Sent just before the server closes the socket because of this error (e.g. a bad token). */
  error: z.strictObject({ code: z.enum(errorCodes), message: z.string() }),
  /** The room is going away (server shutdown, worker failure): reconnect later or elsewhere. */
  roomClosed: z.strictObject({ reason: z.string() }),
} as const;
export type NotificationMethod = keyof typeof notifications;
export type NotificationData<M extends NotificationMethod> = z.infer<(typeof notifications)[M]>;

// ---- WebSocket close codes the server uses ---------------------------------------------------
export const closeCodes = {
  /** Frame was not JSON or not a protocol envelope. */
  invalidData: 1007,
  /** Frame over the configured maximum size. */
  tooBig: 1009,
  /** Bad, expired or missing token, or a disallowed Origin. */
  unauthorized: 4001,
  /** No join within the join timeout. */
  joinTimeout: 4002,
  /** The peer left, was removed, or a newer connection resumed its session. */
  replaced: 4003,
  /** Server shutting down or room rebuilt: reconnect. */
  goingAway: 1001,
} as const;
