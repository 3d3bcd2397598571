import type { types } from 'mediasoup';
import { notFound } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { ProducerData } from './appData.js';
import type { Peer } from './peer.js';
import type { RoomRouter, RoomRouters } from './roomRouters.js';

/** The least a participant is expected to consume: a teacher's camera and microphone. */
const expectedConsumersPerPeer = 2;

/**
 * Where a room's peers live among its routers (see RoomRouters), and how a producer reaches a
 * router other than its owner's: through a pipe.
 */
export class Placement {
  /** Placements in progress (a client may ask for its send and receive transports at once). */
  private readonly homing = new Map<Peer, Promise<RoomRouter>>();

  constructor(
    private readonly routers: RoomRouters,
    private readonly peers: ReadonlyMap<string, Peer>,
    private readonly log: Logger,
  ) {}

  /** The router this peer's transports go on, chosen when it asks for its first transport. */
  async homeOf(peer: Peer): Promise<RoomRouter> {
    if (peer.home) return peer.home;
    let pending = this.homing.get(peer);
    if (!pending) {
      pending = this.routers.place((rr) => this.projectedConsumers(rr));
      this.homing.set(peer, pending);
      // Registered before any caller's await, so it runs first: the peer has its home, or gives
      // the place back if it left meanwhile.
      pending.then(
        (rr) => {
          this.homing.delete(peer);
          if (peer.closed) this.routers.release(rr);
          else peer.settleOn(rr);
        },
        () => this.homing.delete(peer),
      );
    }
    const home = await pending;
    if (peer.closed) throw notFound('peer left');
    return home;
  }

  /** The peer left: its place on its router is given back. */
  leave(peer: Peer): void {
    const home = peer.leaveHome();
    if (home) this.routers.release(home);
  }

  /** Resolves whether `producer` can now be consumed on `to` (piped there if it lives elsewhere). */
  pipe(producer: types.Producer<ProducerData>, owner: Peer, to: RoomRouter): Promise<boolean> {
    const from = owner.home;
    if (!from || producer.closed) return Promise.resolve(false);
    return this.routers.pipe(producer, from, to).then(
      () => true,
      (err: unknown) => {
        if (!producer.closed && !this.routers.closed) this.log.warn({ err, producer: producer.id, from: from.host.index, to: to.host.index }, 'could not pipe producer to another router');
        return false;
      },
    );
  }

  /** A new router of the room gets every producer there is. */
  pipeAll(rr: RoomRouter): void {
    for (const owner of this.peers.values()) {
      for (const producer of owner.producers.values()) void this.pipe(producer, owner, rr);
    }
  }

  /**
   * What `rr`'s peers will consume once they receive everyone else's producers, counting each peer
   * for at least a teacher's camera and microphone: students often arrive before anything is
   * published, and placement happens only once per peer.
   */
  private projectedConsumers(rr: RoomRouter): number {
    let producers = 0;
    for (const p of this.peers.values()) producers += p.producers.size;
    let n = 0;
    for (const p of this.peers.values()) if (p.home === rr) n += Math.max(expectedConsumersPerPeer, producers - p.producers.size);
    return n;
  }
}
