import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { expectFlowing, openClassPage, peerIdOf, peerLeftSeen, videoSamples, waitForVideosOf } from '../helpers/classPage.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { WsClient } from '../helpers/wsClient.js';

// Three real Chromium participants on the demo page, through the real server and worker.
let server: TestServer;
let browser: Browser;
const pages: Page[] = [];
let ids: string[] = [];

beforeAll(async () => {
  server = await startTestServer({ SFU_RESUME_GRACE_MS: '30000' });
  const { url } = server;
  browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
  for (const name of ['Ada', 'Ben', 'Cy']) pages.push(await openClassPage(browser, url, 'trio', name));
  ids = await Promise.all(pages.map(peerIdOf));
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('a class in real Chromium', () => {
  it('three participants each decode both others continuously for 5 s, with audio arriving', async () => {
    for (const [i, page] of pages.entries()) await waitForVideosOf(page, ids.filter((_, j) => j !== i));
    await Promise.all(pages.map((page, i) => expectFlowing(page, ids.filter((_, j) => j !== i), 5)));
  });

  it('simulcast: a lower preferred spatial layer lowers the decoded width; raising it restores it', async () => {
    const [a] = pages;
    const ofBen = async () => (await videoSamples(a!)).find((v) => v.peerId === ids[1])!;
    // Let bandwidth estimation bring the top layer in first.
    const high = await waitFor(async () => {
      const v = await ofBen();
      return v.width >= 320 ? v : undefined;
    }, 30_000, 'a layer wider than 160 px');
    await a!.evaluate((id) => window.classroom!.setPreferredLayers(id, 0), high.consumerId);
    await waitFor(async () => (await ofBen()).width < high.width, 15_000, 'a narrower layer');
    expect((await ofBen()).width).toBeLessThanOrEqual(160);
    await a!.evaluate((id) => window.classroom!.setPreferredLayers(id, 2), high.consumerId);
    await waitFor(async () => (await ofBen()).width >= high.width, 20_000, 'the wide layer again');
  });

  it('resume: a dropped socket comes back within 5 s with media flowing, and nobody saw it leave', async () => {
    const [a, b, c] = pages;
    const cId = ids[2]!;
    for (const conn of server.signaling.connections) if (conn.session.peer?.id === cId) conn.terminate();
    await c!.waitForFunction(() => window.classroom!.state === 'reconnecting', undefined, { timeout: 5000 });
    const t0 = Date.now();
    await c!.waitForFunction(() => window.classroom!.state === 'connected', undefined, { timeout: 5000 });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(await peerIdOf(c!)).toBe(cId);
    await expectFlowing(c!, [ids[0]!, ids[1]!], 2);
    await expectFlowing(a!, [cId], 2);
    expect(await peerLeftSeen(a!)).toEqual([]);
    expect(await peerLeftSeen(b!)).toEqual([]);
  });

  it('leave and tab close: the others are told, and the router holds nothing of the peer', async () => {
    const [a, b, c] = pages;
    const room = server.rooms.get('trio')!;
    const owned = (id: string) => {
      const p = room.peers.get(id)!;
      return { transports: [...p.transports.keys()], producers: [...p.producers.keys()] };
    };
    const expectGone = async (o: { transports: string[]; producers: string[] }) => {
      const dump = await room.router.dump();
      for (const t of o.transports) expect(dump.transportIds).not.toContain(t);
      for (const p of o.producers) expect(dump.mapProducerIdConsumerIds.map((e) => e.key)).not.toContain(p);
      const consumed = dump.mapProducerIdConsumerIds.flatMap((e) => (o.producers.includes(e.key) ? e.values : []));
      expect(consumed).toEqual([]);
    };

    // Cy presses Leave.
    const cy = owned(ids[2]!);
    await c!.click('#leave');
    await waitFor(async () => (await peerLeftSeen(a!)).includes(ids[2]!) && (await peerLeftSeen(b!)).includes(ids[2]!), 5000, 'peerLeft of Cy');
    await expectGone(cy);
    await waitFor(async () => !(await videoSamples(a!)).some((v) => v.peerId === ids[2]), 5000, "Cy's video removed");

    // Ben closes his tab.
    const ben = owned(ids[1]!);
    await b!.context().close();
    await waitFor(async () => (await peerLeftSeen(a!)).includes(ids[1]!), 5000, 'peerLeft of Ben');
    await expectGone(ben);
    expect([...room.peers.keys()]).toEqual([ids[0]]);
    const dump = await room.router.dump();
    expect(dump.transportIds.sort()).toEqual(owned(ids[0]!).transports.sort());
  });

  it('the same user joining again elsewhere takes over: the page says so and does not come back', async () => {
    const [a] = pages;
    const room = server.rooms.get('trio')!;
    const user = room.peers.get(ids[0]!)!.userId;
    const elsewhere = await WsClient.connect(`${server.wsUrl}?token=${await server.tokens.sign({ room: 'trio', sub: user, name: 'Ada', role: 'student' }, 600)}`);
    const { peerId } = await elsewhere.ok<{ peerId: string }>('join');
    await a!.waitForFunction(() => window.classroom!.state === 'disconnected', undefined, { timeout: 5000 });
    expect(await a!.textContent('#notice')).toContain('another tab or device');
    // No reconnecting: after a while the newer session is still the only one.
    await new Promise((r) => setTimeout(r, 2000));
    expect([...room.peers.keys()]).toEqual([peerId]);
    expect(await a!.evaluate(() => window.classroom!.state)).toBe('disconnected');
    elsewhere.close();
  });
});
