import type { Logger } from '../logging/logger.js';
import type { ClusterKeys } from './keys.js';
import type { RedisConnection } from './redisConnection.js';

/** Keeps or takes a claim: refreshes it when ours, sets it when free; answers the owner either way. */
const assertScript = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return v end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return ARGV[1] end
return v`;
/** Compare-and-set: moves a claim from a dead owner to a new one, only if the dead one still holds it. */
const takeOverScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 end
return 0`;
/** Deletes a claim only if it is still ours. */
const releaseScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * Which node each room lives on: `room:<id>` → node id, with an expiry. The origin keeps its claims
 * alive (every third of the TTL) while it has the room open and deletes them when the room closes;
 * a dead node's claims expire and the room can be claimed again. Claims are only ever set with SET
 * NX or by compare-and-set scripts, so two nodes never both win one.
 */
export class RoomDirectory {
  /** Rooms this node serves and keeps claimed, with when it took each (a room opens just after). */
  private readonly held = new Map<string, number>();
  private refreshing = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly log: Logger;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: ClusterKeys,
    private readonly nodeId: string,
    private readonly ttlMs: number,
    /** Whether this node still has the room open. */
    private readonly isOpenHere: (roomId: string) => boolean,
    /** Another node owns a room we have open (two nodes served it while Redis was away). */
    private readonly onLost: (roomId: string, owner: string) => void,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'cluster' });
  }

  start(): void {
    this.timer = setInterval(() => void this.refreshAll(), Math.max(100, Math.floor(this.ttlMs / 3)));
    this.timer.unref();
  }

  holds(roomId: string): boolean {
    return this.held.has(roomId);
  }

  /** Rooms this node claims. */
  get heldRooms(): string[] {
    return [...this.held.keys()];
  }

  /** From now on this node refreshes the room's claim (it has just been claimed for it). */
  hold(roomId: string): void {
    this.held.set(roomId, Date.now());
  }

  async owner(roomId: string): Promise<string | null> {
    return this.redis.client.get(this.keys.room(roomId));
  }

  /** Claims a free room for a node (ourselves or the least loaded one). False: someone was faster. */
  async claim(roomId: string, nodeId: string): Promise<boolean> {
    const r = await this.redis.client.set(this.keys.room(roomId), nodeId, { condition: 'NX', expiration: { type: 'PX', value: this.ttlMs } });
    return r === 'OK';
  }

  /** Moves a dead node's room to another node. False: its claim changed meanwhile (someone else took it). */
  async takeOver(roomId: string, deadNode: string, nodeId: string): Promise<boolean> {
    const r = await this.redis.client.eval(takeOverScript, { keys: [this.keys.room(roomId)], arguments: [deadNode, nodeId, String(this.ttlMs)] });
    return r === 1;
  }

  /**
   * Refreshes the claims of the rooms open here, releases those of rooms that closed. Runs on a
   * timer and at once when Redis comes back (re-asserting every claim: a restarted Redis has none).
   */
  async refreshAll(): Promise<void> {
    // One pass at a time: a Redis that hangs must not pile passes up.
    if (!this.redis.ready || this.refreshing) return;
    this.refreshing = true;
    try {
      await this.refreshPass();
    } finally {
      this.refreshing = false;
    }
  }

  private async refreshPass(): Promise<void> {
    for (const [roomId, since] of [...this.held]) {
      try {
        // A room is opened just after its claim: only one that has had time to open and is gone is released.
        if (!this.isOpenHere(roomId) && Date.now() - since > this.ttlMs) {
          this.held.delete(roomId);
          await this.redis.client.eval(releaseScript, { keys: [this.keys.room(roomId)], arguments: [this.nodeId] });
          continue;
        }
        const owner = await this.redis.client.eval(assertScript, { keys: [this.keys.room(roomId)], arguments: [this.nodeId, String(this.ttlMs)] });
        if (owner !== this.nodeId) {
          this.held.delete(roomId);
          this.log.warn({ room: roomId, owner }, 'room claimed by another node meanwhile (both served it while Redis was away): handing it over');
          this.onLost(roomId, String(owner));
        }
      } catch (err) {
        this.log.debug({ err: String(err), room: roomId }, 'claim refresh failed');
      }
    }
  }

  /** Gives every claim up (graceful shutdown): the rooms can be claimed by others at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (!this.redis.ready) return;
    for (const roomId of this.held.keys()) {
      await this.redis.client.eval(releaseScript, { keys: [this.keys.room(roomId)], arguments: [this.nodeId] }).catch(() => undefined);
    }
    this.held.clear();
  }
}
