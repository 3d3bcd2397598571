import { closeCodes, type RoomPolicy, type Source } from '../../protocol/schema.js';
import { forbidden, notFound, rateLimited } from '../errors.js';
import type { Peer } from './peer.js';
import type { Room } from './room.js';

/**
 * What happens in a class beyond media: hands, chat, the room's policy, and the teacher's actions
 * on other participants. Each function checks who may do it, changes the room, and tells the
 * people concerned.
 */

export function requireTeacher(actor: Peer, what: string): void {
  if (actor.role !== 'teacher') throw forbidden(`only a teacher can ${what}`);
}

/** The peer a teacher acts on: present, and not a teacher (co-teachers do not moderate each other). */
function target(room: Room, actor: Peer, peerId: string, what: string): Peer {
  requireTeacher(actor, what);
  const peer = room.peers.get(peerId);
  if (!peer || peer.closed) throw notFound(`peer ${peerId} is not in this class`);
  if (peer.role === 'teacher') throw forbidden(`a teacher cannot ${what} a teacher`);
  return peer;
}

/** Every teacher action is logged with who did what to whom: the school's audit trail. */
export function audit(room: Room, actor: Peer, action: string, fields: Record<string, unknown> = {}): void {
  room.log.info({ actor: actor.id, actorUser: actor.userId, action, ...fields }, 'moderation');
}

function announce(room: Room, peer: Peer): void {
  room.broadcast('peerUpdated', { peer: peer.info() });
}

// ---- Hands and chat --------------------------------------------------------------------------

export function raiseHand(room: Room, peer: Peer): void {
  if (peer.raiseHand()) announce(room, peer); // else it keeps its place in the queue
}

export function lowerHand(room: Room, actor: Peer, peerId: string | undefined): void {
  const peer = peerId === undefined || peerId === actor.id ? actor : target(room, actor, peerId, 'lower the hand of');
  if (peer.lowerHand()) announce(room, peer);
}

export function sendChat(room: Room, peer: Peer, text: string) {
  // A refused message costs nothing from the chat allowance (the socket's own limit still applies).
  room.chat.clean(text);
  if (!peer.chatLimiter.take()) throw rateLimited('too many chat messages; wait a moment');
  const message = room.chat.add(peer, text);
  room.broadcast('chat', { message }, peer);
  return message;
}

// ---- The teacher's controls ------------------------------------------------------------------

export function setPolicy(room: Room, actor: Peer, change: Partial<RoomPolicy>): RoomPolicy {
  requireTeacher(actor, 'change the class rules');
  const defined = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined));
  room.policy = { ...room.policy, ...defined };
  audit(room, actor, 'setRoomPolicy', { policy: room.policy });
  room.broadcast('roomPolicy', { policy: room.policy });
  return room.policy;
}

async function muteMic(room: Room, peer: Peer): Promise<boolean> {
  const mic = peer.producerBySource('mic');
  if (!mic || mic.paused) return false;
  await room.setProducerPaused(peer, mic.id, true);
  peer.notify('moderated', { action: 'muted', source: 'mic', producerId: mic.id });
  return true;
}

export async function mutePeer(room: Room, actor: Peer, peerId: string): Promise<void> {
  const peer = target(room, actor, peerId, 'mute');
  if (!peer.producerBySource('mic')) throw notFound(`${peer.name} has no microphone on`);
  audit(room, actor, 'mute', { target: peer.id, targetUser: peer.userId });
  await muteMic(room, peer);
}

export async function muteAll(room: Room, actor: Peer): Promise<number> {
  requireTeacher(actor, 'mute everyone');
  let muted = 0;
  for (const peer of [...room.peers.values()]) {
    if (peer.role !== 'teacher' && (await muteMic(room, peer))) muted++;
  }
  audit(room, actor, 'muteAll', { muted });
  return muted;
}

/**
 * Closes the producer: every consumer of it closes, and the owner's client drops its side. Stopping
 * a screen share stops its sound too.
 */
export function stopPeerSource(room: Room, actor: Peer, peerId: string, source: Source): void {
  const peer = target(room, actor, peerId, 'stop the media of');
  const producer = peer.producerBySource(source);
  if (!producer) throw notFound(`${peer.name} is not publishing ${source}`);
  audit(room, actor, 'stop', { target: peer.id, targetUser: peer.userId, source });
  const sound = source === 'screen' ? peer.producerBySource('screenAudio') : undefined;
  for (const p of [producer, sound]) {
    if (!p) continue;
    p.close();
    peer.notify('moderated', { action: 'stopped', source: p.appData.source, producerId: p.id });
  }
}

export async function allowSpeak(room: Room, actor: Peer, peerId: string, allowed: boolean): Promise<void> {
  const peer = target(room, actor, peerId, 'change the speaking rights of');
  if (!peer.allowSpeak(allowed)) return;
  audit(room, actor, allowed ? 'allowSpeak' : 'revokeSpeak', { target: peer.id, targetUser: peer.userId });
  // Being given the floor answers a raised hand.
  if (allowed) peer.lowerHand();
  peer.notify('moderated', { action: allowed ? 'speakAllowed' : 'speakRevoked' });
  if (!allowed && !room.mayUnmute(peer)) await muteMic(room, peer);
  announce(room, peer);
}

export function removePeer(room: Room, actor: Peer, peerId: string, reason: string | undefined): void {
  const peer = target(room, actor, peerId, 'remove');
  const why = reason?.trim() || 'removed by the teacher';
  const banSeconds = room.limits.removeBanSec;
  audit(room, actor, 'remove', { target: peer.id, targetUser: peer.userId, reason: why, banSeconds });
  room.bans.ban(room.id, peer.userId, banSeconds * 1000);
  peer.notify('removed', { reason: why, banSeconds });
  peer.sink?.close(closeCodes.removed, 'removed by the teacher');
  room.removePeer(peer, `removed by ${actor.id}: ${why}`);
}
