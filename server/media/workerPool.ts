import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Logger } from '../logging/logger.js';
import { backoffMs } from '../../protocol/backoff.js';
import { withTimeout } from '../util/timeout.js';

export interface WorkerPoolOptions {
  count: number;
  listenIp: string;
  announcedAddress?: string | undefined;
  /** Worker i's WebRtcServer listens on UDP and TCP port basePort + i. */
  basePort: number;
  /** Ports a worker binds on loopback for pipe and plain transports (its rtcMinPort..rtcMaxPort). */
  internalPorts: [number, number];
  logLevel: types.WorkerLogLevel;
  loadSampleMs: number;
  logger: Logger;
}

export interface WorkerLoad {
  routers: number;
  transports: number;
  consumers: number;
  /** Share of one core used since the previous sample (0..1). */
  cpu: number;
}

export interface PoolWorker {
  readonly index: number;
  readonly port: number;
  readonly worker: types.Worker;
  readonly webRtcServer: types.WebRtcServer;
  readonly load: WorkerLoad;
}

export interface WorkerHealth {
  index: number;
  pid: number;
  port: number;
  alive: boolean;
}

interface PoolEvents {
  /** A worker died; its routers (and everything on them) are gone. The rooms layer rebuilds. */
  workerDied: [{ index: number; pid: number; error: Error }];
  /** A replacement worker is up on the same index and port. */
  workerReplaced: [PoolWorker];
}

interface Slot extends PoolWorker {
  load: WorkerLoad;
  lastCpuMs: number;
  lastSampleAt: number;
}

/**
 * One mediasoup worker per slot (by default one per core), each with its own WebRtcServer, so a
 * deployment opens two ports per worker instead of a port range. Tracks each worker's load from the
 * objects created on it and from sampled CPU time, replaces a worker that dies on the same port,
 * and answers which worker is least loaded.
 */
export class WorkerPool extends EventEmitter<PoolEvents> {
  private readonly slots: (Slot | undefined)[];
  private readonly log: Logger;
  private sampler: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly opts: WorkerPoolOptions) {
    super();
    this.slots = new Array<Slot | undefined>(opts.count).fill(undefined);
    this.log = opts.logger.child({ component: 'worker-pool' });
  }

  static async start(opts: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(opts);
    try {
      for (let i = 0; i < opts.count; i++) pool.slots[i] = await pool.spawn(i);
    } catch (err) {
      await pool.close();
      throw err;
    }
    pool.sampler = setInterval(() => void pool.sampleCpu(), opts.loadSampleMs);
    pool.sampler.unref();
    return pool;
  }

  get workers(): readonly PoolWorker[] {
    return this.slots.filter((s): s is Slot => s !== undefined);
  }

  /**
   * The worker with the least forwarding work. Consumers and transports are what a worker spends
   * its time on; sampled CPU catches what the counts miss (e.g. simulcast layers, bitrates).
   */
  leastLoaded(): PoolWorker {
    const best = this.leastLoadedExcept(new Set());
    if (!best) throw new Error('no live mediasoup worker');
    return best;
  }

  /** The least loaded live worker whose index is not in `exclude` (a room spreading out). */
  leastLoadedExcept(exclude: ReadonlySet<number>): PoolWorker | undefined {
    const live = this.workers.filter((w) => !w.worker.died && !w.worker.closed && !exclude.has(w.index));
    if (live.length === 0) return undefined;
    const score = (w: PoolWorker): number =>
      w.load.consumers + w.load.transports + 5 * w.load.routers + 100 * w.load.cpu;
    return live.reduce((best, w) => (score(w) < score(best) ? w : best));
  }

  /** Each worker's state; `alive` only when it answered a request within the timeout. */
  async health(timeoutMs = 2000): Promise<WorkerHealth[]> {
    return Promise.all(
      this.slots.map(async (slot, index) => {
        const base = { index, port: this.opts.basePort + index };
        if (!slot) return { ...base, pid: 0, alive: false };
        const alive = await withTimeout(slot.worker.dump(), timeoutMs, `worker ${index} dump`).then(
          () => true,
          () => false,
        );
        return { ...base, pid: slot.worker.pid, alive };
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sampler);
    const exits = this.workers.map((w) => waitForExit(w.worker));
    for (const w of this.workers) w.worker.close();
    await Promise.all(exits);
    this.log.info('all workers closed');
  }

  private async spawn(index: number): Promise<Slot> {
    const { listenIp, announcedAddress, basePort, logLevel } = this.opts;
    const port = basePort + index;
    const [rtcMinPort, rtcMaxPort] = this.opts.internalPorts;
    const worker = await mediasoup.createWorker({ logLevel, rtcMinPort, rtcMaxPort, appData: { index } });
    let webRtcServer: types.WebRtcServer;
    try {
      const info = { ip: listenIp, port, ...(announcedAddress ? { announcedIp: announcedAddress } : {}) };
      webRtcServer = await worker.createWebRtcServer({
        listenInfos: [
          { protocol: 'udp', ...info },
          { protocol: 'tcp', ...info },
        ],
      });
    } catch (err) {
      worker.close();
      throw new Error(
        `worker ${index}: cannot listen on ${listenIp} UDP/TCP port ${port} (${(err as Error).message}); ` +
          'free the port or change SFU_RTC_BASE_PORT',
      );
    }
    const slot: Slot = {
      index,
      port,
      worker,
      webRtcServer,
      load: { routers: 0, transports: 0, consumers: 0, cpu: 0 },
      lastCpuMs: 0,
      lastSampleAt: Date.now(),
    };
    this.trackLoad(slot);
    worker.on('died', (error) => this.onDied(slot, error));
    this.log.info({ index, workerPid: worker.pid, port }, 'worker started');
    return slot;
  }

  /** Counts follow the worker's own observer events, so they cannot drift from reality. */
  private trackLoad(slot: Slot): void {
    const { load } = slot;
    slot.worker.observer.on('newrouter', (router) => {
      load.routers++;
      router.observer.once('close', () => load.routers--);
      router.observer.on('newtransport', (transport) => {
        load.transports++;
        transport.observer.once('close', () => load.transports--);
        transport.observer.on('newconsumer', (consumer) => {
          load.consumers++;
          consumer.observer.once('close', () => load.consumers--);
        });
      });
    });
  }

  private async sampleCpu(): Promise<void> {
    await Promise.all(
      this.workers.map(async (w) => {
        const slot = w as Slot;
        try {
          const usage = await slot.worker.getResourceUsage();
          const cpuMs = usage.ru_utime + usage.ru_stime;
          const now = Date.now();
          if (slot.lastCpuMs > 0) slot.load.cpu = (cpuMs - slot.lastCpuMs) / Math.max(1, now - slot.lastSampleAt);
          slot.lastCpuMs = cpuMs;
          slot.lastSampleAt = now;
        } catch {
          // A dying worker does not answer; its replacement gets sampled next time.
        }
      }),
    );
  }

  private onDied(slot: Slot, error: Error): void {
    const { index } = slot;
    const pid = slot.worker.pid;
    this.log.error({ index, workerPid: pid, err: error }, 'mediasoup worker died; starting a replacement');
    this.emit('workerDied', { index, pid, error });
    if (this.closed) return;
    void this.replace(index, 0);
  }

  private async replace(index: number, attempt: number): Promise<void> {
    if (this.closed) return;
    try {
      const slot = await this.spawn(index);
      if (this.closed) {
        slot.worker.close();
        return;
      }
      this.slots[index] = slot;
      this.log.info({ index, workerPid: slot.worker.pid }, 'replacement worker ready');
      this.emit('workerReplaced', slot);
    } catch (err) {
      // The dead process's port may take a moment to be released; retry with a growing delay.
      const delay = backoffMs(attempt, { firstMs: 100, maxMs: 5000, jitter: 0 });
      this.log.error({ index, err, retryInMs: delay }, 'could not start replacement worker');
      setTimeout(() => void this.replace(index, attempt + 1), delay).unref();
    }
  }
}

/** Resolves once the worker's process has exited (or was never running). */
function waitForExit(worker: types.Worker): Promise<void> {
  if (worker.subprocessClosed) return Promise.resolve();
  return new Promise((resolve) => worker.once('subprocessclose', () => resolve()));
}
