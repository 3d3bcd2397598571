import { EventEmitter } from 'node:events';
import { createClient } from 'redis';
import { backoffMs } from '../../protocol/backoff.js';
import type { Logger } from '../logging/logger.js';
import { withTimeout } from '../util/timeout.js';

export type RedisState = 'connecting' | 'ready' | 'down';
export type RedisClient = ReturnType<typeof createClient>;

/** Reconnect delay: 100 ms doubling to 5 s, ±20 % jitter (so that a cluster does not reconnect in step). */
export const redisBackoffMs = (attempt: number) => backoffMs(attempt, { firstMs: 100, maxMs: 5000, jitter: 0.2 });

/** `redis://user:secret@host:6379/0` → `redis://host:6379/0`: URLs are logged without credentials. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/**
 * The node's two connections to Redis: one for commands, one for pub/sub subscriptions (a
 * subscribed connection can do nothing else). Both reconnect by themselves with backoff; commands
 * fail at once while the link is down (no offline queue: a join must not wait for Redis). Emits
 * `up` on every (re)connection and `down` when the command link is lost, and logs each transition
 * once, not every retry.
 */
export class RedisConnection extends EventEmitter<{ up: []; down: [] }> {
  readonly client: RedisClient;
  readonly subscriber: RedisClient;
  state: RedisState = 'connecting';
  private downSince = 0;
  private attempts = 0;
  private closing = false;
  private readonly log: Logger;

  constructor(url: string, logger: Logger) {
    super();
    this.log = logger.child({ component: 'redis', redis: redactRedisUrl(url) });
    const options = {
      url,
      disableOfflineQueue: true,
      socket: {
        connectTimeout: 2000,
        reconnectStrategy: (retries: number) => (this.closing ? false : redisBackoffMs(retries)),
      },
    } as const;
    this.client = createClient(options);
    this.subscriber = createClient(options);
    this.client.on('ready', () => this.onReady());
    this.client.on('error', (err: Error) => this.onError(err));
    this.client.on('reconnecting', () => this.attempts++);
    // Subscriptions are restored by node-redis after a reconnect; its errors are the same outage.
    this.subscriber.on('error', (err: Error) => this.log.debug({ err: err.message }, 'redis subscriber connection error'));
  }

  get ready(): boolean {
    return this.state === 'ready' && this.client.isReady;
  }

  /**
   * Starts connecting and waits up to `waitMs` for the first connection. A Redis that is not there
   * yet does not stop the node: it keeps trying in the background and serves no new class meanwhile.
   */
  async connect(waitMs: number): Promise<void> {
    this.log.info('connecting to redis');
    const first = new Promise<void>((resolve) => this.once('up', resolve));
    for (const c of [this.client, this.subscriber]) {
      c.connect().catch((err: unknown) => this.log.warn({ err: String(err) }, 'redis connection failed; retrying in the background'));
    }
    const timer = new Promise<void>((resolve) => setTimeout(resolve, waitMs).unref());
    await Promise.race([first, timer]);
    if (!this.ready) {
      this.downSince = Date.now();
      this.log.warn({ waitedMs: waitMs }, 'redis not reachable at start-up; serving no new class until it is (retrying with backoff)');
    }
  }

  private onReady(): void {
    const was = this.state;
    this.state = 'ready';
    if (was === 'down') this.log.warn({ downMs: Date.now() - this.downSince, attempts: this.attempts }, 'redis connection restored');
    else this.log.info('redis connected');
    this.attempts = 0;
    this.emit('up');
  }

  private onError(err: Error): void {
    if (this.state !== 'down' && !this.closing) {
      const was = this.state;
      this.state = 'down';
      if (was === 'ready') {
        this.downSince = Date.now();
        this.log.error(
          { err: err.message },
          'redis connection lost: live classes go on from memory; new classes and classes of other nodes cannot be joined here until it is back (reconnecting with backoff)',
        );
        this.emit('down');
      } else {
        this.downSince ||= Date.now();
        this.log.error({ err: err.message }, 'redis unreachable: no class can be placed on this node until it is (retrying with backoff)');
      }
    } else {
      this.log.debug({ err: err.message }, 'redis still unreachable');
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    for (const c of [this.client, this.subscriber]) {
      try {
        if (c.isOpen) await withTimeout(c.close(), 1000, 'closing redis');
      } catch {
        c.destroy();
      }
    }
  }
}
