import fs from 'node:fs';
import path from 'node:path';
import { conflict, notFound, unavailable } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { Room, RoomEvents } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/roomRegistry.js';
import { freeMegabytes, Slots } from './limits.js';
import { PortPairs } from './ports.js';
import { Recording, type RecordingMeta } from './recording.js';
import { RecordingIndex, type Page } from './recordingIndex.js';

export interface RecordingServiceOptions {
  dir: string;
  ffmpegBin: string;
  portMin: number;
  portMax: number;
  /** ffmpeg processes at once, over every recording. */
  maxFfmpeg: number;
  /** Files per participant (user) in one recording. */
  maxSessionsPerPeer: number;
  /** A recording is not started with less free space than this in `dir`. */
  minFreeMb: number;
  logger: Logger;
}

/** Who starts a recording: the user (a teacher) and the `owner` claim of their token. */
export interface Starter {
  sub: string;
  owner?: string | undefined;
}

/**
 * Starts and stops rooms' recordings, and answers what the storage directory holds from an index
 * kept in memory. A recording follows its room's observer: producers offered meanwhile are
 * recorded, and the room closing finalizes it.
 */
export class RecordingService {
  private readonly active = new Map<string, Recording>();
  /** Stops a recording following its room's new producers. */
  private readonly unfollow = new Map<Recording, () => void>();
  /** This process's recordings, including failed ones that never reached the disk. */
  private readonly known = new Map<string, Recording>();
  /** Rooms whose session end is followed (see followSession). */
  private readonly sessionsFollowed = new WeakSet<Room>();
  private readonly ports: PortPairs;
  private readonly ffmpegSlots: Slots;
  readonly dir: string;

  private constructor(
    private readonly rooms: RoomRegistry,
    private readonly opts: RecordingServiceOptions,
    private readonly index: RecordingIndex,
  ) {
    this.dir = path.resolve(opts.dir);
    this.ports = new PortPairs(opts.portMin, opts.portMax);
    this.ffmpegSlots = new Slots(opts.maxFfmpeg);
  }

  /** Indexes what the recordings folder holds (once, here), then serves from memory. */
  static async open(rooms: RoomRegistry, opts: RecordingServiceOptions): Promise<RecordingService> {
    return new RecordingService(rooms, opts, await RecordingIndex.load(path.resolve(opts.dir), opts.logger));
  }

  /** This process's recordings by state (for metrics). */
  counts(): Record<'recording' | 'stopped' | 'failed', number> {
    const c = { recording: 0, stopped: 0, failed: 0 };
    for (const r of this.known.values()) c[r.meta.state]++;
    return c;
  }

  /** ffmpeg processes and recording port pairs in use now (for tests and diagnostics). */
  usage(): { ffmpeg: number; portPairs: number } {
    return { ffmpeg: this.ffmpegSlots.inUse, portPairs: this.ports.inUse };
  }

  activeFor(roomId: string): Recording | undefined {
    return this.active.get(roomId);
  }

  /** The session id of the class open under `roomId` on this node, if one is. */
  openSessionOf(roomId: string): string | undefined {
    const room = this.rooms.get(roomId);
    return room && !room.closed ? room.sessionId : undefined;
  }

  start(roomId: string, by: Starter): RecordingMeta {
    const room = this.rooms.get(roomId);
    if (!room || room.closed) throw notFound(`room ${roomId} does not exist (no one is in it)`);
    if (this.active.get(roomId)?.active) throw conflict(`room ${roomId} is already being recorded`);
    const free = freeMegabytes(this.dir);
    if (free !== undefined && free < this.opts.minFreeMb) {
      this.opts.logger.warn({ room: roomId, dir: this.dir, freeMb: Math.floor(free), minFreeMb: this.opts.minFreeMb }, 'not enough disk space to record');
      throw unavailable(`not enough disk space to record: ${Math.floor(free)} MB free in the recordings folder, ${this.opts.minFreeMb} MB needed (SFU_RECORDING_MIN_FREE_MB)`);
    }
    if (this.ffmpegSlots.inUse >= this.ffmpegSlots.max) {
      throw unavailable(`the server records as much as it may now (${this.ffmpegSlots.max} ffmpeg processes, SFU_RECORDING_MAX_FFMPEG); try again later`);
    }
    const recording: Recording = new Recording({
      room: roomId,
      sessionId: room.sessionId,
      owner: by.owner,
      teachers: [...room.teachers, by.sub],
      router: room.router,
      rootDir: this.dir,
      ffmpegBin: this.opts.ffmpegBin,
      ports: this.ports,
      ffmpegSlots: this.ffmpegSlots,
      maxSessionsPerUser: this.opts.maxSessionsPerPeer,
      demand: (producerId) => room.dynacast.demand(producerId),
      logger: this.opts.logger,
      onEvent: (e) => {
        const recordingId = recording.meta.id;
        if (e.type === 'started') room.broadcast('recordingStarted', { recordingId });
        else if (e.type === 'stopped') room.broadcast('recordingStopped', { recordingId });
        else if (e.type === 'failed') room.broadcast('recordingFailed', { recordingId, reason: e.reason });
        else if (e.type === 'fileFailed') {
          for (const p of room.peers.values()) if (p.role === 'teacher') p.notify('recordingFileFailed', { recordingId, file: e.file, reason: e.reason });
          return;
        }
        if (e.type !== 'started') this.detach(roomId, recording);
      },
    });
    this.known.set(recording.meta.id, recording);
    this.index.add(recording.meta);
    this.active.set(roomId, recording);
    this.followSession(room);
    // Recordings consume on the room's first router: the producer is piped there first.
    const onProducer = ({ peer, producer }: RoomEvents['newproducer'][0]) =>
      void room.pipeToFirstRouter(peer, producer).then((ok) => ok && recording.addProducer(peer, producer));
    room.observer.on('newproducer', onProducer);
    this.unfollow.set(recording, () => room.observer.off('newproducer', onProducer));
    try {
      recording.open(room.peers.values());
    } catch (err) {
      void recording.fail(`cannot write to the recordings directory ${this.dir}: ${(err as Error).message}`);
    }
    return recording.meta;
  }

  async stop(roomId: string): Promise<RecordingMeta> {
    const recording = this.active.get(roomId);
    if (!recording) throw notFound(`room ${roomId} is not being recorded`);
    await recording.stop();
    return recording.meta;
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.active.values()].map((r) => r.stop()));
  }

  /** Every recording (of `room`), newest first. */
  list(room?: string): RecordingMeta[] {
    return this.index.all((m) => !room || m.room === room);
  }

  /** A page of the recordings `keep` accepts, newest first. */
  page(keep: (m: RecordingMeta) => boolean, limit: number, cursor?: string): Page {
    return this.index.page(keep, limit, cursor);
  }

  get(id: string): RecordingMeta {
    const meta = this.index.get(id);
    if (!meta) throw notFound(`recording ${id} not found`);
    return meta;
  }

  /** The path of one of a recording's files; only names its metadata lists (no path tricks). */
  filePath(id: string, name: string): string {
    const meta = this.get(id);
    if (!meta.files.some((f) => f.name === name)) throw notFound(`recording ${id} has no file ${name}`);
    const file = path.join(this.dir, meta.id, name);
    // A file whose session failed to start, or whose disk went, is listed but absent.
    if (!fs.existsSync(file)) throw notFound(`recording ${id} has no file ${name} on disk`);
    return file;
  }

  /**
   * One listener per room that has recorded, for the end of its session: its recording is
   * finalized (ffmpeg is told to finish, not killed, though the router goes), and its teachers
   * (also those who joined after a recording ended) are noted in its recordings, so that they keep
   * reading them once the room id serves another class.
   */
  private followSession(room: Room): void {
    if (this.sessionsFollowed.has(room)) return;
    this.sessionsFollowed.add(room);
    room.observer.once('close', () => {
      const recording = this.active.get(room.id);
      if (recording?.meta.sessionId === room.sessionId) void recording.stop();
      for (const r of this.known.values()) if (r.meta.sessionId === room.sessionId) r.noteTeachers(room.teachers);
    });
  }

  private detach(roomId: string, recording: Recording): void {
    if (this.active.get(roomId) === recording) this.active.delete(roomId);
    this.unfollow.get(recording)?.();
    this.unfollow.delete(recording);
  }
}
