import { z } from 'zod';
import type { Logger } from '../logging/logger.js';
import type { ClusterKeys } from './keys.js';
import { httpUrlOf } from './nodeUrls.js';
import type { RedisConnection } from './redisConnection.js';

/** One room as other nodes (and GET /api/rooms there) see it. */
export const roomSummary = z.object({
  id: z.string(),
  worker: z.number(),
  /** The workers a class spread over several has routers on (absent from older nodes). */
  routers: z.array(z.object({ worker: z.number(), peers: z.number(), consumers: z.number() })).optional(),
  peers: z.number(),
  publishers: z.number(),
  recording: z.string().nullable(),
  locked: z.boolean(),
});
export type RoomSummary = z.infer<typeof roomSummary>;

/**
 * What a node publishes about itself on every heartbeat. Read back from Redis, a record is checked
 * whole: one with an unusable URL is skipped (it would break every WebSocket upgrade's Origin check),
 * and its HTTP URL must be its WebSocket URL's own (teachers' Authorization headers are forwarded
 * there).
 */
export const nodeRecord = z.object({
  id: z.string().regex(/^[\w.:-]{1,64}$/),
  /** The WebSocket URL clients reach it at (the target of redirects). */
  wsUrl: z.url({ protocol: /^wss?$/ }).max(512),
  /** Its HTTP base URL (the same host and port), for the rooms API of other nodes. */
  httpUrl: z.url({ protocol: /^https?$/ }).max(512),
  startedAt: z.number(),
  /** When this record was written (the node's clock). */
  at: z.number(),
  load: z.object({
    peers: z.number(),
    rooms: z.number(),
    /** Share of one core each mediasoup worker used over the last sample. */
    workerCpu: z.array(z.number()),
    /** Lower is less loaded: what room placement compares. */
    score: z.number(),
  }),
  rooms: z.array(roomSummary),
}).refine((r) => sameNode(r.wsUrl, r.httpUrl), { message: "httpUrl must be the node's own (its wsUrl's host and port)" });
export type NodeRecord = z.infer<typeof nodeRecord>;

/** zod runs the refinement even when a URL failed its own check: that is a mismatch, not a throw. */
function sameNode(wsUrl: string, httpUrl: string): boolean {
  try {
    return httpUrlOf(wsUrl) === httpUrl;
  } catch {
    return false;
  }
}

export interface NodeSnapshot {
  peers: number;
  workerCpu: number[];
  rooms: RoomSummary[];
}

/**
 * Peers weigh most (each costs transports and consumers on a worker); the workers' mean CPU catches
 * what counts miss (simulcast, bitrates): a node at 50 % CPU weighs like 50 more peers.
 */
export function loadScore(s: Pick<NodeSnapshot, 'peers' | 'workerCpu'>): number {
  const cpu = s.workerCpu.length ? s.workerCpu.reduce((a, b) => a + b, 0) / s.workerCpu.length : 0;
  return s.peers + 100 * cpu;
}

/**
 * This node's heartbeat in Redis (a record with a TTL, rewritten every heartbeat), and the list of
 * live nodes read back on each beat. A node that stops beating (killed, cut off) drops out of the
 * list when its record expires; its rooms may then be claimed by others.
 */
export class NodeRegistry {
  private others = new Map<string, NodeRecord>();
  private timer: NodeJS.Timeout | undefined;
  private beating = false;
  private readonly startedAt = Date.now();
  private readonly log: Logger;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: ClusterKeys,
    private readonly self: { id: string; wsUrl: string; httpUrl: string },
    private readonly opts: { heartbeatMs: number; nodeTtlMs: number },
    private readonly snapshot: () => NodeSnapshot,
    logger: Logger,
  ) {
    this.log = logger.child({ component: 'cluster' });
  }

  get id(): string {
    return this.self.id;
  }

  start(): void {
    this.timer = setInterval(() => void this.beat(), this.opts.heartbeatMs);
    this.timer.unref();
  }

  /** Two live nodes with one SFU_NODE_ID would take each other's classes for their own: say so loudly. */
  async checkUnique(): Promise<void> {
    if (!this.redis.ready) return;
    const rec = parseRecord(await this.redis.client.get(this.keys.node(this.self.id)).catch(() => null));
    if (rec && rec.wsUrl !== this.self.wsUrl && rec.at > Date.now() - this.opts.nodeTtlMs) {
      this.log.error({ otherUrl: rec.wsUrl }, `another live node uses SFU_NODE_ID=${this.self.id}: give every node its own id`);
    }
  }

  /** This node's record as of now. */
  record(): NodeRecord {
    const s = this.snapshot();
    return {
      ...this.self,
      startedAt: this.startedAt,
      at: Date.now(),
      load: { peers: s.peers, rooms: s.rooms.length, workerCpu: s.workerCpu, score: loadScore(s) },
      rooms: s.rooms,
    };
  }

  /** Writes our record and reads everyone's. Called on every heartbeat and on reconnecting to Redis. */
  async beat(): Promise<void> {
    // One beat at a time: a Redis that hangs must not pile beats up.
    if (!this.redis.ready || this.beating) return;
    this.beating = true;
    try {
      await this.redis.client.set(this.keys.node(this.self.id), JSON.stringify(this.record()), { expiration: { type: 'PX', value: this.opts.nodeTtlMs } });
      await this.refresh();
    } catch (err) {
      this.log.debug({ err: String(err) }, 'heartbeat failed');
    } finally {
      this.beating = false;
    }
  }

  private async refresh(): Promise<void> {
    const keys: string[] = [];
    for await (const batch of this.redis.client.scanIterator({ MATCH: this.keys.nodePattern, COUNT: 100 })) keys.push(...batch);
    const values = keys.length ? await this.redis.client.mGet(keys) : [];
    const next = new Map<string, NodeRecord>();
    for (const v of values) {
      const rec = parseRecord(v);
      if (rec && rec.id !== this.self.id) next.set(rec.id, rec);
    }
    for (const id of next.keys()) if (!this.others.has(id)) this.log.info({ otherNode: id, url: next.get(id)!.wsUrl }, 'cluster node joined');
    for (const id of this.others.keys()) if (!next.has(id)) this.log.warn({ otherNode: id }, 'cluster node gone (no heartbeat)');
    this.others = next;
  }

  /** Live nodes as of the last beat, this one first (with its current load). */
  live(): NodeRecord[] {
    const fresh = Date.now() - this.opts.nodeTtlMs;
    return [this.record(), ...[...this.others.values()].filter((n) => n.at >= fresh)];
  }

  /** The least loaded live node; this one on a tie (no redirect), then by id. */
  leastLoaded(): NodeRecord {
    return this.live().reduce((best, n) => (n.load.score < best.load.score ? n : best));
  }

  /**
   * Where to place a class: the least loaded live node (this one on a tie), confirmed in Redis. The
   * list is as of the last heartbeat; a node that has since shut down (its record deleted) or died
   * is dropped and the next one tried. Without this check a class could be placed on a node that
   * has just left, and right then is when its clients all rejoin elsewhere.
   */
  async placementTarget(): Promise<NodeRecord> {
    for (;;) {
      const pick = this.leastLoaded();
      if (pick.id === this.self.id || (await this.fetch(pick.id))) return pick;
      this.others.delete(pick.id);
      this.log.info({ otherNode: pick.id }, 'cluster node gone (its record left Redis before its last heartbeat expired)');
    }
  }

  /** A node's record read now from Redis (undefined: expired, the node is dead). */
  async fetch(id: string): Promise<NodeRecord | undefined> {
    if (id === this.self.id) return this.record();
    const rec = parseRecord(await this.redis.client.get(this.keys.node(id)));
    if (rec) this.others.set(id, rec);
    else this.others.delete(id);
    return rec;
  }

  /** Leaves the cluster at once (graceful shutdown), instead of waiting for the record to expire. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (!this.redis.ready) return;
    await this.redis.client.del(this.keys.node(this.self.id)).catch(() => undefined);
  }
}

function parseRecord(v: string | null | undefined): NodeRecord | undefined {
  if (!v) return undefined;
  try {
    const r = nodeRecord.safeParse(JSON.parse(v));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}
