import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import { waitFor } from './serverProcess.js';

/** What a test reads from a demo page (window.classroom is the SDK instance the page uses). */
export interface VideoSample {
  peerId: string;
  consumerId: string;
  frames: number;
  width: number;
}

/** Opens the demo page in its own browser context and waits until it has joined and publishes. */
export async function openClassPage(
  browser: Browser,
  baseUrl: string,
  room: string,
  name: string,
  role = 'student',
  /**
   * `query`: more of the demo page's parameters (e.g. `tiles=3`). The camera is captured at
   * 640x360 (two layers) unless `hd` (the SDK's 1280x720 in three layers) or the query says `cam=`:
   * several pages encoding 720p in three layers overload two cores, and frames stall.
   */
  opts: { relay?: boolean; query?: string; hd?: boolean } = {},
): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('pageerror', (err) => console.error(`[${name}] page error:`, err.message));
  if (process.env.DEBUG_PAGES) page.on('console', (m) => console.error(`[${name}] ${m.type()}: ${m.text()}`));
  const query = [opts.relay ? 'relay=1' : '', opts.hd || /(^|&)cam=/.test(opts.query ?? '') ? '' : 'cam=640x360', opts.query ?? ''].filter(Boolean);
  await page.goto(`${baseUrl}/?room=${room}&name=${name}&role=${role}&autojoin=1${query.map((q) => `&${q}`).join('')}`);
  await page.waitForFunction(
    (publishes) => window.classroom?.state === 'connected' && (!publishes || (window.classroom.localTrack('cam') && window.classroom.localTrack('mic'))),
    role !== 'observer',
    { timeout: 20_000 },
  );
  // Record what the page hears about others leaving, for "nobody saw it leave" checks.
  await page.evaluate(() => {
    const w = window as unknown as { peerLeftSeen: string[] };
    w.peerLeftSeen = [];
    window.classroom!.on('peerLeft', (id) => w.peerLeftSeen.push(id));
  });
  return page;
}

export const peerIdOf = (page: Page) => page.evaluate(() => window.classroom!.peerId!);

export function videoSamples(page: Page): Promise<VideoSample[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLVideoElement>('video[data-consumer-id]')].map((v) => ({
      peerId: v.dataset.peerId!,
      consumerId: v.dataset.consumerId!,
      frames: v.getVideoPlaybackQuality().totalVideoFrames,
      width: v.videoWidth,
    })),
  );
}

/** Audio RTP packets received per remote audio track, from the browser's own inbound-rtp stats. */
export function audioPackets(page: Page): Promise<Record<string, number>> {
  return page.evaluate(async () => {
    const out: Record<string, number> = {};
    for (const t of window.classroom!.remoteTracks.filter((r) => r.kind === 'audio')) {
      const stats = await window.classroom!.getRemoteStats(t.consumerId);
      stats.forEach((s: { type: string; packetsReceived?: number }) => {
        if (s.type === 'inbound-rtp') out[t.peerId] = s.packetsReceived ?? 0;
      });
    }
    return out;
  });
}

export const peerLeftSeen = (page: Page) => page.evaluate(() => (window as unknown as { peerLeftSeen: string[] }).peerLeftSeen);

/** Frames decoded so far of `peerId`'s video on `page` (0 when there is no such video). */
export async function framesOf(page: Page, peerId: string): Promise<number> {
  return (await videoSamples(page)).find((v) => v.peerId === peerId)?.frames ?? 0;
}

/**
 * Waits until `viewer` decodes new frames of `sender`'s video (a page, whose peer id is read on
 * every try since a rejoin changes it, or a peer id): there is a video, and it advances.
 */
export async function waitForVideoFrom(viewer: Page, sender: Page | string, timeoutMs: number): Promise<void> {
  await waitFor(async () => {
    const id = typeof sender === 'string' ? sender : await peerIdOf(sender);
    const first = await framesOf(viewer, id);
    if (!first) return false;
    await new Promise((r) => setTimeout(r, 300));
    return (await framesOf(viewer, id)) > first;
  }, timeoutMs, 'video frames advancing');
}

/**
 * Waits until `page` shows a remote video of each of `peers`, and each has advanced over two
 * seconds in a row: a class that has just formed settles first (views reported, layers picked,
 * the stage given to a speaker), and on this loaded machine a video may hold for a moment then.
 */
export async function waitForVideosOf(page: Page, peers: string[]): Promise<void> {
  const frames = async () => {
    const s = await videoSamples(page);
    return peers.map((p) => s.find((v) => v.peerId === p)?.frames ?? 0);
  };
  let streak = 0;
  let prev = await frames();
  await waitFor(async () => {
    await new Promise((r) => setTimeout(r, 1000));
    const now = await frames();
    streak = now.every((f, i) => f > 0 && f > prev[i]!) ? streak + 1 : 0;
    prev = now;
    return streak >= 2;
  }, 30_000, `videos of ${peers.join(', ')}, advancing`);
}

/** Samples every second for `seconds`: each listed peer's video and audio must advance every time. */
export async function expectFlowing(page: Page, peers: string[], seconds: number): Promise<void> {
  let prevVideo = await videoSamples(page);
  let prevAudio = await audioPackets(page);
  for (let i = 0; i < seconds; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const video = await videoSamples(page);
    const audio = await audioPackets(page);
    for (const p of peers) {
      const before = prevVideo.find((v) => v.peerId === p)?.frames ?? 0;
      const after = video.find((v) => v.peerId === p)?.frames ?? 0;
      expect(after, `second ${i + 1}: frames of ${p}`).toBeGreaterThan(before);
      expect(audio[p] ?? 0, `second ${i + 1}: audio packets of ${p}`).toBeGreaterThan(prevAudio[p] ?? 0);
    }
    prevVideo = video;
    prevAudio = audio;
  }
}
