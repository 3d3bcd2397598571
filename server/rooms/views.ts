import type { types } from 'mediasoup';
import type { VideoLimits } from '../../protocol/schema.js';
import type { ConsumerData } from './appData.js';
import { syncForwarding } from './forwarding.js';
import { hasLayers, layerForWidth, preferLayers } from './layers.js';
import type { Peer } from './peer.js';
import type { ShownVideo } from './peerView.js';
import { fallbackOrder, pickVideos, type RoomVideo } from './videoSelection.js';

/**
 * Changes that touch many receivers (a speaker change, a producer closing: one consumer per
 * receiver) are applied together this long after the first: in a class of 50 a burst costs one
 * pass over every receiver's consumers, and a worker request only per consumer that changes.
 */
const coalesceMs = 250;
/** Dominant speakers remembered for the fallback order. */
const speakersKept = 100;

/**
 * Which videos each participant of a room receives: its view (setView), or for a silent client
 * the server's fallback (teachers' cameras and screen shares, then recent speakers, then by join
 * order), cut to the class's cap for students and observers. Sets each video consumer's `shown`
 * and its layer by size, and settles what the worker forwards (forwarding.ts).
 */
export class RoomViews {
  /** Dominant speakers, most recent first. */
  private readonly speakers: string[] = [];
  private ranking: Map<string, number> | null = null;
  private readonly dirty = new Set<Peer>();
  private timer: NodeJS.Timeout | undefined;
  private shut = false;

  constructor(
    private readonly peers: ReadonlyMap<string, Peer>,
    private current: VideoLimits,
    /** Some consumer's `shown` or preferred layer changed (dynacast follows). */
    private readonly changed: () => void,
  ) {}

  get limits(): VideoLimits {
    return this.current;
  }

  /** New limits: every receiver is looked at again. */
  setLimits(limits: VideoLimits): void {
    this.current = limits;
    this.touchAll(() => true);
  }

  /** A client's view, applied at once; answers the video consumers it now gets, in its order. */
  async setView(peer: Peer, videos: readonly ShownVideo[], audioOnly: boolean): Promise<string[]> {
    peer.view.set(videos, audioOnly);
    const picked = await this.apply(peer);
    return [...picked].filter((id) => peer.consumers.get(id)?.appData.clientPaused !== true);
  }

  /** A consumer was created for `peer` (not confirmed yet): decide at once whether it is shown. */
  consumerAdded(peer: Peer): void {
    void this.apply(peer);
  }

  /** A consumer of `peer` closed: it may leave a place under the cap to the next video. */
  consumerClosed(peer: Peer, consumerId: string): void {
    peer.view.forget(consumerId);
    this.touch(peer);
  }

  /** Producers came or went: the fallback order changes (their consumers bring their receivers here). */
  producersChanged(): void {
    this.ranking = null;
  }

  /** The ActiveSpeakerObserver named a new dominant speaker. */
  speaker(peerId: string): void {
    const i = this.speakers.indexOf(peerId);
    if (i === 0) return;
    if (i > 0) this.speakers.splice(i, 1);
    this.speakers.unshift(peerId);
    this.speakers.length = Math.min(this.speakers.length, speakersKept);
    this.ranking = null;
    // Teachers are uncapped, and explicit views do not follow speakers: only capped silent clients change.
    this.touchAll((p) => !p.view.explicit && p.role !== 'teacher');
  }

  peerLeft(peer: Peer): void {
    const i = this.speakers.indexOf(peer.id);
    if (i >= 0) this.speakers.splice(i, 1);
    this.dirty.delete(peer);
    this.ranking = null;
  }

  /** The room closes: its consumers closing now need nothing more. */
  close(): void {
    this.shut = true;
    clearTimeout(this.timer);
    this.dirty.clear();
  }

  private touch(peer: Peer): void {
    if (this.shut) return;
    this.dirty.add(peer);
    this.timer ??= setTimeout(() => this.flush(), coalesceMs);
  }

  private touchAll(which: (p: Peer) => boolean): void {
    for (const p of this.peers.values()) if (which(p)) this.touch(p);
  }

  private flush(): void {
    this.timer = undefined;
    const peers = [...this.dirty];
    this.dirty.clear();
    for (const p of peers) if (!p.closed) void this.apply(p);
  }

  /** Sets `shown` and the view's layers on the peer's video consumers, and settles them; answers the picked ids. */
  private async apply(peer: Peer): Promise<Set<string>> {
    const picked = this.pick(peer);
    const work: Promise<unknown>[] = [];
    let changed = false;
    // Layers first: a video resumed below starts on the layer that fits (one key frame, not two).
    for (const v of peer.view.videos) {
      const c = peer.consumers.get(v.consumerId);
      if (!c || !picked.has(c.id) || !hasLayers(c) || !peer.view.takeLayer(c.id, layerForWidth(v.width))) continue;
      changed = true;
      work.push(preferLayers(c, layerForWidth(v.width), undefined, peer.downlinkCapped).catch(() => undefined));
    }
    for (const c of peer.consumers.values()) {
      if (c.kind !== 'video') continue;
      const shown = picked.has(c.id);
      if (c.appData.shown === shown) continue;
      c.appData.shown = shown;
      changed = true;
      work.push(syncForwarding(c));
    }
    if (changed) this.changed();
    await Promise.all(work);
    return picked;
  }

  /** The video consumers `peer` should get now, in its order of priority. */
  private pick(peer: Peer): Set<string> {
    const cap = peer.role === 'teacher' ? null : this.current.maxVideosPerStudent;
    const videos = [...peer.consumers.values()].filter((c) => c.kind === 'video');
    let ordered: types.Consumer<ConsumerData>[];
    if (peer.view.explicit) {
      const byId = new Map(videos.map((c) => [c.id, c]));
      const listed = peer.view.videos.map((v) => byId.get(v.consumerId)).filter((c) => c !== undefined);
      // Audio only: the screen shares it lists, then the others there are (it wants the share whatever its layout).
      ordered = peer.view.audioOnly ? [...new Set([...listed, ...videos])].filter((c) => c.appData.source === 'screen') : listed;
    } else {
      const rank = this.rank();
      const at = (c: types.Consumer) => rank.get(c.producerId) ?? Infinity;
      ordered = videos.sort((a, b) => (at(a) === at(b) ? 0 : at(a) < at(b) ? -1 : 1));
    }
    return pickVideos(
      ordered.map((c) => ({ id: c.id, source: c.appData.source, ownerRole: c.appData.ownerRole })),
      cap,
    );
  }

  /** The fallback order of the room's video producers, kept until producers, speakers or peers change. */
  private rank(): Map<string, number> {
    if (this.ranking) return this.ranking;
    const videos: RoomVideo[] = [];
    let joinIndex = 0;
    for (const owner of this.peers.values()) {
      for (const p of owner.producers.values()) {
        if (p.kind === 'video') videos.push({ id: p.id, source: p.appData.source, ownerRole: owner.role, ownerId: owner.id, joinIndex });
      }
      joinIndex++;
    }
    this.ranking = fallbackOrder(videos, this.speakers);
    return this.ranking;
  }
}
