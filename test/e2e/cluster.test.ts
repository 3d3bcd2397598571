import type { Browser, Page } from 'playwright-core';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { audioPackets, openClassPage, peerIdOf, waitForVideoFrom } from '../helpers/classPage.js';
import { clusterToken, health, spawnClusterNode, waitForCluster, wsUrlOf } from '../helpers/cluster.js';
import { startRedis, type RedisServer } from '../helpers/redisServer.js';
import { waitFor, type ServerProcess } from '../helpers/serverProcess.js';

// Real Chromium participants on the demo page of two real server processes (127.0.0.1 and
// 127.0.0.2, HTTP and media) sharing one real Redis: whichever node a page comes from, everyone
// ends up in the same class; a node's death and a Redis restart do not end the class.
let browser: Browser;
let redis: RedisServer;
const nodes: ServerProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') for (const n of nodes) console.error(`${n.url} output:\n${n.output().slice(-4000)}`);
});
afterAll(async () => {
  await browser?.close();
  await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  await redis?.dispose();
});

/** Two nodes, `ids[0]` on 127.0.0.1 and `ids[1]` on 127.0.0.2. */
async function startPair(ids: [string, string]): Promise<[ServerProcess, ServerProcess]> {
  const a = await spawnClusterNode({ id: ids[0], ip: '127.0.0.1' }, redis.url);
  const b = await spawnClusterNode({ id: ids[1], ip: '127.0.0.2' }, redis.url);
  nodes.push(a, b);
  await waitForCluster([a, b]);
  return [a, b];
}

/** The WebSocket URL the page's SDK talks to now (its entry node's, or the one a redirect named). */
const serverOf = async (page: Page) => (await page.evaluate(() => window.classroom!.serverUrl)).replace(/^http/, 'ws');

/** For `seconds`, every second: `viewer` decodes new frames of `sender`'s video and gets more of its audio. */
async function expectFlowing(viewer: Page, sender: Page, seconds: number): Promise<void> {
  const id = await peerIdOf(sender);
  let audio = (await audioPackets(viewer))[id] ?? 0;
  for (let i = 0; i < seconds; i++) {
    await waitForVideoFrom(viewer, id, 2000);
    const now = (await audioPackets(viewer))[id] ?? 0;
    expect(now, `second ${i + 1}: audio packets`).toBeGreaterThan(audio);
    audio = now;
  }
}

describe('two nodes, one class', () => {
  let a: ServerProcess;
  let b: ServerProcess;
  const pages: Page[] = [];
  beforeAll(async () => {
    [a, b] = await startPair(['one-a', 'one-b']);
  });
  afterAll(async () => {
    for (const p of pages) await p.context().close();
    // Graceful: each leaves the cluster (its record and claims go at once) and exits 0.
    for (const n of [a, b]) expect(await n?.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('pages from either node join the same class (one is redirected) and see and hear each other', async () => {
    const ada = await openClassPage(browser, a.url, 'cluster-one', 'Ada');
    const ben = await openClassPage(browser, b.url, 'cluster-one', 'Ben');
    pages.push(ada, ben);
    const origin = await serverOf(ada);
    expect([wsUrlOf(a), wsUrlOf(b)]).toContain(origin);
    expect(await serverOf(ben)).toBe(origin);
    await waitForVideoFrom(ada, ben, 15_000);
    await waitForVideoFrom(ben, ada, 15_000);
    await expectFlowing(ada, ben, 3);
    await expectFlowing(ben, ada, 3);
  });

  it('Redis restarting does not drop the class: media flows throughout, and a later join lands in the same room', async () => {
    const [ada, ben] = pages as [Page, Page];
    const origin = await serverOf(ada);
    const ids = await Promise.all([ada, ben].map(peerIdOf));
    await redis.stop('SIGKILL');
    await waitFor(async () => (await health(a)).cluster?.redis === 'down' && (await health(b)).cluster?.redis === 'down', 5000, 'both nodes see redis down');
    await expectFlowing(ada, ben, 3);
    await expectFlowing(ben, ada, 3);
    await redis.start();
    await waitForCluster([a, b], 15_000);
    await expectFlowing(ben, ada, 2);
    // Nobody was dropped or rejoined: the same peers, still connected.
    expect(await Promise.all([ada, ben].map(peerIdOf))).toEqual(ids);
    for (const p of [ada, ben]) expect(await p.evaluate(() => window.classroom!.state)).toBe('connected');

    // A late joiner through the node that is not the origin is sent to the same room.
    const other = origin === wsUrlOf(a) ? b : a;
    const cy = await openClassPage(browser, other.url, 'cluster-one', 'Cy');
    pages.push(cy);
    expect(await serverOf(cy)).toBe(origin);
    await waitForVideoFrom(cy, ada, 15_000);
    await waitForVideoFrom(cy, ben, 15_000);
    await waitForVideoFrom(ada, cy, 15_000);
  });

  it('the SDK follows one redirect per attempt: two nodes sending a join to each other do not loop', async () => {
    // A forged node "ghost" whose URL is node b's, owning the class: a sends the join to b, and b,
    // not being "ghost", sends it on again. The SDK must stop there, retry a bounded number of times,
    // and give up with the `redirect` error.
    const r = createClient({ url: redis.url });
    await r.connect();
    const ghost = { id: 'ghost', wsUrl: wsUrlOf(b), httpUrl: b.url, startedAt: Date.now(), at: Date.now() + 60_000, load: { peers: 0, rooms: 0, workerCpu: [], score: 0 }, rooms: [] };
    await r.set('sfu:node:ghost', JSON.stringify(ghost), { expiration: { type: 'PX', value: 60_000 } });
    await r.set('sfu:room:loop', 'ghost', { expiration: { type: 'PX', value: 60_000 } });
    try {
      const page = await (await browser.newContext()).newPage();
      const warnings: string[] = [];
      page.on('console', (m) => warnings.push(m.text()));
      const t0 = Date.now();
      await page.goto(`${a.url}/?room=loop&name=Eve&role=observer&autojoin=1`);
      await page.waitForFunction(() => window.classroom?.state === 'disconnected', undefined, { timeout: 20_000 });
      const elapsed = Date.now() - t0;
      const hops = warnings.filter((w) => w.includes('served by node ghost'));
      expect(hops.length).toBe(3); // the 3 retries, each after a second redirect refused
      expect(await page.locator('#error').textContent()).toContain('served by node ghost');
      expect(elapsed).toBeLessThan(15_000);
      await page.context().close();
    } finally {
      await r.del(['sfu:node:ghost', 'sfu:room:loop']);
      await r.close();
    }
  });
});

describe('a node is killed (SIGKILL)', () => {
  it("its class is re-created on the other node: clients that came through it reconnect there and get media again", async () => {
    const ids = ['two-a', 'two-b'] as [string, string];
    const [a, b] = await startPair(ids);
    const ada = await openClassPage(browser, a.url, 'cluster-two', 'Ada');
    const origin = await serverOf(ada) === wsUrlOf(a) ? a : b;
    const survivor = origin === a ? b : a;
    // Ben and Cy come in through the survivor, and are redirected to the origin.
    const ben = await openClassPage(browser, survivor.url, 'cluster-two', 'Ben');
    const cy = await openClassPage(browser, survivor.url, 'cluster-two', 'Cy');
    expect(await serverOf(ben)).toBe(wsUrlOf(origin));
    await waitForVideoFrom(ben, cy, 15_000);
    await waitForVideoFrom(cy, ben, 15_000);

    await origin.stop('SIGKILL');
    const t0 = Date.now();
    // A newcomer right after the kill: the survivor still sends it to the dead node (whose record has
    // not expired yet); the SDK's join tries again through its entry URL and gets in.
    const dan = openClassPage(browser, survivor.url, 'cluster-two', 'Dan', 'observer');
    await ben.waitForFunction(() => window.classroom!.state === 'reconnecting', undefined, { timeout: 5000 });
    await waitForVideoFrom(ben, cy, 30_000);
    await waitForVideoFrom(cy, ben, 15_000);
    const recoveredMs = Date.now() - t0;
    console.warn(`media again on the surviving node ${recoveredMs} ms after the kill`);
    for (const p of [ben, cy]) {
      expect(await serverOf(p)).toBe(wsUrlOf(survivor));
      expect(await p.evaluate(() => window.classroom!.state)).toBe('connected');
    }
    await expectFlowing(ben, cy, 3);
    const danPage = await dan;
    expect(await serverOf(danPage)).toBe(wsUrlOf(survivor));
    await waitForVideoFrom(danPage, ben, 15_000);
    // The survivor is the class's node now (a claim taken over, or placed afresh once the dead one's expired).
    const admin = await clusterToken({ room: 'x', sub: 'staff', name: 'Staff', role: 'admin' as never });
    const listed = (await (await fetch(`${survivor.url}/api/rooms`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { rooms: { id: string; node: string; peers: number }[] };
    expect(listed.rooms.find((r) => r.id === 'cluster-two')).toMatchObject({ node: survivor === a ? ids[0] : ids[1], peers: 3 });
    for (const p of [ada, ben, cy, danPage]) await p.context().close();
  });
});
