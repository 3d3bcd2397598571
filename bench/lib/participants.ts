/**
 * Synthetic participants: the real signaling protocol over `ws` (docs/protocol.md), with media
 * from the load generator (bench/lib/loadgen.ts) instead of a browser. A publisher sends Opus-like
 * audio and 3-layer VP8 simulcast; a subscriber consumes everything offered and counts packets.
 */
import { randomInt } from 'node:crypto';
import WebSocket from 'ws';
import { SignalingSocket } from '../../protocol/client.js';
import type { ClientRequestData, MediaKind, NotificationData, ServerRequestData, Source } from '../../protocol/schema.js';
import { TokenService, type AccessClaims } from '../../server/auth/tokens.js';
import type { Loadgen, StreamSpec } from './loadgen.js';

/** An HS256 access token as the platform would sign it: the server's own TokenService. */
export function signToken(secret: string, claims: AccessClaims, ttlSec = 3600): Promise<string> {
  return new TokenService(secret).sign(claims, ttlSec);
}

/** A room as GET /api/rooms lists it (the fields the scenarios read). */
export interface ListedRoom {
  id: string;
  worker: number;
  routers?: { worker: number; peers: number; consumers: number }[];
}

/** Every open room of the server under test, read with an admin token. */
export async function listRooms(server: { httpUrl: string; secret: string }): Promise<ListedRoom[]> {
  const token = await signToken(server.secret, { room: 'any', sub: 'bench-admin', name: 'bench', role: 'admin' }, 600);
  const res = await fetch(`${server.httpUrl}/api/rooms`, { headers: { authorization: `Bearer ${token}` } });
  return ((await res.json()) as { rooms: ListedRoom[] }).rooms;
}

/**
 * One participant's signaling socket: the protocol's own client (protocol/client.ts) over `ws`,
 * answering the server's requests ok until a subscriber takes them over.
 */
async function connectSignaling(url: string, token: string): Promise<SignalingSocket> {
  const sig = new SignalingSocket({ requestTimeoutMs: 10_000, socket: (u, protocols) => new WebSocket(u, protocols ?? []) });
  sig.onServerRequest = async () => undefined;
  await sig.connect(url, token);
  return sig;
}

/** NACK and PLI/FIR as a browser declares them: mediasoup then asks the sender for key frames. */
const videoFeedback = [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }];

/** What a subscriber declares it can receive: Opus and VP8 only, no header extensions (no BWE). */
export const minimalRtpCapabilities: ClientRequestData<'setRtpCapabilities'>['rtpCapabilities'] = {
  codecs: [
    { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2, preferredPayloadType: 111, parameters: { useinbandfec: 1 }, rtcpFeedback: [] },
    { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, preferredPayloadType: 96, parameters: {}, rtcpFeedback: videoFeedback },
  ],
  headerExtensions: [],
};

export interface ParticipantOptions {
  /** ws://127.0.0.1:<port>/ws */
  wsUrl: string;
  token: string;
  loadgen: Loadgen;
  /** Unique among the generator's sessions ([A-Za-z0-9_.:-]). */
  name: string;
}

export interface Layer {
  /** Packets per second. */
  rate: number;
  payloadSize: number;
}

export interface PublisherOptions extends ParticipantOptions {
  audio?: boolean;
  /** Simulcast layers, lowest first; [] publishes no video. Default 15/30/55 packets/s. */
  layers?: Layer[];
  keyFrameIntervalMs?: number;
  /** What the video and the audio are published as (default a camera and a microphone; or a screen share with its sound). */
  videoSource?: 'cam' | 'screen';
  audioSource?: 'mic' | 'screenAudio';
  /**
   * Dynacast as the SDK does it: on `layersWanted` for its video, the generator stops sending the
   * layers above the wanted one (all video on null) until told otherwise. Default: every layer always.
   */
  followLayersWanted?: boolean;
  /**
   * The generator holds the video back (the producer exists, like a camera still starting) until
   * `setVideoOn(true)`: a room can fill before its videos load the worker.
   */
  videoHeld?: boolean;
  /**
   * A microphone the room's policy starts paused stays paused (a student who is not speaking). Its
   * track is disabled, as the SDK's pause does, so it encodes silence, which Opus DTX (the SDK
   * publishes with it) sends as a packet every 400 ms (mutedAudioRate); the server drops them.
   * Default: unmuted.
   */
  muted?: boolean;
}

export const defaultLayers: Layer[] = [
  { rate: 15, payloadSize: 1000 },
  { rate: 30, payloadSize: 1100 },
  { rate: 55, payloadSize: 1200 },
];
export const audioRate = 50;
/** Packets per second of a muted microphone: Opus DTX in silence. */
export const mutedAudioRate = 2.5;

/** A joined peer (capabilities sent): one signaling socket, which a member shares between its two transports. */
export interface JoinedPeer {
  sig: SignalingSocket;
  peerId: string;
  audioPayloadType: number | undefined;
}

export async function joinPeer(opts: ParticipantOptions): Promise<JoinedPeer> {
  const sig = await connectSignaling(opts.wsUrl, opts.token);
  try {
    const join = await sig.request('join', {});
    await sig.request('setRtpCapabilities', { rtpCapabilities: minimalRtpCapabilities });
    // Consumers forward with the router's payload types: the audio one lets the generator spot audio.
    const audioPayloadType = join.routerRtpCapabilities.codecs.find((c) => c.kind === 'audio')?.preferredPayloadType;
    return { sig, peerId: join.peerId, audioPayloadType: typeof audioPayloadType === 'number' ? audioPayloadType : undefined };
  } catch (err) {
    sig.close();
    throw err;
  }
}

async function joinAndCreate(opts: ParticipantOptions, direction: 'send' | 'recv', joined?: JoinedPeer) {
  const peer = joined ?? (await joinPeer(opts));
  const { sig } = peer;
  try {
    const t = await sig.request('createTransport', { direction });
    const udp = t.iceCandidates.find((c) => c.protocol === 'udp');
    if (!udp) throw new Error('no UDP ICE candidate');
    await sig.request('connectTransport', {
      transportId: t.id,
      dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: opts.loadgen.fingerprint }] },
    });
    return { sig, peerId: peer.peerId, transport: t, udp, audioPayloadType: peer.audioPayloadType };
  } catch (err) {
    sig.close();
    throw err;
  }
}

export interface Publisher {
  peerId: string;
  sessionId: string;
  audioProducerId: string | undefined;
  videoProducerId: string | undefined;
  /** Dynacast: every `layersWanted` the server sent, with when it arrived (ms since the epoch). */
  layersWanted: (NotificationData<'layersWanted'> & { at: number })[];
  audioSsrc: number | undefined;
  /** Per layer, lowest first. */
  videoSsrcs: number[];
  layers: Layer[];
  /** How many of the layers, lowest first, the generator sends now (followLayersWanted lowers it). */
  readonly sendingLayers: number;
  /** Starts or stops the generator's video (within what layersWanted allows, when followed). */
  setVideoOn(on: boolean): void;
  close(): Promise<void>;
}

/** Joins, produces audio and simulcast video, then starts the generator's sender session. */
export async function startPublisher(opts: PublisherOptions, joined?: JoinedPeer): Promise<Publisher> {
  const layers = opts.layers ?? defaultLayers;
  const { sig, peerId, transport, udp } = await joinAndCreate(opts, 'send', joined);
  const sessionId = `${opts.name}-send`;
  const ssrc = () => randomInt(1, 2 ** 32 - 1);
  const streams: StreamSpec[] = [];
  const cname = `${opts.name}-cname`;
  // Every layersWanted is kept for tests to read; with followLayersWanted the generator obeys it.
  const layersWanted: Publisher['layersWanted'] = [];
  let videoProducerId: string | undefined;
  let videoOn = !opts.videoHeld;
  let wantedLayers = layers.length;
  let sendingLayers = videoOn ? layers.length : 0;
  let sessionAdded = false;
  const sendLayers = () => {
    const n = videoOn ? wantedLayers : 0;
    if (n === sendingLayers) return;
    sendingLayers = n;
    if (sessionAdded) opts.loadgen.setVideoLayers(sessionId, n);
  };
  sig.on('layersWanted', (d) => {
    layersWanted.push({ ...d, at: Date.now() });
    if (!opts.followLayersWanted || d.producerId !== videoProducerId) return;
    wantedLayers = d.spatialLayer === null ? 0 : Math.min(layers.length, d.spatialLayer + 1);
    sendLayers();
  });
  try {
    const produce = async (kind: MediaKind, source: Source, rtpParameters: ClientRequestData<'produce'>['rtpParameters']) => {
      const r = await sig.request('produce', { transportId: transport.id, kind, source, rtpParameters });
      // A student's microphone may start muted by the room's policy: unmute it like the SDK would (unless muted).
      if (r.paused && !opts.muted) await sig.request('resumeProducer', { producerId: r.producerId });
      return r.producerId;
    };
    let audioSsrc: number | undefined;
    let audioProducerId: string | undefined;
    if (opts.audio ?? true) {
      audioSsrc = ssrc();
      audioProducerId = await produce('audio', opts.audioSource ?? 'mic', {
        codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 }, rtcpFeedback: [] }],
        headerExtensions: [],
        encodings: [{ ssrc: audioSsrc }],
        rtcp: { cname, reducedSize: true },
      });
      streams.push({ kind: 'audio', ssrc: audioSsrc, payloadType: 111, rate: opts.muted ? mutedAudioRate : audioRate, payloadSize: 100 });
    }
    const videoSsrcs = layers.map(() => ssrc());
    if (layers.length > 0) {
      // Simulcast by SSRC (no rid, no mid): one encoding per layer, lowest first.
      videoProducerId = await produce('video', opts.videoSource ?? 'cam', {
        codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: videoFeedback }],
        headerExtensions: [],
        encodings: videoSsrcs.map((s) => ({ ssrc: s })),
        rtcp: { cname, reducedSize: true },
      });
      layers.forEach((l, i) => streams.push({ kind: 'video', ssrc: videoSsrcs[i]!, payloadType: 96, rate: l.rate, payloadSize: l.payloadSize }));
    }
    const added = opts.loadgen.addSession({
      id: sessionId,
      role: 'send',
      serverIp: udp.ip,
      serverPort: udp.port,
      iceUfrag: transport.iceParameters.usernameFragment,
      icePwd: transport.iceParameters.password,
      streams,
      ...(opts.keyFrameIntervalMs === undefined ? {} : { keyFrameIntervalMs: opts.keyFrameIntervalMs }),
      // Held video, or a layersWanted that came already, sends nothing more from the first packet.
      ...(sendingLayers < layers.length ? { videoLayers: sendingLayers } : {}),
    });
    // The generator runs commands in order: from here on, layer changes may go to the session.
    sessionAdded = true;
    await added;
    return {
      peerId,
      sessionId,
      audioProducerId,
      videoProducerId,
      layersWanted,
      audioSsrc,
      videoSsrcs,
      layers,
      get sendingLayers() {
        return sendingLayers;
      },
      setVideoOn(on: boolean) {
        videoOn = on;
        sendLayers();
      },
      close: () => leave(sig, opts.loadgen, sessionId),
    };
  } catch (err) {
    sig.close();
    opts.loadgen.removeSession(sessionId);
    throw err;
  }
}

export interface ConsumerInfo {
  id: string;
  producerId: string;
  kind: MediaKind;
  ssrc: number;
  /** Latest consumerLayersChanged (video simulcast): null when nothing is forwarded. */
  spatialLayer: number | null;
  /** Its producer is paused (a muted microphone): nothing is forwarded. */
  producerPaused: boolean;
}

export interface Subscriber {
  peerId: string;
  sessionId: string;
  /** By consumer id; filled as the server offers consumers. */
  consumers: Map<string, ConsumerInfo>;
  /**
   * Says what this subscriber shows (setView; until then the server chooses for it): the videos
   * of these consumers at these sizes, in this order. Answers the ones the server forwards.
   */
  setView(videos: { consumerId: string; width: number; height?: number }[], audioOnly?: boolean): Promise<string[]>;
  close(): Promise<void>;
}

/** Joins, creates a receive transport, accepts every consumer, and starts a generator receiver session. */
export async function startSubscriber(opts: ParticipantOptions, joined?: JoinedPeer): Promise<Subscriber> {
  const consumers = new Map<string, ConsumerInfo>();
  const sessionId = `${opts.name}-recv`;
  const peer = joined ?? (await joinPeer(opts));
  // The server offers consumers as soon as the receive transport exists: follow them from before.
  peer.sig.onServerRequest = async (method, request) => {
    if (method !== 'newConsumer') return;
    const data = request as ServerRequestData<'newConsumer'>;
    const ssrc = data.rtpParameters.encodings?.[0]?.ssrc;
    consumers.set(data.id, { id: data.id, producerId: data.producerId, kind: data.kind, ssrc: typeof ssrc === 'number' ? ssrc : 0, spatialLayer: null, producerPaused: data.producerPaused });
  };
  const producerPaused = (consumerId: string, paused: boolean) => {
    const c = consumers.get(consumerId);
    if (c) c.producerPaused = paused;
  };
  peer.sig.on('consumerPaused', ({ consumerId }) => producerPaused(consumerId, true));
  peer.sig.on('consumerResumed', ({ consumerId }) => producerPaused(consumerId, false));
  peer.sig.on('consumerLayersChanged', ({ consumerId, spatialLayer }) => {
    const c = consumers.get(consumerId);
    if (c) c.spatialLayer = spatialLayer;
  });
  peer.sig.on('consumerClosed', ({ consumerId }) => consumers.delete(consumerId));
  const { sig, peerId, transport, udp, audioPayloadType } = await joinAndCreate(opts, 'recv', peer);
  try {
    await opts.loadgen.addSession({
      id: sessionId,
      role: 'recv',
      serverIp: udp.ip,
      serverPort: udp.port,
      iceUfrag: transport.iceParameters.usernameFragment,
      icePwd: transport.iceParameters.password,
      audioPayloadType,
    });
  } catch (err) {
    sig.close();
    opts.loadgen.removeSession(sessionId);
    throw err;
  }
  const setView: Subscriber['setView'] = async (videos, audioOnly = false) => {
    const shown = videos.map((v) => ({ consumerId: v.consumerId, width: v.width, height: v.height ?? Math.round((v.width * 9) / 16) }));
    return (await sig.request('setView', { videos: shown, audioOnly })).receiving;
  };
  return { peerId, sessionId, consumers, setView, close: () => leave(sig, opts.loadgen, sessionId) };
}

async function leave(sig: SignalingSocket, loadgen: Loadgen, sessionId: string): Promise<void> {
  await sig.request('leave', {}, { timeoutMs: 3000 }).catch(() => undefined);
  sig.close();
  loadgen.removeSession(sessionId);
}

/**
 * A meeting participant: one peer that publishes and receives everyone else, as a browser does.
 * `signaling`: its socket, for requests of its own (a teacher's setVideoLimits).
 */
export async function startMember(opts: PublisherOptions): Promise<{ publisher: Publisher; subscriber: Subscriber; signaling: SignalingSocket }> {
  const peer = await joinPeer(opts);
  try {
    const subscriber = await startSubscriber(opts, peer);
    const publisher = await startPublisher(opts, peer);
    return { publisher, subscriber, signaling: peer.sig };
  } catch (err) {
    peer.sig.close();
    throw err;
  }
}
