import type { types } from 'mediasoup';
import type { ConsumerData, Peer, Source } from '../rooms/peer.js';

/**
 * How the server shares a poor downlink: mediasoup hands out the estimated bitrate by consumer
 * priority (the teacher's video first) and never drops audio for video; on top of that, while a
 * peer's downlink is poor, the other videos it receives are held to their lowest layer, and raised
 * again once the link has been good for a while.
 */

/** Higher goes first when bitrate is short: the teacher's screen, then the teacher's camera. */
export function consumerPriority(ownerRole: string, source: Source): number {
  if (ownerRole === 'teacher') return source === 'screen' ? 255 : 200;
  return source === 'screen' ? 150 : 100;
}

/** The highest layer number there can be; mediasoup clamps it to what the stream has. */
const topLayer = 3;

/** The spatial layer a consumer should be given now. */
export function targetSpatialLayer(peer: Peer, data: ConsumerData): number {
  const wanted = data.preferredSpatial ?? topLayer;
  return peer.downlinkCapped && data.ownerRole !== 'teacher' ? 0 : wanted;
}

export async function applyLayers(peer: Peer, consumer: types.Consumer<ConsumerData>): Promise<void> {
  if (consumer.closed || (consumer.type !== 'simulcast' && consumer.type !== 'svc')) return;
  await consumer.setPreferredLayers({ spatialLayer: targetSpatialLayer(peer, consumer.appData) }).catch(() => undefined);
}

/** Holds down or releases every video this peer receives. */
export async function setDownlinkCapped(peer: Peer, capped: boolean): Promise<void> {
  if (peer.downlinkCapped === capped) return;
  peer.downlinkCapped = capped;
  await Promise.all([...peer.consumers.values()].map((c) => applyLayers(peer, c)));
}
