// The class layout of the demo page: a stage and a gallery of everyone else, in pages.
import type { Classroom, RemoteTrack } from '../sdk/index.js';
import { $ } from './ui.js';

export interface GalleryOptions {
  /** Tiles per gallery page. */
  pageSize: number;
  /** Hand the videos to the SDK's view (false: the page says nothing, the server chooses: the old behaviour). */
  reportView: boolean;
}

/**
 * The stage shows one tile large: the one the user pinned (a click on a tile), else the newest
 * screen share, else a teacher's camera (the speaking teacher first), else the active speaker.
 * Everyone else is in the gallery, in pages; the active speaker is brought onto the page shown.
 *
 * A participant is one tile (figure.tile: camera, sound, name, badges); a screen share is a tile
 * of its own (figure.share). Each remote video is handed to the SDK with its element (the stage's
 * first): the SDK reports what is visible, and at what size, so tiles on other pages, hidden, are
 * not received at all, and each video comes at the layer that fits its tile.
 */
export class Gallery {
  private readonly stage = $<HTMLElement>('#stage');
  private readonly grid = $<HTMLElement>('#gallery');
  /** Tiles by key (a peer id, or `share:<consumerId>`), in the order they came. */
  private readonly tiles = new Map<string, HTMLElement>();
  private order: string[] = [];
  private page = 0;
  private pinned: string | null = null;

  constructor(
    private readonly room: () => Classroom | undefined,
    private readonly opts: GalleryOptions,
  ) {
    $<HTMLButtonElement>('#page-prev').onclick = () => this.turn(-1);
    $<HTMLButtonElement>('#page-next').onclick = () => this.turn(1);
  }

  /** The participant's tile, made on first sight. */
  tileFor(peerId: string, name: string): HTMLElement {
    let tile = this.tiles.get(peerId);
    if (!tile) {
      tile = this.makeTile('tile', peerId, name);
      this.tiles.set(peerId, tile);
      this.order.push(peerId);
      this.layout();
    }
    return tile;
  }

  addTrack(t: RemoteTrack, name: string): void {
    const el = document.createElement(t.kind === 'video' ? 'video' : 'audio');
    el.dataset.peerId = t.peerId;
    el.dataset.consumerId = t.consumerId;
    el.dataset.source = t.source;
    el.autoplay = true;
    el.setAttribute('playsinline', '');
    el.srcObject = new MediaStream([t.track]);
    if (t.source === 'screen') {
      const key = `share:${t.consumerId}`;
      const share = this.makeTile('share', t.peerId, `${name}'s screen`);
      share.dataset.source = 'screen';
      share.prepend(el);
      this.tiles.set(key, share);
      this.order.push(key);
    } else if (t.kind === 'video') {
      (el as HTMLVideoElement).muted = true; // audio plays through its own element
      this.tileFor(t.peerId, name).prepend(el);
    } else {
      el.hidden = true;
      this.tileFor(t.peerId, name).append(el);
    }
    void el.play().catch(() => undefined);
    this.layout();
  }

  removeTrack(t: RemoteTrack): void {
    const key = `share:${t.consumerId}`;
    if (this.tiles.has(key)) this.drop(key);
    else document.querySelector(`[data-consumer-id="${CSS.escape(t.consumerId)}"]`)?.remove();
    this.layout();
  }

  removePeer(peerId: string): void {
    for (const [key, tile] of this.tiles) if (tile.dataset.peerId === peerId) this.drop(key);
    this.layout();
  }

  /** A badge for a source paused at its sender. */
  setPaused(t: RemoteTrack, paused: boolean, name: string): void {
    const tile = this.tileFor(t.peerId, name);
    const badge = tile.querySelector(`.muted[data-source="${t.source}"]`);
    if (paused && !badge) {
      const b = document.createElement('span');
      b.className = 'muted';
      b.dataset.source = t.source;
      b.textContent = t.source === 'mic' ? 'muted' : `${t.source} off`;
      tile.append(b);
    } else if (!paused) badge?.remove();
  }

  /** The active speaker: highlighted, and brought onto the page shown when it is on another. */
  speaker(peerId: string | null): void {
    for (const tile of document.querySelectorAll<HTMLElement>('figure.tile')) tile.classList.toggle('speaking', tile.dataset.peerId === peerId);
    const stage = this.stageKey();
    const gallery = this.galleryKeys(stage);
    const at = peerId ? gallery.indexOf(peerId) : -1;
    const first = this.page * this.opts.pageSize;
    if (peerId && at >= 0 && (at < first || at >= first + this.opts.pageSize)) {
      // It takes the first place of this page; the others move along. (Placed by index in the
      // gallery without it: one taken from an earlier page shifts the rest back by one.)
      const rest = gallery.filter((k) => k !== peerId);
      rest.splice(Math.min(first, rest.length), 0, peerId);
      const stageAt = stage ? this.order.indexOf(stage) : -1;
      if (stage && stageAt >= 0) rest.splice(Math.min(stageAt, rest.length), 0, stage);
      this.order = rest;
    }
    this.layout();
  }

  clear(): void {
    for (const key of [...this.tiles.keys()]) this.drop(key);
    this.page = 0;
    this.layout();
  }

  /** Places every tile: the stage, this page of the gallery, the others hidden; tells the SDK. */
  layout(): void {
    const stageKey = this.stageKey();
    const gallery = this.galleryKeys(stageKey);
    const pages = Math.max(1, Math.ceil(gallery.length / this.opts.pageSize));
    this.page = Math.min(this.page, pages - 1);
    const first = this.page * this.opts.pageSize;
    const onStage = stageKey ? this.tiles.get(stageKey)! : undefined;
    if (onStage && onStage.parentElement !== this.stage) this.stage.replaceChildren(onStage);
    if (!onStage) this.stage.replaceChildren();
    this.stage.hidden = !onStage;
    onStage?.removeAttribute('hidden');
    // In order after the own preview (#local), moving only what is out of place.
    let prev: Element | null = this.grid.querySelector('#local');
    for (const [i, key] of gallery.entries()) {
      const tile = this.tiles.get(key)!;
      tile.hidden = i < first || i >= first + this.opts.pageSize;
      const next = prev ? prev.nextElementSibling : this.grid.firstElementChild;
      if (next !== tile) this.grid.insertBefore(tile, next);
      prev = tile;
    }
    $<HTMLElement>('#pager').hidden = pages <= 1;
    $<HTMLElement>('#page-info').textContent = `page ${this.page + 1} of ${pages}`;
    $<HTMLButtonElement>('#page-prev').disabled = this.page === 0;
    $<HTMLButtonElement>('#page-next').disabled = this.page >= pages - 1;
    this.report(onStage);
  }

  private report(onStage: HTMLElement | undefined): void {
    const room = this.room();
    if (!room || !this.opts.reportView) return;
    for (const tile of this.tiles.values()) {
      const video = tile.querySelector<HTMLVideoElement>('video[data-consumer-id]');
      if (video) room.show(video.dataset.consumerId!, video, { priority: tile === onStage ? 1 : 0 });
    }
  }

  private turn(by: number): void {
    this.page = Math.max(0, this.page + by);
    this.layout();
  }

  private stageKey(): string | null {
    const room = this.room();
    if (this.pinned && this.tiles.has(this.pinned)) return this.pinned;
    const shares = this.order.filter((k) => k.startsWith('share:'));
    if (shares.length > 0) return shares.at(-1)!;
    const speaker = room?.activeSpeaker ?? null;
    const hasCamera = (k: string) => Boolean(this.tiles.get(k)?.querySelector('video[data-source="cam"]'));
    const teachers = this.order.filter((k) => room?.peers.get(k)?.role === 'teacher' && hasCamera(k));
    if (teachers.length > 0) return teachers.includes(speaker ?? '') ? speaker : teachers[0]!;
    return speaker && this.tiles.has(speaker) ? speaker : null;
  }

  private galleryKeys(stageKey = this.stageKey()): string[] {
    return this.order.filter((k) => k !== stageKey);
  }

  private makeTile(kind: 'tile' | 'share', peerId: string, name: string): HTMLElement {
    const tile = document.createElement('figure');
    tile.className = kind;
    tile.dataset.peerId = peerId;
    tile.title = 'Click to pin to the stage';
    const caption = document.createElement('figcaption');
    caption.textContent = name;
    tile.append(caption);
    tile.onclick = () => {
      const key = [...this.tiles].find(([, t]) => t === tile)?.[0] ?? null;
      this.pinned = this.pinned === key ? null : key;
      for (const t of this.tiles.values()) t.toggleAttribute('data-pinned', t === tile && this.pinned !== null);
      this.layout();
    };
    return tile;
  }

  private drop(key: string): void {
    this.tiles.get(key)?.remove();
    this.tiles.delete(key);
    this.order = this.order.filter((k) => k !== key);
    if (this.pinned === key) this.pinned = null;
  }
}
