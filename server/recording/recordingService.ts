import fs from 'node:fs';
import path from 'node:path';
import { conflict, notFound } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { RoomEvents } from '../rooms/room.js';
import type { RoomRegistry } from '../rooms/roomRegistry.js';
import { PortPairs } from './ports.js';
import { Recording, type RecordingMeta } from './recording.js';

export interface RecordingServiceOptions {
  dir: string;
  ffmpegBin: string;
  portMin: number;
  portMax: number;
  logger: Logger;
}

/**
 * Starts and stops rooms' recordings, and lists what the storage directory holds. A recording
 * follows its room's observer: producers offered meanwhile are recorded, and the room closing
 * finalizes it.
 */
export class RecordingService {
  private readonly active = new Map<string, Recording>();
  /** Stops a recording following its room's events. */
  private readonly unfollow = new Map<Recording, () => void>();
  /** This process's recordings, including failed ones that never reached the disk. */
  private readonly known = new Map<string, Recording>();
  private readonly ports: PortPairs;
  readonly dir: string;

  constructor(
    private readonly rooms: RoomRegistry,
    private readonly opts: RecordingServiceOptions,
  ) {
    this.dir = path.resolve(opts.dir);
    this.ports = new PortPairs(opts.portMin, opts.portMax);
  }

  /** This process's recordings by state (for metrics). */
  counts(): Record<'recording' | 'stopped' | 'failed', number> {
    const c = { recording: 0, stopped: 0, failed: 0 };
    for (const r of this.known.values()) c[r.meta.state]++;
    return c;
  }

  activeFor(roomId: string): Recording | undefined {
    return this.active.get(roomId);
  }

  start(roomId: string): RecordingMeta {
    const room = this.rooms.get(roomId);
    if (!room || room.closed) throw notFound(`room ${roomId} does not exist (no one is in it)`);
    if (this.active.has(roomId)) throw conflict(`room ${roomId} is already being recorded`);
    const recording: Recording = new Recording({
      room: roomId,
      router: room.router,
      rootDir: this.dir,
      ffmpegBin: this.opts.ffmpegBin,
      ports: this.ports,
      logger: this.opts.logger,
      onEvent: (e) => {
        const recordingId = recording.meta.id;
        if (e.type === 'started') room.broadcast('recordingStarted', { recordingId });
        else if (e.type === 'stopped') room.broadcast('recordingStopped', { recordingId });
        else if (e.type === 'failed') room.broadcast('recordingFailed', { recordingId, reason: e.reason });
        if (e.type !== 'started') this.detach(roomId, recording);
      },
    });
    this.known.set(recording.meta.id, recording);
    this.active.set(roomId, recording);
    // Recordings consume on the room's first router: the producer is piped there first.
    const onProducer = ({ peer, producer }: RoomEvents['newproducer'][0]) =>
      void room.pipeToFirstRouter(peer, producer).then((ok) => ok && recording.addProducer(peer, producer));
    // The files are finalized even though the router goes: ffmpeg is told to finish, not killed.
    const onClose = () => void recording.stop();
    room.observer.on('newproducer', onProducer);
    room.observer.on('close', onClose);
    this.unfollow.set(recording, () => {
      room.observer.off('newproducer', onProducer);
      room.observer.off('close', onClose);
    });
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

  /** Every recording on disk and of this process, newest first. */
  list(room?: string): RecordingMeta[] {
    const byId = new Map<string, RecordingMeta>();
    let entries: string[] = [];
    try {
      entries = fs.readdirSync(this.dir);
    } catch {
      entries = [];
    }
    for (const entry of entries) {
      try {
        const meta = JSON.parse(fs.readFileSync(path.join(this.dir, entry, 'recording.json'), 'utf8')) as RecordingMeta;
        byId.set(meta.id, meta);
      } catch {
        // not a recording folder
      }
    }
    for (const r of this.known.values()) byId.set(r.meta.id, r.meta);
    return [...byId.values()].filter((m) => !room || m.room === room).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  get(id: string): RecordingMeta {
    const meta = this.list().find((m) => m.id === id);
    if (!meta) throw notFound(`recording ${id} not found`);
    return meta;
  }

  /** The path of one of a recording's files; only names its metadata lists (no path tricks). */
  filePath(id: string, name: string): string {
    const meta = this.get(id);
    if (!meta.files.some((f) => f.name === name)) throw notFound(`recording ${id} has no file ${name}`);
    return path.join(this.dir, meta.id, name);
  }

  private detach(roomId: string, recording: Recording): void {
    if (this.active.get(roomId) === recording) this.active.delete(roomId);
    this.unfollow.get(recording)?.();
    this.unfollow.delete(recording);
  }
}
