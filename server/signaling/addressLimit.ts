import net from 'node:net';
import type { Duplex } from 'node:stream';

/** An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d: the same client as a.b.c.d. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/**
 * The address a request comes from: the socket's peer (`remote`), unless that peer is one of
 * `trustedProxies`; then the address that proxy appended to X-Forwarded-For (read from the right,
 * past further trusted proxies). Entries left of those were written by the client: ignored.
 */
export function clientAddress(remote: string | undefined, forwardedFor: string | string[] | undefined, trustedProxies: ReadonlySet<string>): string {
  let address = normalizeAddress(remote ?? 'unknown');
  if (!trustedProxies.has(address)) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : (forwardedFor ?? '')).split(',').map((h) => h.trim());
  while (trustedProxies.has(address)) {
    const hop = normalizeAddress(hops.pop() ?? '');
    if (!net.isIP(hop)) break; // no (usable) header: the proxy itself is the client
    address = hop;
  }
  return address;
}

/**
 * Open sockets per client address, each counted from its upgrade request until its TCP connection
 * closes (so that many upgrades at once, still checking their tokens, count too). 0: no limit.
 */
export class AddressLimit {
  private readonly open = new Map<string, number>();
  /** Addresses refused since they were last under their limit: logged once, not per socket. */
  private readonly refused = new Set<string>();

  constructor(private readonly max: number) {}

  /** Counts `socket` against `address`; 'refused' (nothing counted) at the limit, 'first' the first time in a row. */
  admit(address: string, socket: Duplex): 'ok' | 'refused' | 'first-refusal' {
    if (this.max === 0 || socket.destroyed) return 'ok';
    const n = this.open.get(address) ?? 0;
    if (n >= this.max) {
      if (this.refused.has(address)) return 'refused';
      this.refused.add(address);
      return 'first-refusal';
    }
    this.open.set(address, n + 1);
    socket.once('close', () => {
      const left = (this.open.get(address) ?? 1) - 1;
      if (left > 0) this.open.set(address, left);
      else this.open.delete(address);
      this.refused.delete(address);
    });
    return 'ok';
  }

  /** Open sockets of `address` (for tests and logs). */
  count(address: string): number {
    return this.open.get(address) ?? 0;
  }
}
