import type { types } from 'mediasoup';
import type { ProducerData } from './appData.js';
import { hasLayers, targetSpatialLayer } from './layers.js';
import type { Peer } from './peer.js';

/** Changes within this window go out as one `layersWanted`, so that a publisher's layers do not flap. */
const coalesceMs = 200;
/**
 * A new producer is first judged this long after it appears: its consumers are still being offered
 * and confirmed, and a client with a view lists a new video only once it has it.
 */
const settleMs = 1500;

interface Published {
  producer: types.Producer<ProducerData>;
  owner: Peer;
  /** Its highest spatial layer (0 for a single stream). */
  top: number;
  /** What its publisher was last told (a new producer is wanted whole). */
  told: number | null;
  judgedFrom: number;
}

/**
 * Dynacast: tells each publisher (`layersWanted`) the highest layer of its video anyone in the room
 * receives now, or null when nobody does, so that it encodes nothing nobody watches. A receiver
 * counts when its view shows the video (`shown`) and its client did not pause it, at the layer it
 * gets (its preferred layer, or the lowest while its downlink is held down). Other followers of the
 * room (a recording) register demand for a whole producer. Every router of the room counts: a
 * piped producer keeps its id on each.
 */
export class Dynacast {
  private readonly published = new Map<string, Published>();
  /** Whole-producer demands by producer id (their count). */
  private readonly demands = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private dueAt = 0;
  private shut = false;

  constructor(private readonly peers: ReadonlyMap<string, Peer>) {}

  /** A video producer appeared: wanted whole until judged otherwise. */
  add(owner: Peer, producer: types.Producer<ProducerData>): void {
    if (producer.kind !== 'video') return;
    const top = topLayerOf(producer);
    this.published.set(producer.id, { producer, owner, top, told: top, judgedFrom: Date.now() + settleMs });
    producer.observer.once('close', () => this.published.delete(producer.id));
    this.schedule(settleMs);
  }

  /** Something a receiver gets changed: look again soon. */
  touch(): void {
    this.schedule(coalesceMs);
  }

  /** Someone needs the whole producer (all its layers) until the returned function is called. */
  demand(producerId: string): () => void {
    this.demands.set(producerId, (this.demands.get(producerId) ?? 0) + 1);
    this.touch();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.demands.get(producerId) ?? 1) - 1;
      if (n > 0) this.demands.set(producerId, n);
      else this.demands.delete(producerId);
      this.touch();
    };
  }

  /** A publisher's client came back (resumed session): it is told again what differs from whole. */
  resend(owner: Peer): void {
    for (const p of this.published.values()) {
      if (p.owner === owner && p.told !== p.top) owner.notify('layersWanted', { producerId: p.producer.id, spatialLayer: p.told });
    }
  }

  /** The room closes: nobody is told anything more. */
  close(): void {
    this.shut = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The highest layer wanted of each video producer now (absent: nobody). */
  wanted(): Map<string, number> {
    const wanted = new Map<string, number>();
    const want = (id: string, layer: number) => wanted.set(id, Math.max(wanted.get(id) ?? -1, layer));
    for (const peer of this.peers.values()) {
      for (const c of peer.consumers.values()) {
        if (c.kind !== 'video' || c.appData.shown !== true || c.appData.clientPaused === true) continue;
        const p = this.published.get(c.producerId);
        if (p) want(p.producer.id, hasLayers(c) ? Math.min(p.top, targetSpatialLayer(c.appData, peer.downlinkCapped)) : p.top);
      }
    }
    for (const id of this.demands.keys()) {
      const p = this.published.get(id);
      if (p) want(id, p.top);
    }
    return wanted;
  }

  private schedule(delayMs: number): void {
    if (this.shut) return;
    const at = Date.now() + delayMs;
    if (this.timer && this.dueAt <= at) return;
    clearTimeout(this.timer);
    this.dueAt = at;
    this.timer = setTimeout(() => this.flush(), delayMs);
  }

  private flush(): void {
    this.timer = undefined;
    const now = Date.now();
    const wanted = this.wanted();
    let nextJudged = Infinity;
    for (const p of this.published.values()) {
      if (p.producer.closed) continue;
      if (p.judgedFrom > now) {
        nextJudged = Math.min(nextJudged, p.judgedFrom);
        continue;
      }
      const layer = wanted.get(p.producer.id) ?? null;
      if (layer === p.told) continue;
      p.told = layer;
      p.owner.notify('layersWanted', { producerId: p.producer.id, spatialLayer: layer });
    }
    if (nextJudged < Infinity) this.schedule(nextJudged - now);
  }
}

/** The highest spatial layer a producer sends: its simulcast encodings, or its SVC spatial layers. */
function topLayerOf(producer: types.Producer): number {
  const encodings = producer.rtpParameters.encodings ?? [];
  if (producer.type === 'simulcast') return Math.max(0, Math.min(3, encodings.length - 1));
  if (producer.type === 'svc') {
    const spatial = Number(/^[LS](\d+)/.exec(encodings[0]?.scalabilityMode ?? '')?.[1] ?? 1);
    return Math.max(0, Math.min(3, spatial - 1));
  }
  return 0;
}
