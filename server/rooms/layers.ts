import type { types } from 'mediasoup';
import type { Role, Source } from '../../protocol/schema.js';
import type { ConsumerData } from './appData.js';

/**
 * Which video layers a participant receives. mediasoup hands out the estimated bitrate by consumer
 * priority (the teacher's video first) and never drops audio for video; on top of that, while a
 * receiver's downlink is held down (the quality monitor decides when), the other videos it
 * receives are given their lowest spatial layer.
 */

/** Higher goes first when bitrate is short: the teacher's screen, then the teacher's camera. */
export function consumerPriority(ownerRole: Role, source: Source): number {
  if (ownerRole === 'teacher') return source === 'screen' ? 255 : 200;
  return source === 'screen' ? 150 : 100;
}

/** The highest layer number there can be; mediasoup clamps it to what the stream has. */
export const topLayer = 3;

/**
 * The spatial layer for a video shown `width` device pixels wide, for the SDK's camera ladder of
 * 160x90, 640x360 and 1280x720 (scaleResolutionDownBy 8, 2, 1): the smallest layer at least as wide.
 */
export function layerForWidth(width: number): number {
  if (width <= 160) return 0;
  if (width <= 640) return 1;
  return topLayer;
}

/** The spatial layer a consumer should be given now; the teacher's video is never held down. */
export function targetSpatialLayer(data: ConsumerData, downlinkHeld: boolean): number {
  const wanted = data.preferredSpatial ?? topLayer;
  return downlinkHeld && data.ownerRole !== 'teacher' ? 0 : wanted;
}

/** Whether a consumer has layers to choose from (simulcast, SVC). */
export function hasLayers(consumer: types.Consumer): boolean {
  return consumer.type === 'simulcast' || consumer.type === 'svc';
}

/** Gives a consumer with layers (simulcast, SVC) the spatial layer it should have now. */
export async function applyLayers(consumer: types.Consumer<ConsumerData>, downlinkHeld: boolean): Promise<void> {
  if (consumer.closed || !hasLayers(consumer)) return;
  await consumer.setPreferredLayers({ spatialLayer: targetSpatialLayer(consumer.appData, downlinkHeld) }).catch(() => undefined);
}

/**
 * The client's choice of layers for one consumer (setConsumerPreferredLayers, or the size its view
 * shows it at); a held-down downlink keeps holding it down.
 */
export async function preferLayers(consumer: types.Consumer<ConsumerData>, spatialLayer: number, temporalLayer: number | undefined, downlinkHeld: boolean): Promise<void> {
  consumer.appData.preferredSpatial = spatialLayer;
  await consumer.setPreferredLayers({
    spatialLayer: targetSpatialLayer(consumer.appData, downlinkHeld),
    ...(temporalLayer !== undefined ? { temporalLayer } : {}),
  });
}
