import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { openClassPage, waitForVideoFrom } from '../helpers/classPage.js';
import { spawnServer, waitFor, type ServerProcess } from '../helpers/serverProcess.js';
import { portEnv } from '../helpers/ports.js';
import { opusRtpParameters } from '../helpers/rtpParameters.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { WsClient } from '../helpers/wsClient.js';

let browser: Browser;
beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => browser?.close());

describe('a media worker dies (kill -9)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ SFU_WORKERS: '2' });
  });
  afterAll(async () => server?.close());

  it("rebuilds its rooms on a live worker and media flows again within 5 s; another worker's room never notices", async () => {
    const a = await openClassPage(browser, server.url, 'doomed', 'Ada');
    const b = await openClassPage(browser, server.url, 'doomed', 'Ben');
    await waitForVideoFrom(a, b, 15_000);
    // A second class on the other worker (protocol clients: cheaper than two more browsers).
    const sign = (u: string) => server.tokens.sign({ room: 'calm', sub: u, name: u, role: 'student' }, 600);
    const c1 = await WsClient.connect(`${server.wsUrl}?token=${await sign('c1')}`);
    const c2 = await WsClient.connect(`${server.wsUrl}?token=${await sign('c2')}`);
    await c1.ok('join');
    await c2.ok('join');
    const send = await c1.ok<{ id: string }>('createTransport', { direction: 'send' });
    await c1.ok('produce', { transportId: send.id, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(99) });
    const doomed = server.rooms.get('doomed')!;
    const calm = server.rooms.get('calm')!;
    expect(calm.host.index).not.toBe(doomed.host.index);

    process.kill(doomed.host.worker.pid, 'SIGKILL');
    const t0 = Date.now();
    await waitForVideoFrom(a, b, 10_000);
    await waitForVideoFrom(b, a, 10_000);
    const recoveredMs = Date.now() - t0;
    expect(recoveredMs).toBeLessThan(5000);
    const rebuilt = server.rooms.get('doomed')!;
    expect(rebuilt).not.toBe(doomed);
    expect(rebuilt.host.worker.died).toBe(false);
    expect(rebuilt.peers.size).toBe(2);

    // The other class: same room object, same router, nobody left, no notice.
    expect(server.rooms.get('calm')).toBe(calm);
    expect(calm.router.closed).toBe(false);
    for (const c of [c1, c2]) {
      expect(c.notifications.filter((n) => ['roomClosed', 'peerLeft'].includes(n.method))).toEqual([]);
      expect(c.ws.readyState).toBe(c.ws.OPEN);
    }
    expect((await c1.call('getTransportStats', { transportId: send.id })).ok).toBe(true);
    for (const p of [a, b]) await p.context().close();
    c1.close();
    c2.close();
  });
});

describe('the server process restarts, then shuts down', () => {
  const env = { SFU_WORKERS: '1', SFU_JWT_SECRET: 'restart-test-secret-0123456789abcdef', SFU_DEV_TOKENS: 'true' };
  let server: ServerProcess | undefined;
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && server) console.error(`server output:\n${server.output().slice(-4000)}`);
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  it('clients reconnect and rejoin with their media by themselves; SIGTERM tells them and exits 0', async () => {
    server = await spawnServer(env);
    const { url } = server;
    await waitFor(async () => (await fetch(`${url}/healthz`)).ok, 30_000, 'server up');
    const a = await openClassPage(browser, url, 'phoenix', 'Ada');
    const b = await openClassPage(browser, url, 'phoenix', 'Ben');
    await waitForVideoFrom(a, b, 15_000);
    // A marker that a page reload would lose.
    for (const p of [a, b]) await p.evaluate(() => ((window as unknown as { marker: number }).marker = 42));

    await server.stop('SIGKILL');
    await a.waitForFunction(() => window.classroom!.state === 'reconnecting', undefined, { timeout: 5000 });
    // The same ports: the pages reconnect to the URL they know.
    server = await spawnServer({ ...env, ...portEnv(server.ports) });
    await waitForVideoFrom(a, b, 20_000);
    await waitForVideoFrom(b, a, 10_000);
    for (const p of [a, b]) {
      expect(await p.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
      expect(await p.evaluate(() => window.classroom!.state)).toBe('connected');
    }

    // Graceful shutdown: peers are told (the socket closes with 1001) and the process exits 0 in time.
    // The listener is in place before the signal (an evaluate still on its way could miss the close).
    await a.evaluate(() => {
      (window as unknown as { closeCode: Promise<number> }).closeCode = new Promise<number>((resolve) => {
        window.classroom!.socket.on('close', ({ code }) => resolve(code));
        setTimeout(() => resolve(-1), 15_000); // never hang the suite
      });
    });
    const closes = a.evaluate(() => (window as unknown as { closeCode: Promise<number> }).closeCode);
    const t0 = Date.now();
    const exit = await server.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(await closes).toBe(1001);
    expect(server.output()).toContain('shutdown complete');
    for (const p of [a, b]) await p.context().close();
  });
});
