import type { types } from 'mediasoup';
import type { Direction } from '../../protocol/schema.js';
import { conflict, forbidden, notFound } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { TransportData } from './appData.js';
import type { Peer } from './peer.js';
import type { Placement } from './placement.js';

/** A client re-creating transports (ICE fallback) may briefly hold an old and a new one. */
const maxTransportsPerDirection = 2;

export interface TransportOptions {
  log: Logger;
  /** A transport's DTLS failed ('dtls') or its ICE got disconnected ('ice'), for metrics. */
  onFailure?: ((kind: 'dtls' | 'ice') => void) | undefined;
}

/**
 * A WebRTC transport for `peer` on its router (placed there at its first), at most two per
 * direction; the peer owns it (peer.transports) until it closes.
 */
export async function openTransport(placement: Placement, peer: Peer, direction: Direction, opts: TransportOptions): Promise<types.WebRtcTransport<TransportData>> {
  if (direction === 'send' && peer.role === 'observer') throw forbidden('observers cannot publish');
  const same = [...peer.transports.values()].filter((t) => t.appData.direction === direction);
  if (same.length >= maxTransportsPerDirection) {
    throw conflict(`already ${same.length} ${direction} transports; close one first (closeTransport)`);
  }
  const home = await placement.homeOf(peer);
  const transport = await home.router.createWebRtcTransport<TransportData>({
    webRtcServer: home.host.webRtcServer,
    enableUdp: true,
    enableTcp: true,
    preferUdp: true,
    initialAvailableOutgoingBitrate: 1_000_000,
    appData: { direction },
  });
  // Re-checked after the wait: the peer may have left, or its previous socket (a resumed
  // session) may have added one meanwhile.
  const now = [...peer.transports.values()].filter((t) => t.appData.direction === direction).length;
  if (peer.closed || now >= maxTransportsPerDirection) {
    transport.close();
    throw peer.closed ? notFound('peer left') : conflict(`already ${now} ${direction} transports; close one first (closeTransport)`);
  }
  peer.transports.set(transport.id, transport);
  transport.observer.once('close', () => peer.transports.delete(transport.id));
  transport.on('dtlsstatechange', (state) => {
    if (state === 'failed' || state === 'closed') opts.log.warn({ peer: peer.id, transport: transport.id, state }, 'DTLS state');
    if (state === 'failed') opts.onFailure?.('dtls');
  });
  transport.on('icestatechange', (state) => {
    if (state === 'disconnected') opts.onFailure?.('ice');
  });
  if (direction === 'send') await transport.setMaxIncomingBitrate(5_000_000);
  return transport;
}
