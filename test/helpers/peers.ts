import type { ClientResponseData, Direction, Role } from '../../protocol/schema.js';
import type { AccessClaims } from '../../server/auth/tokens.js';
import { opusRtpParameters, vp8RtpParameters, vp8SimulcastRtpParameters } from './rtpParameters.js';
import { waitFor } from './serverProcess.js';
import { WsClient } from './wsClient.js';

/**
 * Protocol peers for tests that speak to the server directly: connect with a token, join as a
 * browser would, publish, and wait for what the server sends. Every client opened is kept in
 * `clients` so that a test file can close them all at the end.
 */
export interface PeerKitOptions {
  /** The server's WebSocket URL (read on each connect: the server may start after the kit is made). */
  wsUrl: () => string;
  /** Signs an access token for these claims. */
  sign: (claims: AccessClaims) => Promise<string>;
}

export interface Joined {
  c: WsClient;
  peerId: string;
  /** '' when no such transport was created (an observer has no send transport). */
  sendId: string;
  recvId: string;
  /** The join answer. */
  join: ClientResponseData<'join'>;
}

export interface PeerKit {
  readonly clients: WsClient[];
  /** Opens a socket for `user` in `room` (at `wsUrl`, else the kit's server). */
  connect(room: string, user: string, role?: Role, wsUrl?: string): Promise<WsClient>;
  /**
   * Joins as a browser would: capabilities, then the transports in the order given (default: a
   * receive transport, and a send transport unless observing).
   */
  joinFully(room: string, user: string, role?: Role, transports?: Direction[]): Promise<Joined>;
  closeAll(): void;
}

export function peerKit(opts: PeerKitOptions): PeerKit {
  const clients: WsClient[] = [];
  const connect = async (room: string, user: string, role: Role = 'student', wsUrl = opts.wsUrl()) => {
    const c = await WsClient.connect(`${wsUrl}?token=${await opts.sign({ room, sub: user, name: user, role })}`);
    clients.push(c);
    return c;
  };
  const joinFully = async (room: string, user: string, role: Role = 'student', transports: Direction[] = role === 'observer' ? ['recv'] : ['recv', 'send']) => {
    const c = await connect(room, user, role);
    const join = await c.request('join', {});
    await c.request('setRtpCapabilities', { rtpCapabilities: join.routerRtpCapabilities });
    const ids = { send: '', recv: '' };
    for (const direction of transports) ids[direction] = (await c.request('createTransport', { direction })).id;
    return { c, peerId: join.peerId, sendId: ids.send, recvId: ids.recv, join };
  };
  return { clients, connect, joinFully, closeAll: () => clients.forEach((c) => c.close()) };
}

/** A kit for a server started by the test helpers (tokens valid 10 minutes). */
export const peerKitFor = (server: () => { wsUrl: string; tokens: { sign(claims: AccessClaims, ttlSec: number): Promise<string> } }) =>
  peerKit({ wsUrl: () => server().wsUrl, sign: (claims) => server().tokens.sign(claims, 600) });

let ssrc = 5000;
/** A fresh SSRC for a test producer. */
export const nextSsrc = () => ssrc++;

/** Publishes an Opus microphone on the peer's send transport. */
export const produceMic = (p: Joined) =>
  p.c.request('produce', { transportId: p.sendId, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(nextSsrc()) });

/** Publishes Opus audio of another source (a screen share's sound). */
export const produceAudio = (p: Joined, source: 'mic' | 'screenAudio') =>
  p.c.request('produce', { transportId: p.sendId, kind: 'audio', source, rtpParameters: opusRtpParameters(nextSsrc()) });

/** Publishes a VP8 camera (or screen share) on the peer's send transport. */
export const produceVideo = (p: Joined, source: 'cam' | 'screen' = 'cam') =>
  p.c.request('produce', { transportId: p.sendId, kind: 'video', source, rtpParameters: vp8RtpParameters(nextSsrc()) });

/** Publishes a 3-layer VP8 simulcast camera (or screen share). */
export const produceSimulcast = (p: Joined, source: 'cam' | 'screen' = 'cam') =>
  p.c.request('produce', { transportId: p.sendId, kind: 'video', source, rtpParameters: vp8SimulcastRtpParameters([nextSsrc(), nextSsrc(), nextSsrc()]) });

/** Waits for a notification of `method` whose data matches, and returns it. */
export const notified = (c: WsClient, method: string, match: (d: Record<string, unknown>) => boolean = () => true) =>
  waitFor(() => c.notifications.find((n) => n.method === method && match(n.data as Record<string, unknown>)), 5000, `${method} notification`);

/** The consumer id `p` was offered for `producerId` (waits for the server's newConsumer). */
export const consumerFor = (p: Joined, producerId: string) =>
  waitFor(() => p.c.serverRequests.find((r) => r.method === 'newConsumer' && r.data.producerId === producerId)?.data.id as string | undefined, 5000, `newConsumer for ${producerId}`);

/** The error code a request is refused with (undefined when it succeeds). */
export const errorOf = async (c: WsClient, method: string, data: unknown = {}) => (await c.call(method, data)).error?.code;
