import { createHash, createHmac, randomBytes } from 'node:crypto';
import net from 'node:net';
import { ipBytes } from './ipAddress.js';

// STUN (RFC 8489) and TURN (RFC 8656) messages: just what the tests' TURN client sends and reads.

export const MAGIC = 0x2112a442;

export const Method = { allocate: 0x003, refresh: 0x004, send: 0x006, data: 0x007, createPermission: 0x008, channelBind: 0x009 } as const;
export const Class = { request: 0x000, indication: 0x010, success: 0x100, error: 0x110 } as const;

export const Attr = {
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  channelNumber: 0x000c,
  lifetime: 0x000d,
  xorPeerAddress: 0x0012,
  data: 0x0013,
  realm: 0x0014,
  nonce: 0x0015,
  xorRelayedAddress: 0x0016,
  requestedAddressFamily: 0x0017,
  requestedTransport: 0x0019,
} as const;

export interface TransportAddress {
  address: string;
  port: number;
}

export interface StunMessage {
  method: number;
  cls: number;
  tid: Buffer;
  attrs: { type: number; value: Buffer }[];
}

export function newTid(): Buffer {
  return randomBytes(12);
}

/** The long-term credential key: MD5(username:realm:password). */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`).digest();
}

/** Serializes a message; with a key, appends MESSAGE-INTEGRITY over everything before it. */
export function encode(msg: StunMessage, key?: Buffer): Buffer {
  const parts: Buffer[] = [];
  for (const { type, value } of msg.attrs) parts.push(attribute(type, value));
  let body = Buffer.concat(parts);
  const header = (length: number) => {
    const h = Buffer.alloc(20);
    h.writeUInt16BE(msg.method | msg.cls, 0);
    h.writeUInt16BE(length, 2);
    h.writeUInt32BE(MAGIC, 4);
    msg.tid.copy(h, 8);
    return h;
  };
  if (key) {
    // The length field counts the MESSAGE-INTEGRITY attribute the HMAC is then appended as.
    const hmac = createHmac('sha1', key).update(Buffer.concat([header(body.length + 24), body])).digest();
    body = Buffer.concat([body, attribute(Attr.messageIntegrity, hmac)]);
  }
  return Buffer.concat([header(body.length), body]);
}

function attribute(type: number, value: Buffer): Buffer {
  const out = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(value.length, 2);
  value.copy(out, 4);
  return out;
}

/** Parses a STUN message, or returns undefined for anything else (ChannelData, junk). */
export function decode(buf: Buffer): StunMessage | undefined {
  if (buf.length < 20 || (buf[0]! & 0xc0) !== 0 || buf.readUInt32BE(4) !== MAGIC) return undefined;
  const type = buf.readUInt16BE(0);
  const length = buf.readUInt16BE(2);
  if (20 + length > buf.length) return undefined;
  const attrs: StunMessage['attrs'] = [];
  for (let at = 20; at + 4 <= 20 + length; ) {
    const t = buf.readUInt16BE(at);
    const len = buf.readUInt16BE(at + 2);
    attrs.push({ type: t, value: buf.subarray(at + 4, at + 4 + len) });
    at += 4 + Math.ceil(len / 4) * 4;
  }
  return { method: type & 0x3eef, cls: type & 0x0110, tid: buf.subarray(8, 20), attrs };
}

export function attr(msg: StunMessage, type: number): Buffer | undefined {
  return msg.attrs.find((a) => a.type === type)?.value;
}

/** ERROR-CODE as a number (e.g. 403) and its reason phrase. */
export function errorOf(msg: StunMessage): { code: number; reason: string } {
  const v = attr(msg, Attr.errorCode);
  if (!v || v.length < 4) return { code: 0, reason: 'no ERROR-CODE' };
  return { code: (v[2]! & 0x7) * 100 + v[3]!, reason: v.subarray(4).toString('utf8') };
}

/** XOR-PEER-ADDRESS / XOR-RELAYED-ADDRESS value for an address. */
export function xorAddress(a: TransportAddress, tid: Buffer): Buffer {
  const v6 = net.isIPv6(a.address);
  const out = Buffer.alloc(v6 ? 20 : 8);
  out[1] = v6 ? 0x02 : 0x01;
  out.writeUInt16BE(a.port ^ (MAGIC >>> 16), 2);
  const raw = ipBytes(a.address).bytes;
  const mask = Buffer.concat([u32(MAGIC), tid]);
  for (let i = 0; i < raw.length; i++) out[4 + i] = raw[i]! ^ mask[i]!;
  return out;
}

export function readXorAddress(v: Buffer, tid: Buffer): TransportAddress {
  const mask = Buffer.concat([u32(MAGIC), tid]);
  const port = v.readUInt16BE(2) ^ (MAGIC >>> 16);
  const raw = Buffer.from(v.subarray(4).map((b, i) => b ^ mask[i]!));
  if (v[1] === 0x01) return { address: [...raw].join('.'), port };
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(raw.readUInt16BE(i).toString(16));
  return { address: groups.join(':'), port };
}

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** ChannelData (RFC 8656 12.4): channel number, length, data; padded to 4 bytes over TCP only. */
export function channelData(channel: number, data: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(channel, 0);
  head.writeUInt16BE(data.length, 2);
  return Buffer.concat([head, data]);
}
