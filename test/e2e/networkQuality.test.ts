import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { audioPackets, openClassPage, peerIdOf, videoSamples } from '../helpers/classPage.js';
import { createNamespace, type TestNamespace } from '../helpers/netns.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// One participant behind a slow link: a network namespace this test creates, whose downlink is
// squeezed by tc (tbf). Its received video layer must drop while its audio keeps flowing, its
// quality must be reported to it and to the teacher, and the layer must come back once the link
// is freed.
let ns: TestNamespace;
let server: TestServer;
let hostBrowser: Browser;
let nsBrowser: Browser;
let publisher: Page;
let teacher: Page;
let viewer: Page;
let publisherId: string;
let viewerId: string;

beforeAll(async () => {
  ns = createNamespace(7);
  // Its ports are checked free on the host side of the link, where it listens.
  server = await startTestServer({
    SFU_HTTP_HOST: ns.hostIp,
    SFU_RTC_LISTEN_IP: ns.hostIp,
    SFU_QUALITY_INTERVAL_MS: '1000',
    // Bound beyond loopback (the namespace's link) without a secret: the pages' tokens, asked for by name.
    SFU_DEV_TOKENS: 'true',
  });
  const { url } = server;
  // The pages are not on localhost: let Chromium treat this origin as secure (getUserMedia, crypto).
  const secure = `--unsafely-treat-insecure-origin-as-secure=${url}`;
  hostBrowser = await launchChromium([secure, '--autoplay-policy=no-user-gesture-required'], { fps: 30 });
  nsBrowser = await launchChromium([secure, '--autoplay-policy=no-user-gesture-required'], { executablePath: ns.chromium });
  teacher = await openClassPage(hostBrowser, url, 'slowlink', 'Teacher', 'teacher');
  // Only the student's camera goes to the viewer, so the squeeze is about one simulcast video: its
  // 720p ladder (a 1.8 Mbit/s top layer), whose overshoot on the squeezed link the rating sees.
  await teacher.evaluate(() => window.classroom!.unpublish('cam'));
  publisher = await openClassPage(hostBrowser, url, 'slowlink', 'Pat', 'student', { hd: true });
  viewer = await openClassPage(nsBrowser, url, 'slowlink', 'Vic', 'observer');
  [publisherId, viewerId] = await Promise.all([peerIdOf(publisher), peerIdOf(viewer)]);
  for (const page of [viewer, teacher]) {
    await page.evaluate(() => {
      const w = window as unknown as { levels: { peerId: string; uplink: string | null; downlink: string | null }[] };
      w.levels = [];
      window.classroom!.on('networkQuality', (q) => w.levels.push({ peerId: q.peerId, uplink: q.uplink, downlink: q.downlink }));
    });
  }
  // The SDK's own switches to audio only and back (it follows the downlink's rating).
  await viewer.evaluate(() => {
    const w = window as unknown as { audioOnlySeen: { on: boolean; auto: boolean }[] };
    w.audioOnlySeen = [];
    window.classroom!.on('audioOnly', (e) => w.audioOnlySeen.push(e));
  });
}, 60_000);
afterAll(async () => {
  await nsBrowser?.close();
  await hostBrowser?.close();
  await server?.close();
  ns?.close();
});

const widthAtViewer = async () => (await videoSamples(viewer)).find((v) => v.peerId === publisherId)?.width ?? 0;
const audioOnlySeen = () => viewer.evaluate(() => (window as unknown as { audioOnlySeen: { on: boolean; auto: boolean }[] }).audioOnlySeen);
const levelsSeen = (page: Page) => page.evaluate(() => (window as unknown as { levels: { peerId: string; uplink: string | null; downlink: string | null }[] }).levels);

describe('a participant behind a slow link', () => {
  // The camera's layers are 160, 640 and 1280 px wide: 320 or more is any layer above the lowest.
  it('receives the top layer on a free link', async () => {
    await waitFor(async () => (await widthAtViewer()) >= 320, 40_000, 'the 320 px layer at the viewer');
  });

  it('on a 400 kbit/s downlink: the video drops to the lowest layer, audio keeps flowing, quality is reported poor', async () => {
    ns.limitDownlink(400);
    await waitFor(async () => {
      const w = await widthAtViewer();
      return w > 0 && w <= 160;
    }, 30_000, 'the 160 px layer at the viewer');
    // The viewer and the teacher were told the viewer's downlink is poor.
    for (const page of [viewer, teacher]) {
      await waitFor(async () => (await levelsSeen(page)).some((l) => l.peerId === viewerId && l.downlink === 'poor'), 10_000, 'a poor downlink reported');
    }
    // The server holds the student's video down on this downlink.
    const peer = server.rooms.get('slowlink')!.peers.get(viewerId)!;
    expect(peer.downlinkCapped).toBe(true);
    // Audio is never sacrificed: the publisher's audio arrives every second for 5 s.
    let before = (await audioPackets(viewer))[publisherId] ?? 0;
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      const now = (await audioPackets(viewer))[publisherId] ?? 0;
      expect(now - before, `audio packets in second ${i + 1}`).toBeGreaterThan(30);
      before = now;
    }
  });

  it('a downlink too thin even for the lowest layer switches the SDK to audio only by itself (the page says so), and audio goes on', async () => {
    // 400 kbit/s carries the 160 px layer (the rating recovers to fair): squeeze to 120 kbit/s, where
    // it stays poor. 10 s of poor or lost is the SDK's default; once video stops the link may rate
    // good again and video come back (and go again): a switch seen is what counts.
    ns.limitDownlink(120);
    await waitFor(async () => (await audioOnlySeen()).some((e) => e.on && e.auto), 40_000, 'the SDK switching to audio only');
    expect(await viewer.textContent('#notice')).toMatch(/receiving audio only|video is back/);
    const before = (await audioPackets(viewer))[publisherId] ?? 0;
    await new Promise((r) => setTimeout(r, 2000));
    expect(((await audioPackets(viewer))[publisherId] ?? 0) - before).toBeGreaterThan(40);
  });

  it('once the link is freed, the quality recovers and the top layer comes back', async () => {
    ns.clear();
    await waitFor(async () => (await widthAtViewer()) >= 320, 60_000, 'the 320 px layer again');
    // Video is back by the SDK's own choice too.
    expect(await viewer.evaluate(() => window.classroom!.audioOnly)).toBe(false);
    expect((await audioOnlySeen()).at(-1)).toEqual({ on: false, auto: true });
    // The peer's last quality is kept by the quality monitor.
    const inRoom = server.rooms.get('slowlink')!.peers.get(viewerId)!;
    const peer = { downlinkCapped: inRoom.downlinkCapped, quality: server.quality.current(inRoom) };
    expect(peer.downlinkCapped).toBe(false);
    expect(peer.quality?.downlink).toBe('good');
  });

  it('a publisher on a 300 kbit/s uplink is told its uplink is poor, and its SDK sends fewer layers until it recovers', async () => {
    const sender = await openClassPage(nsBrowser, server.url, 'slowlink', 'Sue', 'student', { hd: true });
    const senderId = await peerIdOf(sender);
    await waitFor(async () => (await videoSamples(teacher)).some((v) => v.peerId === senderId && v.width >= 320), 40_000, 'the sender at 320 px');
    // What it sends on a free link: the layers the class shows of it (dynacast: the teacher's page);
    // undefined is "never limited": all three.
    const sendLayer = async () => (await sender.evaluate(() => window.classroom!.maxSendLayer('cam'))) ?? 2;
    const free = await sendLayer();
    expect(free).toBeGreaterThan(0);
    ns.limitUplink(300);
    await waitFor(async () => (await sender.evaluate(() => window.classroom!.maxSendLayer('cam'))) === 0, 20_000, 'the SDK holding the camera to its lowest layer');
    expect(await sender.evaluate((id) => window.classroom!.quality.get(id)?.uplink, senderId)).toMatch(/poor|lost/);
    expect((await levelsSeen(teacher)).some((l) => l.peerId === senderId && l.uplink === 'poor')).toBe(true);
    // Its audio still reaches the teacher.
    const before = (await audioPackets(teacher))[senderId] ?? 0;
    await new Promise((r) => setTimeout(r, 2000));
    expect(((await audioPackets(teacher))[senderId] ?? 0) - before).toBeGreaterThan(40);
    ns.clear();
    await waitFor(async () => (await sendLayer()) === free, 30_000, 'the layers the class shows sent again');
  });
});
