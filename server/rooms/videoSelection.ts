import type { Role, Source } from '../../protocol/schema.js';

/**
 * Which remote videos a participant receives: pure rules over plain data (views.ts applies them).
 * A receiver's videos come in its order of priority (its view's, or the server's fallback order);
 * the teachers' cameras and every screen share are taken whenever they are in it, the others up to
 * the class's cap.
 */

/** What the rules need of one video. */
export interface VideoRef {
  id: string;
  source: Source;
  ownerRole: Role;
}

/** Teachers' cameras and screen shares are forwarded when shown, whatever the cap. */
export function exemptFromCap(v: Pick<VideoRef, 'source' | 'ownerRole'>): boolean {
  return v.source === 'screen' || v.ownerRole === 'teacher';
}

/** The ids of `ordered` (highest priority first) to forward: every exempt one, the others up to `cap` (null: no cap). */
export function pickVideos(ordered: readonly VideoRef[], cap: number | null): Set<string> {
  const picked = new Set<string>();
  let counted = 0;
  for (const v of ordered) {
    if (picked.has(v.id)) continue;
    if (exemptFromCap(v)) picked.add(v.id);
    else if (cap === null || counted < cap) {
      picked.add(v.id);
      counted++;
    }
  }
  return picked;
}

/** One of the room's videos, for the fallback order. */
export interface RoomVideo extends VideoRef {
  ownerId: string;
  /** The owner's place in the room's join order (0: joined first). */
  joinIndex: number;
}

/**
 * The order the server shows videos in for a client that says nothing (no setView): teachers'
 * cameras and screen shares first, then the other videos by how recently their owner was the
 * dominant speaker (`speakers`, most recent first), then by join order. Answers a rank per video id
 * (0 first).
 */
export function fallbackOrder(videos: readonly RoomVideo[], speakers: readonly string[]): Map<string, number> {
  const spoke = new Map(speakers.map((id, i) => [id, i]));
  const key = (v: RoomVideo): [number, number, number] => (exemptFromCap(v) ? [0, 0, v.joinIndex] : [1, spoke.get(v.ownerId) ?? Infinity, v.joinIndex]);
  const sorted = [...videos].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka[0] - kb[0] || cmp(ka[1], kb[1]) || ka[2] - kb[2];
  });
  return new Map(sorted.map((v, i) => [v.id, i]));
}

/** Compares numbers that may be Infinity (Infinity - Infinity is NaN). */
function cmp(a: number, b: number): number {
  return a === b ? 0 : a < b ? -1 : 1;
}
