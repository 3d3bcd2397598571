import type { MediaKind, Source } from '../../protocol/schema.js';
import { badRequest, conflict, forbidden, roomFull } from '../errors.js';
import type { Peer } from './peer.js';

const sourceKind: Record<Source, MediaKind> = { mic: 'audio', cam: 'video', screen: 'video', screenAudio: 'audio' };

/** The room's rules a new producer must pass, as they stand now. */
export interface PublishLimits {
  peers: ReadonlyMap<string, Peer>;
  /** Peers publishing anything (teachers pass it). */
  maxPublishers: number;
  /** Screen shares at once (`screen` only: a share's sound does not count). */
  maxScreenShares: number;
  /** Students sending a camera at once. */
  maxStudentCameras: number;
}

/** Refuses a produce the room does not allow, with the error its client shows. */
export function checkPublish(peer: Peer, source: Source, kind: MediaKind, limits: PublishLimits): void {
  if (peer.role === 'observer') throw forbidden('observers cannot publish');
  if (sourceKind[source] !== kind) throw badRequest(`source ${source} must be ${sourceKind[source]}`);
  const same = peer.producerBySource(source);
  if (same) throw conflict(`already publishing ${source} (producer ${same.id})`);
  const peers = [...limits.peers.values()];
  const publishers = peers.filter((p) => p.producers.size > 0).length;
  if (peer.producers.size === 0 && publishers >= limits.maxPublishers && peer.role !== 'teacher') {
    throw roomFull(`the room has its maximum of ${limits.maxPublishers} publishers; you can still watch and listen`);
  }
  if (source === 'screen') {
    const shares = peers.filter((p) => p.producerBySource('screen')).length;
    if (shares >= limits.maxScreenShares) throw conflict(`${shares} screen share(s) running, the most this class allows; ask the teacher`);
  }
  if (source === 'cam' && peer.role === 'student') {
    const cameras = peers.filter((p) => p.role === 'student' && p.producerBySource('cam')).length;
    if (cameras >= limits.maxStudentCameras) {
      throw roomFull(`the class allows ${limits.maxStudentCameras} student camera(s) at once (maxStudentCameras, set by the teacher); you can still speak, watch and listen`);
    }
  }
}
