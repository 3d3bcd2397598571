import net from 'node:net';
import { ipBytes, type IpBytes } from './ipAddress.js';

/**
 * Decides, as coturn 4.6 does (good_peer_addr in src/server/ns_turn_server.c), whether a rendered
 * turnserver.conf lets a client relay to a peer address, so that a test can ask about any address
 * without sending it a packet. The order is coturn's:
 *   1. no-multicast-peers: IPv4 224.0.0.0 and above, IPv6 ff00::/8 refused;
 *   2. loopback (127.0.0.0/8, ::1) refused unless allow-loopback-peers;
 *   3. the zero addresses (0.0.0.0/8, ::) refused;
 *   4. an allowed-peer-ip that covers the address: allowed;
 *   5. a denied-peer-ip that covers it: refused;
 *   6. anything else: allowed.
 * Ranges compare as coturn's ioa_addr_in_range and addr_less_eq do: a range whose low end is the
 * zero address has no low end; addresses of different families order AF_INET (2) before AF_INET6
 * (10); IPv6 addresses compare byte by byte (each byte within its bounds), not as numbers.
 */
export type PeerVerdict = 'allowed' | 'denied';

type Address = IpBytes;

interface Range {
  min: Address;
  max: Address;
}

export interface PeerRules {
  allowed: Range[];
  denied: Range[];
  allowLoopback: boolean;
  noMulticast: boolean;
}

function parseAddress(text: string): Address {
  if (!net.isIP(text)) throw new Error(`not an IP address (coturn would resolve it as a host name): ${text}`);
  return ipBytes(text);
}

function parseRange(text: string): Range {
  const [lo, hi] = text.split('-');
  const min = parseAddress(lo!.trim());
  return { min, max: hi === undefined ? min : parseAddress(hi.trim()) };
}

const afValue = (a: Address) => (a.family === 4 ? 2 : 10);
const isZero = (a: Address) => a.bytes.every((b) => b === 0);

function lessEq(a: Address, b: Address): boolean {
  if (a.family !== b.family) return afValue(a) < afValue(b);
  if (a.family === 4) return a.bytes.reduce((n, x) => n * 256 + x, 0) <= b.bytes.reduce((n, x) => n * 256 + x, 0);
  return a.bytes.every((x, i) => x <= b.bytes[i]!);
}

function inRange(r: Range, a: Address): boolean {
  if (!(isZero(r.min) || lessEq(r.min, a))) return false;
  return isZero(r.max) || lessEq(a, r.max);
}

/** The peer rules of a rendered turnserver.conf. */
export function parsePeerRules(conf: string): PeerRules {
  const rules: PeerRules = { allowed: [], denied: [], allowLoopback: false, noMulticast: false };
  for (const raw of conf.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#')) continue;
    const [key, value] = line.split('=', 2) as [string, string | undefined];
    if (key === 'allowed-peer-ip' && value) rules.allowed.push(parseRange(value));
    else if (key === 'denied-peer-ip' && value) rules.denied.push(parseRange(value));
    else if (key === 'allow-loopback-peers') rules.allowLoopback = true;
    else if (key === 'no-multicast-peers') rules.noMulticast = true;
  }
  return rules;
}

/** Whether coturn with these rules would relay to `peer`. */
export function peerVerdict(rules: PeerRules, peer: string): PeerVerdict {
  const a = parseAddress(peer);
  const [b0, b15] = [a.bytes[0]!, a.bytes[a.bytes.length - 1]!];
  const multicast = a.family === 4 ? b0 > 223 : b0 === 255;
  const loopback = a.family === 4 ? b0 === 127 : b15 === 1 && a.bytes.slice(0, 15).every((b) => b === 0);
  const zero = a.family === 4 ? b0 === 0 : isZero(a);
  if ((rules.noMulticast && multicast) || (!rules.allowLoopback && loopback) || zero) return 'denied';
  if (rules.allowed.some((r) => inRange(r, a))) return 'allowed';
  if (rules.denied.some((r) => inRange(r, a))) return 'denied';
  return 'allowed';
}
