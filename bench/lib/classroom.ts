/**
 * A class with cameras on, as the `class` scenario measures it (issue 18): a teacher and S
 * students, each one member of the load generator (publishes audio and 3-layer simulcast video,
 * receives), with the roles of a real class (teacher and student tokens, the class's policy and
 * video limits set by the teacher). Either everyone receives every video (no view, limits at their
 * maxima: how classes ran before receive-what-is-shown), or everyone shows a gallery of K tiles
 * through `setView` and publishers follow `layersWanted` as the SDK does.
 */
import type { SignalingSocket } from '../../protocol/client.js';
import type { VideoLimits } from '../../protocol/schema.js';
import type { Fleet } from './fleet.js';
import type { Loadgen } from './loadgen.js';
import { signToken, startMember, type Publisher, type Subscriber } from './participants.js';

export type ClassMode = 'all' | 'shown';

export interface Size {
  width: number;
  height: number;
}

export interface ClassOptions {
  room: string;
  students: number;
  /**
   * all: nobody sends setView and the video limits are at their maxima, so the server's fallback
   * forwards every video to everyone at its top layer. shown: everyone shows its gallery (below).
   */
  mode: ClassMode;
  /** K: the videos each member shows (shown mode). */
  tiles: number;
  /** The teacher's camera on each student's page. */
  stage: Size;
  /** Every other tile. */
  tile: Size;
  /** Students whose microphone is open (the first ones); the others stay muted, as the class's policy starts them. */
  openMics: number;
  /** Publishers stop sending the layers nobody receives (layersWanted), as the SDK does. */
  followLayersWanted: boolean;
  /** Students joining at once. */
  batch?: number;
}

export interface Member {
  name: string;
  publisher: Publisher;
  subscriber: Subscriber;
  signaling: SignalingSocket;
}

export interface ClassFleet extends Fleet {
  teacher: Member;
  students: Member[];
}

/**
 * Who a member shows in shown mode: students' galleries are ordered the same way for everyone
 * (join order, as a page without speakers to follow would have them), so every page shows the first
 * students. A student: the teacher on the stage, then the first K - 1 other students as tiles. The
 * teacher: the first K students as tiles. Answers student indexes (the stage aside).
 */
export function galleryOf(member: number | 'teacher', students: number, tiles: number): { stage: boolean; students: number[] } {
  const all = Array.from({ length: students }, (_, i) => i);
  if (member === 'teacher') return { stage: false, students: all.slice(0, tiles) };
  return { stage: tiles > 0, students: all.filter((i) => i !== member).slice(0, Math.max(0, tiles - 1)) };
}

/** The class's limits: at their maxima (today), or the product's defaults, raised to fit S and K. */
export function classLimits(mode: ClassMode, students: number, tiles: number): VideoLimits {
  return mode === 'all' ? { maxVideosPerStudent: 100, maxStudentCameras: 1000 } : { maxVideosPerStudent: Math.max(12, tiles), maxStudentCameras: Math.max(50, students) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(ok: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`class: timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Closes members, a batch at a time, their cameras first (a saturated worker answers its leaves late). */
async function closeMembers(members: Member[]): Promise<void> {
  for (const m of members) m.publisher.setVideoOn(false);
  await sleep(500);
  for (let i = 0; i < members.length; i += 10) {
    await Promise.all(
      members.slice(i, i + 10).map(async (m) => {
        await m.publisher.close().catch(() => undefined);
        await m.subscriber.close().catch(() => undefined);
      }),
    );
  }
}

/**
 * Opens the class: the teacher joins, sets the policy (students join muted) and the limits, then
 * the students join, their cameras held back (everyone receiving every video saturates a worker
 * before 50 have joined, and joins then time out); once every member has a consumer of every other
 * member's audio and video and, in shown mode, has sent its view, all cameras start together.
 */
export async function openClass(server: { wsUrl: string; secret: string }, loadgen: Loadgen, o: ClassOptions): Promise<ClassFleet> {
  const members: Member[] = [];
  const join = async (name: string, role: 'teacher' | 'student', muted: boolean): Promise<Member> => {
    const token = await signToken(server.secret, { room: o.room, sub: name, name, role }, 3600);
    const m = await startMember({ wsUrl: server.wsUrl, token, loadgen, name, muted, followLayersWanted: o.followLayersWanted, videoHeld: true });
    const member = { name, ...m };
    members.push(member);
    return member;
  };
  const close = () => closeMembers(members);
  try {
    const teacher = await join(`${o.room}-t`, 'teacher', false);
    await teacher.signaling.request('setRoomPolicy', { joinMuted: true, studentsMayUnmute: true });
    await teacher.signaling.request('setVideoLimits', classLimits(o.mode, o.students, o.tiles));
    const students: Member[] = [];
    const batch = o.batch ?? 10;
    for (let i = 0; i < o.students; i += batch) {
      const idx = Array.from({ length: Math.min(batch, o.students - i) }, (_, j) => i + j);
      students.push(...(await Promise.all(idx.map((k) => join(`${o.room}-s${k}`, 'student', k >= o.openMics)))));
    }
    const everyone = [teacher, ...students];
    await until(() => everyone.every((m) => m.subscriber.consumers.size >= 2 * o.students), 60_000, `${2 * o.students} consumers per member`);
    if (o.mode === 'shown') {
      // Views at once for everyone: dynacast judges new videos 1.5 s after they appear.
      const videoOf = (sub: Subscriber, pub: Publisher) => [...sub.consumers.values()].find((c) => c.kind === 'video' && c.producerId === pub.videoProducerId)!.id;
      await Promise.all(
        everyone.map((m, i) => {
          const g = galleryOf(i === 0 ? 'teacher' : i - 1, o.students, o.tiles);
          const videos = [
            ...(g.stage ? [{ consumerId: videoOf(m.subscriber, teacher.publisher), ...o.stage }] : []),
            ...g.students.map((k) => ({ consumerId: videoOf(m.subscriber, students[k]!.publisher), ...o.tile })),
          ];
          return m.subscriber.setView(videos);
        }),
      );
    }
    // Dynacast has judged the views (it coalesces changes over 200 ms) before the cameras start: a
    // layer cut within its first moments, before its first sender report, would leave mediasoup's
    // consumers that started on it unable to switch (they line layers up by sender reports).
    await sleep(1000);
    for (const m of everyone) m.publisher.setVideoOn(true);
    return {
      teacher,
      students,
      publishers: everyone.map((m) => m.publisher),
      subscribers: everyone.map((m) => m.subscriber),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
