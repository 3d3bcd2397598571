import type { types } from 'mediasoup';
import type { Logger } from '../logging/logger.js';
import { mediaCodecs } from '../media/codecs.js';
import type { PoolWorker } from '../media/workerPool.js';

/** One of a room's routers: the worker it runs on and what it carries. */
export interface RoomRouter {
  readonly host: PoolWorker;
  readonly router: types.Router;
  /** Peers whose transports live on this router. */
  peers: number;
  /** Consumers on this router now, pipe consumers included (kept from the router's own events). */
  consumers: number;
}

/** Picks a worker for a new router of the room: the least loaded one not in `exclude`. */
export type WorkerChooser = (exclude: ReadonlySet<number>) => PoolWorker | undefined;

export interface RoomRoutersOptions {
  roomId: string;
  /** Consumers a router should carry before new peers go elsewhere. */
  maxConsumers: number;
  chooseWorker: WorkerChooser;
  logger: Logger;
  /** A router other than the first was added: the room pipes its producers there. */
  onAdded: (rr: RoomRouter) => void;
  /** A router other than the first went with its worker: the room drops the peers placed on it. */
  onLost: (rr: RoomRouter) => void;
}

/**
 * The routers one room spans, one per worker. The first router is the room's home (its active
 * speaker observer and recordings live there) and stays for the room's life; a class too big for
 * one core places its later participants on routers in other workers, and every producer is piped
 * (router.pipeToRouter) to each router that has someone to consume it. mediasoup ties each pipe's
 * producer to its source: closing, pausing and resuming the source carry over by themselves.
 */
export class RoomRouters {
  readonly primary: RoomRouter;
  private readonly list: RoomRouter[];
  /** Pipes made or in progress, by `${producerId}>${routerId}`. */
  private readonly pipes = new Map<string, Promise<void>>();
  /** Placement runs one at a time, so that concurrent joins do not open two new routers. */
  private placing: Promise<unknown> = Promise.resolve();
  private shut = false;

  private constructor(
    primary: RoomRouter,
    private readonly opts: RoomRoutersOptions,
  ) {
    this.primary = primary;
    this.list = [primary];
  }

  static async open(host: PoolWorker, opts: RoomRoutersOptions): Promise<RoomRouters> {
    return new RoomRouters(await createRoomRouter(host, opts.roomId), opts);
  }

  /** Closed with the room: nothing more is placed or piped. */
  get closed(): boolean {
    return this.shut;
  }

  get all(): readonly RoomRouter[] {
    return this.list;
  }

  /**
   * The router a new participant's transports go on: the first whose load (consumers now, or
   * what its peers will consume, `projected`, whichever is more) is under the threshold; else a
   * new router on the least loaded worker the room does not use yet; else the least loaded of
   * the room's routers. The caller owns one place on it: `release` it when the peer goes.
   */
  place(projected: (rr: RoomRouter) => number): Promise<RoomRouter> {
    const run = this.placing.then(async () => {
      const load = (rr: RoomRouter) => Math.max(rr.consumers, projected(rr));
      let chosen = this.list.find((rr) => load(rr) < this.opts.maxConsumers);
      if (!chosen) {
        const host = this.opts.chooseWorker(new Set(this.list.map((rr) => rr.host.index)));
        chosen = host ? await this.add(host) : this.list.reduce((best, rr) => (load(rr) < load(best) ? rr : best));
      }
      // Counted at once, inside the queue: a router cannot close under a peer being placed on it.
      chosen.peers++;
      return chosen;
    });
    this.placing = run.catch(() => undefined);
    return run;
  }

  /** Makes `producer` (which lives on `from`) consumable on `to`; one pipe per pair, shared. */
  pipe(producer: types.Producer, from: RoomRouter, to: RoomRouter): Promise<void> {
    if (from === to || producer.closed) return Promise.resolve();
    const key = `${producer.id}>${to.router.id}`;
    let pending = this.pipes.get(key);
    if (!pending) {
      pending = from.router.pipeToRouter({ producerId: producer.id, router: to.router }).then(
        ({ pipeProducer }) => {
          // Gone with its source or with either router: a later consumer pipes afresh.
          pipeProducer!.observer.once('close', () => this.pipes.delete(key));
        },
        (err: unknown) => {
          this.pipes.delete(key);
          throw err;
        },
      );
      this.pipes.set(key, pending);
    }
    return pending;
  }

  /** A peer placed on `rr` left; a router other than the first closes when nobody is left on it. */
  release(rr: RoomRouter): void {
    rr.peers = Math.max(0, rr.peers - 1);
    if (rr === this.primary || rr.peers > 0 || this.shut) return;
    this.remove(rr);
    rr.router.close();
    this.opts.logger.info({ worker: rr.host.index, router: rr.router.id }, 'room router closed (no one left on it)');
  }

  /** Closes every router, and with them every transport, producer, consumer and pipe. */
  close(): void {
    this.shut = true;
    for (const rr of this.list) rr.router.close();
  }

  private async add(host: PoolWorker): Promise<RoomRouter> {
    const rr = await createRoomRouter(host, this.opts.roomId);
    if (this.shut) {
      rr.router.close();
      throw new Error('room closed');
    }
    this.list.push(rr);
    rr.router.on('workerclose', () => {
      this.remove(rr);
      if (!this.shut) this.opts.onLost(rr);
    });
    this.opts.logger.info({ worker: host.index, router: rr.router.id, routers: this.list.length }, 'room spread to another worker');
    this.opts.onAdded(rr);
    return rr;
  }

  private remove(rr: RoomRouter): void {
    const i = this.list.indexOf(rr);
    if (i > 0) this.list.splice(i, 1);
  }
}

async function createRoomRouter(host: PoolWorker, roomId: string): Promise<RoomRouter> {
  const router = await host.worker.createRouter({ mediaCodecs, appData: { roomId } });
  const rr: RoomRouter = { host, router, peers: 0, consumers: 0 };
  router.observer.on('newtransport', (transport) => {
    transport.observer.on('newconsumer', (consumer) => {
      rr.consumers++;
      consumer.observer.once('close', () => rr.consumers--);
    });
  });
  return rr;
}
