import os from 'node:os';
import type { RedirectTarget } from '../../protocol/schema.js';
import type { Config } from '../config/schema.js';
import { AppError, RedirectError, unavailable } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { RoomRegistry } from '../rooms/roomRegistry.js';
import { urlHost } from '../util/hosts.js';
import { withTimeout } from '../util/timeout.js';
import { ClusterBus } from './clusterBus.js';
import { clusterKeys } from './keys.js';
import { NodeRegistry, type NodeRecord, type NodeSnapshot, type RoomSummary } from './nodeRegistry.js';
import { RedisConnection, type RedisState } from './redisConnection.js';
import { httpUrlOf } from './nodeUrls.js';
import { RoomDirectory } from './roomDirectory.js';

/** How long a join waits for Redis before answering `unavailable`. */
const lookupTimeoutMs = 3000;

export interface ClusterEvents {
  onRedirect?: () => void;
  onTakeover?: () => void;
}

/** This node's WebSocket URL for clients: configured, or derived from the HTTP listener. */
export function publicWsUrl(config: Config): string {
  if (config.cluster.publicWsUrl) return config.cluster.publicWsUrl;
  return `${config.http.tlsCert ? 'wss' : 'ws'}://${urlHost(config.http.host)}:${config.http.port}/ws`;
}


/**
 * This node's part in a cluster sharing one Redis (SFU_REDIS_URL): its heartbeat and the live node
 * list, the room directory (which node each room lives on), and the ban channel. A join is admitted
 * here, or redirected to the room's origin, or refused with `unavailable` when the directory cannot
 * be read (Redis away) and the room is not already here. Media never goes through Redis: with Redis
 * away, every class open on the node goes on.
 */
export class ClusterNode {
  readonly id: string;
  readonly wsUrl: string;
  private readonly log: Logger;

  private constructor(
    readonly redis: RedisConnection,
    readonly nodes: NodeRegistry,
    readonly directory: RoomDirectory,
    readonly bus: ClusterBus,
    private readonly rooms: RoomRegistry,
    private readonly events: ClusterEvents,
    logger: Logger,
  ) {
    this.id = nodes.id;
    this.wsUrl = nodes.record().wsUrl;
    this.log = logger.child({ component: 'cluster' }); // the logger already names the node
  }

  static async start(opts: {
    config: Config;
    rooms: RoomRegistry;
    snapshot: () => NodeSnapshot;
    events?: ClusterEvents;
    logger: Logger;
  }): Promise<ClusterNode> {
    const c = opts.config.cluster;
    if (!c.redisUrl) throw new Error('cluster mode needs SFU_REDIS_URL');
    const id = c.nodeId ?? `${os.hostname()}:${opts.config.http.port}`;
    const log = opts.logger.child({ node: id });
    const keys = clusterKeys(c.keyPrefix);
    const redis = new RedisConnection(c.redisUrl, log);
    const wsUrl = publicWsUrl(opts.config);
    const nodes = new NodeRegistry(redis, keys, { id, wsUrl, httpUrl: httpUrlOf(wsUrl) }, c, opts.snapshot, log);
    const directory = new RoomDirectory(
      redis,
      keys,
      id,
      c.roomTtlMs,
      (roomId) => {
        const room = opts.rooms.get(roomId);
        return Boolean(room && !room.closed);
      },
      // Converge: our clients reconnect (1001), reach this node, and are sent to the owner.
      (roomId, owner) => opts.rooms.get(roomId)?.close(`this class continues on node ${owner}; reconnect`),
      log,
    );
    const bus = new ClusterBus(redis, keys, id, opts.rooms.bans, log);
    const node = new ClusterNode(redis, nodes, directory, bus, opts.rooms, opts.events ?? {}, log);
    redis.on('up', () => {
      // Re-register and re-assert every claim at once: a restarted Redis knows nothing of us.
      void nodes.beat().then(() => directory.refreshAll());
    });
    bus.start();
    await redis.connect(3000);
    await nodes.checkUnique();
    await nodes.beat();
    nodes.start();
    directory.start();
    node.log.info({ url: wsUrl, redis: redis.state }, 'cluster node started');
    return node;
  }

  get redisState(): RedisState {
    return this.redis.state;
  }

  /**
   * Decides where a join for `roomId` is served: returns when here, throws RedirectError when the
   * room's origin is another live node, or `unavailable` when Redis is away and the room is not
   * here. A ban stored in Redis is loaded first, so that the room's own check refuses the user.
   */
  async admit(roomId: string, userId: string, redirected: boolean): Promise<void> {
    const local = this.rooms.get(roomId);
    const here = Boolean(local && !local.closed);
    if (!this.redis.ready) {
      if (here) {
        this.log.warn({ room: roomId }, 'redis down: admitting a join to a class already on this node');
        return;
      }
      throw unavailable(`cannot place class ${roomId} now: the cluster directory (Redis) is unreachable and the class is not on this node; try again shortly`);
    }
    try {
      const banMs = await withTimeout(this.bus.banRemainingMs(roomId, userId), lookupTimeoutMs, 'redis ban lookup');
      if (banMs > 0) this.rooms.bans.restore(roomId, userId, banMs);
      if (here && this.directory.holds(roomId)) return;
      const target = await withTimeout(this.locate(roomId), lookupTimeoutMs, 'redis room lookup');
      if (target.id === this.id) {
        this.directory.hold(roomId);
        return;
      }
      this.events.onRedirect?.();
      if (redirected) this.log.warn({ room: roomId, owner: target.id }, 'a redirected join reached a node that is not the origin (the room moved meanwhile)');
      throw new RedirectError({ url: target.wsUrl, nodeId: target.id } satisfies RedirectTarget);
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (here) return; // Redis failed mid-way: the class is here, serve it
      this.log.warn({ err: String(err), room: roomId }, 'room lookup failed');
      throw unavailable(`cannot place class ${roomId} now: the cluster directory (Redis) did not answer; try again shortly`);
    }
  }

  /** The room's origin: its current owner if alive, else the least loaded live node, claimed atomically. */
  private async locate(roomId: string): Promise<NodeRecord> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const owner = await this.directory.owner(roomId);
      if (owner) {
        const rec = await this.nodes.fetch(owner);
        if (rec) return rec;
        const pick = await this.nodes.placementTarget();
        if (await this.directory.takeOver(roomId, owner, pick.id)) {
          this.events.onTakeover?.();
          this.log.warn({ room: roomId, deadNode: owner, newOrigin: pick.id }, 'room taken over from a dead node');
          return pick;
        }
        continue; // someone else took it over first: read again
      }
      const pick = await this.nodes.placementTarget();
      if (await this.directory.claim(roomId, pick.id)) {
        this.log.info({ room: roomId, origin: pick.id, score: pick.load.score }, 'room placed');
        return pick;
      }
    }
    throw new Error(`room ${roomId}: claim kept changing`);
  }

  /** Browser Origins of the live nodes (a page served by one node opens sockets to the others). */
  origins(): string[] {
    return this.nodes.live().map((n) => new URL(n.httpUrl).origin);
  }

  /** Rooms open on the other live nodes, as of their last heartbeat. */
  remoteRooms(): (RoomSummary & { node: string })[] {
    return this.nodes
      .live()
      .filter((n) => n.id !== this.id)
      .flatMap((n) => n.rooms.map((r) => ({ ...r, node: n.id })));
  }

  /** The HTTP base URL of the live node a room lives on, if it is another one. */
  async remoteOriginHttpUrl(roomId: string): Promise<string | undefined> {
    if (!this.redis.ready) return undefined;
    const owner = await withTimeout(this.directory.owner(roomId), lookupTimeoutMs, 'redis room lookup');
    if (!owner || owner === this.id) return undefined;
    return (await this.nodes.fetch(owner))?.httpUrl;
  }

  status(): { node: string; redis: RedisState; nodes: number; heldRooms: number } {
    return { node: this.id, redis: this.redis.state, nodes: this.nodes.live().length, heldRooms: this.directory.heldRooms.length };
  }

  /** Leaves the cluster: gives the room claims up, removes the node record, closes the connections. */
  async stop(): Promise<void> {
    try {
      await withTimeout(
        (async () => {
          await this.directory.stop();
          await this.nodes.stop();
        })(),
        2000,
        'leaving the cluster',
      );
      this.log.info('left the cluster');
    } catch (err) {
      this.log.warn({ err: String(err) }, 'could not leave the cluster cleanly; its records expire by themselves');
    }
    await this.redis.close();
  }
}
