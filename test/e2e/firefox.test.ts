import type { Browser, Page } from 'playwright-core';
import type { Page as FoxPage } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { audioPackets, openClassPage, peerIdOf, waitForVideoFrom } from '../helpers/classPage.js';
import { launchFirefox } from '../helpers/firefox.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// Firefox ESR on the demo page beside Chromium, through the real server: each publishes camera
// and microphone, and each receives the other's video and audio.
let server: TestServer;
let chromium: Browser;
let firefox: Awaited<ReturnType<typeof launchFirefox>>;
let chromePage: Page;
let foxPage: FoxPage;
let chromeId: string;
let foxId: string;

beforeAll(async () => {
  server = await startTestServer();
  chromium = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
  firefox = await launchFirefox(server.url);
  chromePage = await openClassPage(chromium, server.url, 'fx', 'Chris', 'teacher');
  foxPage = await firefox.browser.newPage();
  foxPage.on('pageerror', (err) => {
    const message = err instanceof Error ? err.message : String(err);
    // zod tries `new Function('')` once to see whether it may compile its checks; the page's CSP
    // says no, which zod expects and handles, but Firefox reports it as an error all the same.
    if (!/blocked a JavaScript eval/.test(message)) console.error('[Fox] page error:', message);
  });
  await foxPage.goto(`${server.url}/?room=fx&name=Fox&role=student&autojoin=1&cam=640x360`);
  const published = () => foxPage.evaluate(() => window.classroom?.state === 'connected' && Boolean(window.classroom.localTrack('cam') && window.classroom.localTrack('mic')));
  await waitFor(published, 30_000, 'Firefox joined and publishing');
  // Firefox reports no decoded frames through getVideoPlaybackQuality() for WebRTC video: count
  // the frames each remote video element presents instead.
  await foxPage.evaluate(() => {
    const counted = new WeakSet<HTMLVideoElement>();
    const hook = (v: HTMLVideoElement) => {
      const tick = () => {
        v.dataset.frames = String(Number(v.dataset.frames ?? 0) + 1);
        v.requestVideoFrameCallback(tick);
      };
      v.requestVideoFrameCallback(tick);
    };
    setInterval(() => {
      for (const v of document.querySelectorAll<HTMLVideoElement>('video[data-consumer-id]')) {
        if (counted.has(v)) continue;
        counted.add(v);
        hook(v);
      }
    }, 100);
  });
  [chromeId, foxId] = await Promise.all([peerIdOf(chromePage), foxPage.evaluate(() => window.classroom!.peerId!)]);
}, 90_000);
afterAll(async () => {
  await firefox?.close();
  await chromium?.close();
  await server?.close();
});

/** Frames Firefox presented so far of `peerId`'s video, and its width. */
const foxVideoOf = (peerId: string) =>
  foxPage.evaluate((id) => {
    const v = document.querySelector<HTMLVideoElement>(`video[data-peer-id="${CSS.escape(id)}"]`);
    return { frames: Number(v?.dataset.frames ?? 0), width: v?.videoWidth ?? 0 };
  }, peerId);

/** Audio RTP packets Firefox received of `peerId`, from its own inbound-rtp stats. */
const foxAudioOf = (peerId: string) =>
  foxPage.evaluate(async (id) => {
    const t = window.classroom!.remoteTracks.find((r) => r.peerId === id && r.source === 'mic');
    if (!t) return 0;
    let packets = 0;
    (await window.classroom!.getRemoteStats(t.consumerId)).forEach((s: { type: string; packetsReceived?: number }) => {
      if (s.type === 'inbound-rtp') packets = s.packetsReceived ?? 0;
    });
    return packets;
  }, peerId);

describe('Firefox ESR beside Chromium', () => {
  it("publishes its camera and microphone: the server has both, Chromium plays Firefox's video and hears it", async () => {
    const peer = server.rooms.get('fx')!.peers.get(foxId)!;
    expect(peer.producerBySource('cam')?.type).toBe('simulcast');
    expect(peer.producerBySource('mic')?.kind).toBe('audio');
    await waitForVideoFrom(chromePage, foxId, 20_000);
    const first = (await audioPackets(chromePage))[foxId] ?? 0;
    await waitFor(async () => ((await audioPackets(chromePage))[foxId] ?? 0) > first + 20, 10_000, "Firefox's audio at Chromium");
  });

  it("receives Chromium's video and audio: frames presented and packets arriving, continuously", async () => {
    await waitFor(async () => (await foxVideoOf(chromeId)).frames > 0, 20_000, "Chromium's video in Firefox");
    let video = await foxVideoOf(chromeId);
    let audio = await foxAudioOf(chromeId);
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const [v, a] = [await foxVideoOf(chromeId), await foxAudioOf(chromeId)];
      expect(v.frames, `second ${i + 1}: frames`).toBeGreaterThan(video.frames);
      expect(a, `second ${i + 1}: audio packets`).toBeGreaterThan(audio);
      [video, audio] = [v, a];
    }
    expect(video.width).toBeGreaterThan(0);
  });
});
