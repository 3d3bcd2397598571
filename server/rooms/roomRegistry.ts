import type { Logger } from '../logging/logger.js';
import type { WorkerPool } from '../media/workerPool.js';
import { BanList } from './banList.js';
import { Room, type RoomOptions } from './room.js';

/**
 * All open rooms of this process. A room is created on its first join, on the least loaded worker,
 * and forgotten when it closes. A worker's death closes its rooms; their clients reconnect and the
 * rooms are rebuilt on live workers by their next join.
 */
export class RoomRegistry {
  private readonly rooms = new Map<string, Room>();
  private readonly opening = new Map<string, Promise<Room>>();
  readonly bans = new BanList();

  constructor(
    private readonly pool: WorkerPool,
    private readonly opts: Omit<RoomOptions, 'onClose' | 'bans' | 'chooseWorker' | 'peersOnNode'>,
    private readonly log: Logger,
  ) {
    pool.on('workerDied', ({ index }) => {
      for (const room of this.rooms.values()) {
        if (room.host.index === index) room.close('media worker failed; reconnect to continue');
      }
    });
  }

  get size(): number {
    return this.rooms.size;
  }

  get(id: string): Room | undefined {
    return this.rooms.get(id);
  }

  all(): Room[] {
    return [...this.rooms.values()];
  }

  /** Peers in every room, those awaiting a resume included. */
  peerCount(): number {
    let n = 0;
    for (const room of this.rooms.values()) n += room.peers.size;
    return n;
  }

  /** One Room per id even when several peers join at once. */
  async getOrCreate(id: string): Promise<Room> {
    const existing = this.rooms.get(id);
    if (existing && !existing.closed) return existing;
    let pending = this.opening.get(id);
    if (!pending) {
      pending = Room.create(id, this.pool.leastLoaded(), {
        ...this.opts,
        bans: this.bans,
        chooseWorker: (exclude) => this.pool.leastLoadedExcept(exclude),
        peersOnNode: () => this.peerCount(),
        onClose: (room) => {
          if (this.rooms.get(room.id) === room) this.rooms.delete(room.id);
        },
      });
      this.opening.set(id, pending);
      pending.then(
        (room) => {
          this.rooms.set(id, room);
          this.opening.delete(id);
        },
        (err: unknown) => {
          this.opening.delete(id);
          this.log.error({ err, room: id }, 'could not open room');
        },
      );
    }
    return pending;
  }

  closeAll(reason: string): void {
    for (const room of [...this.rooms.values()]) room.close(reason);
  }
}
