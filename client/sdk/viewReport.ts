import type { SignalingSocket } from '../../protocol/client.js';
import type { Emit } from './types.js';

interface Shown {
  consumerId: string;
  element: Element;
  priority: number;
  /** The order show() was first called in: ties of priority keep it. */
  seq: number;
  /** Any of it within the viewport (IntersectionObserver). */
  visible: boolean;
  /** Its size in device pixels (ResizeObserver). */
  width: number;
  height: number;
}

/** Changes within this window go out as one `setView`. */
const coalesceMs = 100;
/** The protocol's limits: 500 videos, sizes up to 16384 px. */
const maxVideos = 500;
const maxPx = 16_384;

/**
 * What the page shows, told to the server (`setView`) so that it forwards only that: the remote
 * videos the application handed us with their elements, each counted while any of it is within
 * the viewport (IntersectionObserver) at its size in device pixels (ResizeObserver), highest
 * priority first. Changes are coalesced into one request. Until the application first calls
 * show() nothing is sent, and the server keeps choosing for us (its fallback).
 */
export class ViewReport {
  private readonly shown = new Map<string, Shown>();
  private readonly byElement = new Map<Element, Shown>();
  private intersection: IntersectionObserver | undefined;
  private resize: ResizeObserver | undefined;
  private seq = 0;
  private used = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight = false;
  private again = false;
  /** The last view the server has (skips repeating it). */
  private lastSent = '';
  private current: string[] = [];

  constructor(
    private readonly socket: SignalingSocket,
    private readonly audioOnly: () => boolean,
    private readonly emit: Emit,
  ) {}

  /** Whether the application reports its view (it called show()). */
  get active(): boolean {
    return this.used;
  }

  /** The video consumers the server last said it forwards, in the view's order. */
  get receiving(): string[] {
    return this.current;
  }

  show(consumerId: string, element: Element, priority: number): void {
    this.used = true;
    const old = this.shown.get(consumerId);
    if (old && old.element === element) {
      if (old.priority !== priority) {
        old.priority = priority;
        this.schedule();
      }
      return;
    }
    if (old) this.hide(consumerId);
    const other = this.byElement.get(element);
    if (other) this.hide(other.consumerId); // one element shows one video
    const s: Shown = { consumerId, element, priority, seq: this.seq++, visible: false, width: 0, height: 0 };
    this.shown.set(consumerId, s);
    this.byElement.set(element, s);
    this.observers().intersection.observe(element);
    this.observers().resize.observe(element);
    this.schedule(); // a fresh video is hidden at the server until a view lists it
  }

  hide(consumerId: string): void {
    const s = this.shown.get(consumerId);
    if (!s) return;
    this.shown.delete(consumerId);
    this.byElement.delete(s.element);
    this.intersection?.unobserve(s.element);
    this.resize?.unobserve(s.element);
    this.schedule();
  }

  /** Something else the view carries changed (audio only). */
  changed(): void {
    if (this.used) this.schedule();
  }

  /** After a join or a resume: the server may hold another view (a new peer has none): tell it again. */
  resend(): void {
    this.lastSent = '';
    if (this.used) this.schedule();
  }

  private observers(): { intersection: IntersectionObserver; resize: ResizeObserver } {
    this.intersection ??= new IntersectionObserver((entries) => {
      for (const e of entries) {
        const s = this.byElement.get(e.target);
        if (s) s.visible = e.isIntersecting;
      }
      this.schedule();
    });
    this.resize ??= new ResizeObserver((entries) => {
      for (const e of entries) {
        const s = this.byElement.get(e.target);
        if (!s) continue;
        const device = e.devicePixelContentBoxSize?.[0];
        const ratio = globalThis.devicePixelRatio || 1;
        s.width = Math.round(device ? device.inlineSize : e.contentRect.width * ratio);
        s.height = Math.round(device ? device.blockSize : e.contentRect.height * ratio);
      }
      this.schedule();
    });
    return { intersection: this.intersection, resize: this.resize };
  }

  private schedule(): void {
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.timer ??= setTimeout(() => void this.flush(), coalesceMs);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    if (!this.socket.connected) return; // resend() after the next join
    const videos = [...this.shown.values()]
      .filter((s) => s.visible && s.width > 0 && s.height > 0)
      .sort((a, b) => b.priority - a.priority || a.seq - b.seq)
      .slice(0, maxVideos)
      .map((s) => ({ consumerId: s.consumerId, width: Math.min(maxPx, s.width), height: Math.min(maxPx, s.height) }));
    const view = { videos, audioOnly: this.audioOnly() };
    const key = JSON.stringify(view);
    if (key === this.lastSent) return;
    this.inFlight = true;
    try {
      this.lastSent = key;
      this.current = (await this.socket.request('setView', view)).receiving;
      this.emit('receiving', this.current);
    } catch (err) {
      this.lastSent = ''; // not applied: the next change, or the next join, sends it again
      if (this.socket.connected) this.emit('error', err as Error);
    } finally {
      this.inFlight = false;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    }
  }
}
