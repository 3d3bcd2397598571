import { z } from 'zod';
import type { Logger } from '../logging/logger.js';
import type { BanList } from '../rooms/banList.js';
import type { ClusterKeys } from './keys.js';
import type { RedisConnection } from './redisConnection.js';

const banMessage = z.strictObject({ from: z.string(), room: z.string(), user: z.string(), ms: z.number().int().positive() });
type BanMessage = z.infer<typeof banMessage>;

/**
 * What crosses nodes besides placement: bans. A teacher's removal is stored in Redis
 * (`ban:<room>:<user>` with the ban's expiry, so that a node taking the room over later still
 * refuses the user) and announced on the `bans` channel, so that every node enforces it from memory
 * too, even while Redis is away. A ban issued while Redis is down is stored and announced once it
 * is back.
 */
export class ClusterBus {
  /** Bans issued while Redis was away, with when. */
  private pending: { msg: BanMessage; at: number }[] = [];
  private readonly log: Logger;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: ClusterKeys,
    private readonly nodeId: string,
    private readonly bans: BanList,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'cluster' });
  }

  /** Before connecting: node-redis sends the subscription once connected, and again after each reconnect. */
  start(): void {
    this.bans.onBan = (room, user, ms) => void this.publishBan({ from: this.nodeId, room, user, ms });
    this.redis.on('up', () => void this.flush());
    this.redis.subscriber.subscribe(this.keys.bansChannel, (raw) => this.onBanMessage(raw)).catch((err: unknown) => {
      this.log.error({ err: String(err) }, 'could not subscribe to the bans channel');
    });
  }

  private onBanMessage(raw: string): void {
    let msg: BanMessage;
    try {
      msg = banMessage.parse(JSON.parse(raw));
    } catch {
      this.log.warn('malformed message on the bans channel ignored');
      return;
    }
    if (msg.from === this.nodeId) return;
    this.bans.restore(msg.room, msg.user, msg.ms);
    this.log.info({ room: msg.room, user: msg.user, from: msg.from, banSeconds: Math.ceil(msg.ms / 1000) }, 'ban from another node applied');
  }

  private async publishBan(msg: BanMessage): Promise<void> {
    if (!this.redis.ready) {
      this.log.warn({ room: msg.room, user: msg.user }, 'redis down: the ban holds on this node now and is shared when redis is back');
      this.pending.push({ msg, at: Date.now() });
      return;
    }
    try {
      await this.redis.client
        .multi()
        .set(this.keys.ban(msg.room, msg.user), '1', { expiration: { type: 'PX', value: msg.ms } })
        .publish(this.keys.bansChannel, JSON.stringify(msg))
        .exec();
    } catch (err) {
      this.log.warn({ err: String(err), room: msg.room, user: msg.user }, 'could not share the ban yet; retrying when redis is back');
      this.pending.push({ msg, at: Date.now() });
    }
  }

  /** Bans issued while Redis was away, with what is left of them. */
  private async flush(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    for (const { msg, at } of pending) {
      const left = msg.ms - (Date.now() - at);
      if (left > 0) await this.publishBan({ ...msg, ms: left });
    }
  }

  /** Milliseconds the user remains banned from the room, per Redis (0: not banned). */
  async banRemainingMs(room: string, user: string): Promise<number> {
    const ttl = await this.redis.client.pTTL(this.keys.ban(room, user));
    return ttl > 0 ? ttl : 0;
  }
}
