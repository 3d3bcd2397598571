import dgram from 'node:dgram';
import net from 'node:net';
import { Attr, Class, Method, attr, channelData, decode, encode, errorOf, longTermKey, newTid, readXorAddress, u32, xorAddress, type StunMessage, type TransportAddress } from './stun.js';

/**
 * A TURN client of the tests' own, over UDP or TCP to a TURN server on loopback. It sends data
 * through the relay (Send indication, ChannelData) only to loopback peers, and refuses to do
 * otherwise: tests send traffic to loopback and nowhere else. Everything else it sends (Allocate,
 * CreatePermission) goes to the TURN server only and carries no data for any peer.
 */

export interface TurnAnswer {
  /** 200 on success, else the STUN error code (401, 403, 442...), or 0 with no answer. */
  code: number;
  reason: string;
  message?: StunMessage;
}

export interface Received {
  from: TransportAddress;
  data: Buffer;
}

/** Only these may receive what the relay sends: 127.0.0.0/8 and ::1. */
export function isLoopback(ip: string): boolean {
  return (net.isIPv4(ip) && ip.startsWith('127.')) || ip === '::1';
}

function assertLoopback(ip: string): void {
  if (!isLoopback(ip)) throw new Error(`the test TURN client relays data to loopback peers only, not ${ip}`);
}

interface Wire {
  send(b: Buffer): void;
  close(): void;
}

export class TurnClient {
  private auth?: { username: string; realm: string; nonce: string; key: Buffer };
  private readonly pending = new Map<string, (m: StunMessage) => void>();
  private readonly listeners: ((r: Received) => void)[] = [];
  private readonly channels = new Map<number, TransportAddress>();
  private allocated = false;

  private constructor(private wire: Wire | undefined, private readonly isUdp: boolean) {}

  /** Connects to a TURN server, which must be on loopback too. */
  static async connect(server: { host: string; port: number; transport?: 'udp' | 'tcp' }): Promise<TurnClient> {
    assertLoopback(server.host);
    if (server.transport === 'tcp') {
      const socket = net.connect({ host: server.host, port: server.port });
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      const client = new TurnClient({ send: (b) => socket.write(b), close: () => socket.destroy() }, false);
      let buffered = Buffer.alloc(0);
      socket.on('data', (d: Buffer) => {
        buffered = Buffer.concat([buffered, d]);
        for (;;) {
          if (buffered.length < 4) return;
          const isChannel = (buffered[0]! & 0xc0) === 0x40;
          const len = isChannel ? 4 + Math.ceil(buffered.readUInt16BE(2) / 4) * 4 : 20 + buffered.readUInt16BE(2);
          if (buffered.length < len) return;
          client.onPacket(buffered.subarray(0, len));
          buffered = buffered.subarray(len);
        }
      });
      socket.on('error', () => undefined);
      return client;
    }
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve) => socket.connect(server.port, server.host, resolve));
    const client = new TurnClient({ send: (b) => socket.send(b), close: () => socket.close() }, true);
    socket.on('message', (m) => client.onPacket(m));
    return client;
  }

  /**
   * Allocate with long-term credentials: the first request gets 401 with the realm and a nonce,
   * the second carries MESSAGE-INTEGRITY. `transport` is REQUESTED-TRANSPORT (17 UDP, 6 TCP).
   */
  async allocate(
    creds: { username: string; password: string },
    opts: { transport?: 6 | 17; family?: 4 | 6; lifetime?: number } = {},
  ): Promise<TurnAnswer & { relayed?: TransportAddress; lifetime?: number }> {
    const attrs: { type: number; value: Buffer }[] = [{ type: Attr.requestedTransport, value: Buffer.from([opts.transport ?? 17, 0, 0, 0]) }];
    if (opts.family === 6) attrs.push({ type: Attr.requestedAddressFamily, value: Buffer.from([0x02, 0, 0, 0]) });
    if (opts.lifetime !== undefined) attrs.push({ type: Attr.lifetime, value: u32(opts.lifetime) });
    const first = await this.request(Method.allocate, attrs, false);
    if (first.code !== 401 || !first.message) return first;
    const realm = attr(first.message, Attr.realm)?.toString('utf8') ?? '';
    const nonce = attr(first.message, Attr.nonce)?.toString('utf8') ?? '';
    this.auth = { username: creds.username, realm, nonce, key: longTermKey(creds.username, realm, creds.password) };
    const answer = await this.request(Method.allocate, attrs);
    if (answer.code !== 200 || !answer.message) return answer;
    this.allocated = true;
    const relayed = attr(answer.message, Attr.xorRelayedAddress);
    const lifetime = attr(answer.message, Attr.lifetime);
    return { ...answer, ...(relayed ? { relayed: readXorAddress(relayed, answer.message.tid) } : {}), ...(lifetime ? { lifetime: lifetime.readUInt32BE(0) } : {}) };
  }

  /** CreatePermission for a peer IP: sends nothing to the peer, only asks the server. */
  createPermission(peerIp: string): Promise<TurnAnswer> {
    return this.request(Method.createPermission, [{ type: Attr.xorPeerAddress, value: (tid) => xorAddress({ address: peerIp, port: 0 }, tid) }]);
  }

  /** ChannelBind to a loopback peer (data sent on the channel goes there). */
  async channelBind(channel: number, peer: TransportAddress): Promise<TurnAnswer> {
    assertLoopback(peer.address);
    const answer = await this.request(Method.channelBind, [
      { type: Attr.channelNumber, value: Buffer.from([channel >> 8, channel & 0xff, 0, 0]) },
      { type: Attr.xorPeerAddress, value: (tid) => xorAddress(peer, tid) },
    ]);
    if (answer.code === 200) this.channels.set(channel, peer);
    return answer;
  }

  /** A Send indication: the relay sends `data` to the peer, which must be on loopback. */
  sendIndication(peer: TransportAddress, data: Buffer): void {
    assertLoopback(peer.address);
    const tid = newTid();
    this.wire?.send(encode({ method: Method.send, cls: Class.indication, tid, attrs: [{ type: Attr.xorPeerAddress, value: xorAddress(peer, tid) }, { type: Attr.data, value: data }] }));
  }

  /** ChannelData on a channel bound (by this client, so to a loopback peer) before. */
  sendChannelData(channel: number, data: Buffer): void {
    const peer = this.channels.get(channel);
    if (!peer) throw new Error(`channel ${channel} is not bound`);
    assertLoopback(peer.address);
    const frame = channelData(channel, data);
    this.wire?.send(this.isUdp ? frame : Buffer.concat([frame, Buffer.alloc((4 - (frame.length % 4)) % 4)]));
  }

  /** Data the relay delivers back from peers (Data indications and ChannelData). */
  onData(listener: (r: Received) => void): void {
    this.listeners.push(listener);
  }

  /** Frees the allocation (Refresh with LIFETIME 0) and closes the socket. */
  async close(): Promise<void> {
    if (this.allocated) await this.request(Method.refresh, [{ type: Attr.lifetime, value: u32(0) }], true, 1000);
    this.wire?.close();
    this.wire = undefined;
  }

  private async request(method: number, attrs: { type: number; value: Buffer | ((tid: Buffer) => Buffer) }[], signed = true, timeoutMs = 5000): Promise<TurnAnswer> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const answer = await this.transact(method, attrs, signed, timeoutMs);
      // A stale nonce: take the new one and ask once more.
      if (answer.code === 438 && answer.message && this.auth) {
        this.auth.nonce = attr(answer.message, Attr.nonce)?.toString('utf8') ?? this.auth.nonce;
        continue;
      }
      return answer;
    }
    return { code: 438, reason: 'stale nonce twice' };
  }

  private transact(method: number, attrs: { type: number; value: Buffer | ((tid: Buffer) => Buffer) }[], signed: boolean, timeoutMs: number): Promise<TurnAnswer> {
    const tid = newTid();
    const all = attrs.map((a) => ({ type: a.type, value: typeof a.value === 'function' ? a.value(tid) : a.value }));
    if (signed && this.auth) {
      all.push({ type: Attr.username, value: Buffer.from(this.auth.username) }, { type: Attr.realm, value: Buffer.from(this.auth.realm) }, { type: Attr.nonce, value: Buffer.from(this.auth.nonce) });
    }
    const packet = encode({ method, cls: Class.request, tid, attrs: all }, signed ? this.auth?.key : undefined);
    return new Promise((resolve) => {
      const key = tid.toString('hex');
      // Over UDP, resend the same transaction now and then (RFC 8489 retransmission, simplified).
      const resend = this.isUdp ? setInterval(() => this.wire?.send(packet), 500) : undefined;
      const timer = setTimeout(() => finish({ code: 0, reason: 'no answer' }), timeoutMs);
      const finish = (a: TurnAnswer) => {
        clearInterval(resend);
        clearTimeout(timer);
        this.pending.delete(key);
        resolve(a);
      };
      this.pending.set(key, (m) => finish(m.cls === Class.success ? { code: 200, reason: 'OK', message: m } : { ...errorOf(m), message: m }));
      this.wire?.send(packet);
    });
  }

  private onPacket(buf: Buffer): void {
    if ((buf[0]! & 0xc0) === 0x40 && buf.length >= 4) {
      const peer = this.channels.get(buf.readUInt16BE(0));
      if (peer) for (const l of this.listeners) l({ from: peer, data: buf.subarray(4, 4 + buf.readUInt16BE(2)) });
      return;
    }
    const m = decode(buf);
    if (!m) return;
    if (m.method === Method.data && m.cls === Class.indication) {
      const peer = attr(m, Attr.xorPeerAddress);
      const data = attr(m, Attr.data);
      if (peer && data) for (const l of this.listeners) l({ from: readXorAddress(peer, m.tid), data });
      return;
    }
    this.pending.get(m.tid.toString('hex'))?.(m);
  }
}

/**
 * Allocates (a fresh client, over UDP) and asks permission for one peer, then frees it all:
 * 'refused' when the Allocate fails, 'forbidden' on 403, 'permitted' when the relay would let data
 * through to that peer. Sends the peer nothing either way.
 */
export async function permissionFor(opts: { host?: string; port: number; username: string; password: string; peer: string; family?: 4 | 6 }): Promise<'refused' | 'forbidden' | 'permitted' | `error ${number}`> {
  const client = await TurnClient.connect({ host: opts.host ?? '127.0.0.1', port: opts.port });
  try {
    const allocation = await client.allocate(opts, opts.family ? { family: opts.family } : {});
    if (allocation.code !== 200) return 'refused';
    const answer = await client.createPermission(opts.peer);
    return answer.code === 200 ? 'permitted' : answer.code === 403 ? 'forbidden' : `error ${answer.code}`;
  } finally {
    await client.close();
  }
}
