import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { types } from 'mediasoup';
import type { Source } from '../../protocol/schema.js';
import type { Logger } from '../logging/logger.js';
import type { ProducerData } from '../rooms/appData.js';
import type { Peer } from '../rooms/peer.js';
import type { PortPairs } from './ports.js';
import { FfmpegUnavailable } from './ffmpegProcess.js';
import type { Slots } from './limits.js';
import { RecordingSession, SessionStopped, type SessionFile } from './session.js';

export type RecordingState = 'recording' | 'stopped' | 'failed';

export interface RecordingMeta {
  id: string;
  room: string;
  /** The class session (the Room's sessionId) it was made in; absent in recordings made before sessions were kept. */
  sessionId?: string;
  /** The `owner` claim of the token that started it, if that token had one. */
  owner?: string;
  /** Users who taught that session: joined it as teachers, or started this recording. */
  teachers?: string[];
  state: RecordingState;
  reason?: string;
  startedAt: string;
  endedAt?: string;
  durationSec?: number;
  sizeBytes?: number;
  participants: { peerId: string; userId: string; name: string }[];
  files: SessionFile[];
}

export interface RecordingOptions {
  room: string;
  sessionId: string;
  owner: string | undefined;
  teachers: Iterable<string>;
  router: types.Router;
  rootDir: string;
  ffmpegBin: string;
  ports: PortPairs;
  /** ffmpeg processes of every recording of the process, at most SFU_RECORDING_MAX_FFMPEG. */
  ffmpegSlots: Slots;
  /** Files one participant (user) may get in this recording: bounds what re-publishing in a loop costs. */
  maxSessionsPerUser: number;
  logger: Logger;
  /** Asks the room's publishers for the whole of a video producer (all its layers) until released. */
  demand: (producerId: string) => () => void;
  /** State changes the room should hear about (a file failing alone: its teachers). */
  onEvent: (e: { type: 'started' | 'stopped' } | { type: 'failed'; reason: string } | { type: 'fileFailed'; file: string; reason: string }) => void;
}

/** Producers of one peer and file group that appear within this window go into one file. */
const groupWindowMs = 1500;

/** Which file a source goes into: a participant's camera with its microphone, a screen share with its sound. */
const fileGroup = (source: Source): 'camMic' | 'screen' => (source === 'screen' || source === 'screenAudio' ? 'screen' : 'camMic');

/**
 * A room's recording: a session (one ffmpeg, one file) per participant's camera + microphone, and
 * per screen share + its sound, including producers that appear while it runs. Its metadata is kept in
 * recording.json next to the files, so that recordings outlive the process.
 *
 * A session that cannot start, or whose ffmpeg dies, fails alone (its file says why, the teachers
 * are told) and the others go on; one whose producers closed while it started is dropped. The whole
 * recording fails only when ffmpeg is missing, or when every file it started has failed (a full
 * disk fails them all).
 */
export class Recording {
  readonly meta: RecordingMeta;
  readonly dir: string;
  private readonly sessions: RecordingSession[] = [];
  private readonly pending = new Map<string, { peer: Peer; producers: types.Producer<ProducerData>[]; timer: NodeJS.Timeout }>();
  /** Sessions started per user, against maxSessionsPerUser. */
  private readonly startsBy = new Map<string, number>();
  private readonly log: Logger;

  constructor(private readonly opts: RecordingOptions) {
    const id = randomUUID();
    this.dir = path.join(opts.rootDir, id);
    this.meta = {
      id,
      room: opts.room,
      sessionId: opts.sessionId,
      ...(opts.owner !== undefined ? { owner: opts.owner } : {}),
      teachers: [...new Set(opts.teachers)],
      state: 'recording',
      startedAt: new Date().toISOString(),
      participants: [],
      files: [],
    };
    this.log = opts.logger.child({ recording: id, room: opts.room });
  }

  get active(): boolean {
    return this.meta.state === 'recording';
  }

  get ffmpegPids(): number[] {
    return this.sessions.map((s) => s.ffmpegPid).filter((p): p is number => p !== undefined);
  }

  /** Creates the folder (a full or read-only disk fails here, before anything else changes). */
  open(peers: Iterable<Peer>): void {
    fs.mkdirSync(this.dir, { recursive: true });
    this.save();
    this.opts.onEvent({ type: 'started' });
    this.log.info('recording started');
    for (const peer of peers) {
      const producers = [...peer.producers.values()];
      for (const group of ['camMic', 'screen'] as const) {
        const together = producers.filter((p) => fileGroup(p.appData.source) === group);
        if (together.length > 0) void this.record(peer, together);
      }
    }
  }

  /** More users who taught the recording's session (they keep reading it after the session ends). */
  noteTeachers(users: Iterable<string>): void {
    const all = new Set([...(this.meta.teachers ?? []), ...users]);
    if (all.size === this.meta.teachers?.length) return;
    this.meta.teachers = [...all];
    this.save();
  }

  /**
   * A producer appeared during the recording: record it, grouped with its peer's others of the same
   * file arriving now (a camera and its microphone, a screen share and its sound).
   */
  addProducer(peer: Peer, producer: types.Producer<ProducerData>): void {
    if (!this.active) return;
    const key = `${peer.id}/${fileGroup(producer.appData.source)}`;
    const waiting = this.pending.get(key);
    if (waiting) {
      waiting.producers.push(producer);
      return;
    }
    const timer = setTimeout(() => {
      const group = this.pending.get(key);
      this.pending.delete(key);
      if (group) void this.record(group.peer, group.producers.filter((p) => !p.closed));
    }, groupWindowMs);
    this.pending.set(key, { peer, producers: [producer], timer });
  }

  private async record(peer: Peer, producers: types.Producer<ProducerData>[]): Promise<void> {
    if (!this.active || producers.length === 0) return;
    const started = this.startsBy.get(peer.userId) ?? 0;
    if (started >= this.opts.maxSessionsPerUser) {
      this.log.warn({ user: peer.userId, max: this.opts.maxSessionsPerUser }, 'participant has its most files in this recording (SFU_RECORDING_MAX_SESSIONS_PER_PEER); not recorded');
      return;
    }
    if (!this.opts.ffmpegSlots.take()) {
      this.log.warn({ user: peer.userId, max: this.opts.ffmpegSlots.max }, 'every ffmpeg slot is in use (SFU_RECORDING_MAX_FFMPEG); not recorded');
      return;
    }
    this.startsBy.set(peer.userId, started + 1);
    if (!this.meta.participants.some((p) => p.peerId === peer.id)) {
      this.meta.participants.push({ peerId: peer.id, userId: peer.userId, name: peer.name });
    }
    const index = this.sessions.filter((s) => s.file.peerId === peer.id).length + 1;
    const safeName = peer.name.replace(/[^\w.-]+/g, '_').slice(0, 40) || 'guest';
    const sources = producers.map((p) => p.appData.source).sort().join('+');
    const session: RecordingSession = new RecordingSession({
      router: this.opts.router,
      producers,
      peer: { id: peer.id, userId: peer.userId, name: peer.name },
      dir: this.dir,
      baseName: `${safeName}-${peer.id.slice(0, 8)}-${sources}-${index}`,
      ffmpegBin: this.opts.ffmpegBin,
      ports: this.opts.ports,
      logger: this.log,
      demand: this.opts.demand,
      onFailure: (reason) => void this.sessionFailed(session, reason),
      onIdle: () => void this.finishSession(session),
      onReleased: () => this.opts.ffmpegSlots.release(),
    });
    this.sessions.push(session);
    this.meta.files.push(session.file);
    this.save();
    try {
      await session.start();
    } catch (err) {
      await session.stop();
      if (err instanceof FfmpegUnavailable) return void (await this.fail(`could not start recording ${session.file.name}: ${err.message}`));
      if (!this.active) return; // the recording ended meanwhile
      const open = producers.filter((p) => !p.closed);
      if (err instanceof SessionStopped || open.length < producers.length) {
        // The participant closed (some of) these producers while the session started: it recorded
        // nothing. What is still published gets a session of its own.
        this.log.debug({ file: session.file.name, err: (err as Error).message }, 'recording session dropped: its producers closed while it started');
        this.drop(session);
        if (open.length > 0) void this.record(peer, open);
        return;
      }
      session.file.error = `could not record: ${(err as Error).message}`;
      this.log.warn({ file: session.file.name, err }, 'recording session failed to start; the others go on');
      this.save();
    }
  }

  /** One participant's ffmpeg died: that file ends with the reason; the others go on. */
  private async sessionFailed(session: RecordingSession, reason: string): Promise<void> {
    if (!this.active || session.file.error) return;
    session.file.error = reason;
    this.log.warn({ file: session.file.name, reason }, 'a recording file failed; the others go on');
    this.opts.onEvent({ type: 'fileFailed', file: session.file.name, reason });
    await session.stop();
    this.save();
    if (this.sessions.every((s) => s.file.error)) await this.fail(`every file of the recording failed; the last: ${reason}`);
  }

  /** The participant left or stopped publishing: close their file, keep recording the others. */
  private async finishSession(session: RecordingSession): Promise<void> {
    await session.stop();
    this.save();
  }

  /** Forgets a session that recorded nothing, and its leftovers on disk. */
  private drop(session: RecordingSession): void {
    this.sessions.splice(this.sessions.indexOf(session), 1);
    this.meta.files.splice(this.meta.files.indexOf(session.file), 1);
    session.discardFiles();
    this.save();
  }

  async stop(): Promise<void> {
    if (!this.active) return;
    this.meta.state = 'stopped';
    try {
      await this.finish();
    } finally {
      // Whatever the disk did, the room is told and may record again.
      this.log.info({ files: this.meta.files.length }, 'recording stopped');
      this.opts.onEvent({ type: 'stopped' });
    }
  }

  async fail(reason: string): Promise<void> {
    if (!this.active) return;
    this.meta.state = 'failed';
    this.meta.reason = reason;
    this.log.error({ reason }, 'recording failed');
    this.opts.onEvent({ type: 'failed', reason });
    await this.finish();
  }

  private async finish(): Promise<void> {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    await Promise.all(this.sessions.map((s) => s.stop()));
    this.meta.endedAt = new Date().toISOString();
    this.meta.durationSec = (Date.parse(this.meta.endedAt) - Date.parse(this.meta.startedAt)) / 1000;
    this.meta.sizeBytes = this.meta.files.reduce((n, f) => n + (f.sizeBytes ?? 0), 0);
    this.save();
  }

  private save(): void {
    try {
      fs.writeFileSync(path.join(this.dir, 'recording.json'), JSON.stringify(this.meta, null, 2));
    } catch (err) {
      this.log.error({ err }, 'cannot write recording metadata');
    }
  }
}
