import type { ClientRequestData, VideoLimits } from '../../protocol/schema.js';
import { conflict } from '../errors.js';
import { syncForwarding } from './forwarding.js';
import { hasLayers, preferLayers } from './layers.js';
import { audit, requireTeacher } from './moderation.js';
import type { Peer } from './peer.js';
import type { Room } from './room.js';

/**
 * What a participant asks of the media it receives: its view, pausing a consumer itself, layers;
 * and the teacher's video limits for the class. A video consumer forwards only when all of them
 * agree (forwarding.ts).
 */

export function setView(room: Room, peer: Peer, view: ClientRequestData<'setView'>): Promise<string[]> {
  return room.views.setView(peer, view.videos, view.audioOnly);
}

/** pauseConsumer / resumeConsumer: the client's own say, on top of its view's. */
export async function setConsumerPaused(room: Room, peer: Peer, consumerId: string, paused: boolean): Promise<void> {
  const c = room.consumerOf(peer, consumerId);
  if (!paused && !c.appData.acked) throw conflict('consumer not confirmed yet');
  c.appData.clientPaused = paused;
  room.dynacast.touch();
  await syncForwarding(c);
}

export async function preferConsumerLayers(room: Room, peer: Peer, req: ClientRequestData<'setConsumerPreferredLayers'>): Promise<void> {
  const c = room.consumerOf(peer, req.consumerId);
  if (!hasLayers(c)) throw conflict(`consumer ${c.id} has no layers (${c.type})`);
  // A poor downlink keeps holding the layer down until it recovers.
  await preferLayers(c, req.spatialLayer, req.temporalLayer, peer.downlinkCapped);
  room.dynacast.touch();
}

/** Teacher: new limits for the class; everyone is told, and every view is applied again. */
export function setVideoLimits(room: Room, actor: Peer, change: Partial<VideoLimits>): VideoLimits {
  requireTeacher(actor, 'change the video limits');
  const defined = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined));
  const limits = { ...room.views.limits, ...defined };
  audit(room, actor, 'setVideoLimits', { videoLimits: limits });
  room.views.setLimits(limits);
  room.broadcast('videoLimits', { videoLimits: limits });
  return limits;
}
