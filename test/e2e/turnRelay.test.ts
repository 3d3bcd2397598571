import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCoturn, type Coturn } from '../../server/turn/coturnProcess.js';
import { turnCredentials } from '../../server/turn/credentials.js';
import { launchChromium } from '../helpers/browser.js';
import { framesOf, openClassPage, peerIdOf, waitForVideoFrom } from '../helpers/classPage.js';
import { testLogger } from '../helpers/logger.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// Browsers forced onto the TURN relay (iceTransportPolicy 'relay'), through a real coturn whose
// configuration is rendered from the server's. The SFU listens on loopback here, which the
// rendered config allows as the one peer because it is the SFU's own address.
const secret = 'e2e-turn-secret-0123456789';
let url: string;
let turnPort: number;
let server: TestServer;
let coturn: Coturn | undefined;
let browser: Browser;
let a: Page;
let b: Page;

beforeAll(async () => {
  server = await startTestServer({ SFU_TURN_SECRET: secret });
  url = server.url;
  turnPort = server.ports.turn;
  // coturn as the server's own configuration describes it (its port and relay ports included).
  coturn = await startCoturn(server.config, testLogger);
  browser = await launchChromium();
  a = await openClassPage(browser, url, 'relay', 'Ada', 'student', { relay: true });
  b = await openClassPage(browser, url, 'relay', 'Ben', 'student', { relay: true });
});
afterAll(async () => {
  await browser?.close();
  await coturn?.stop();
  await server?.close();
});

describe('through the TURN relay in real Chromium', () => {
  it('publishes and receives media with relay candidates selected on both transports', async () => {
    const [idA, idB] = await Promise.all([peerIdOf(a), peerIdOf(b)]);
    await waitForVideoFrom(a, idB, 20_000);
    await waitForVideoFrom(b, idA, 20_000);
    for (const page of [a, b]) {
      await page.waitForFunction(() => window.classroom!.paths.send && window.classroom!.paths.recv, undefined, { timeout: 10_000 });
      expect(await page.evaluate(() => ({ ...window.classroom!.paths }))).toEqual({ send: 'relay', recv: 'relay' });
    }
    expect(await a.textContent('#path')).toBe('send: relay · receive: relay');
  });

  it.each([
    ['a wrong secret', () => turnCredentials('this-is-not-the-secret', 'mallory', 600)],
    ['expired credentials', () => turnCredentials(secret, 'late', -60)],
  ])('with %s: no relay candidates, and the SDK reports relay_unavailable instead of hanging', async (_what, creds) => {
    // The test loads the SDK itself through eval (below), which the page's CSP forbids: lift it here only.
    const page = await (await browser.newContext({ bypassCSP: true })).newPage();
    await page.goto(`${url}/`);
    const { username, credential } = creds();
    const error = await page.evaluate(
      async ({ username, credential, turnPort }) => {
        const res = await fetch('/api/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ room: 'relay-bad', name: 'x', role: 'student' }) });
        const { token } = (await res.json()) as { token: string };
        // Through eval: the test runner would otherwise rewrite this import() for Node.
        const sdk = (await (0, eval)("import('/sdk.js')")) as typeof import('../../client/sdk/index.js');
        const { Classroom } = sdk;
        const iceServers = [{ urls: [`turn:127.0.0.1:${turnPort}?transport=udp`], username, credential }];
        const room = new Classroom({ url: '/ws', token, forceRelay: true, iceServers });
        const failed = new Promise<{ code: string; message: string }>((resolve) =>
          room.on('error', (e) => {
            const code = (e as { code?: string }).code ?? '';
            if (code === 'relay_unavailable') resolve({ code, message: e.message });
          }),
        );
        await room.join();
        await room.publishCamera();
        return failed;
      },
      { username, credential, turnPort },
    );
    expect(error.code).toBe('relay_unavailable');
    expect(error.message).toContain('no relay candidate was gathered');
    await page.context().close();
  });

  it('recovers media by ICE restart after the relay path breaks', async () => {
    const idA = await peerIdOf(a);
    // Break the path: coturn goes away with every allocation.
    await coturn!.stop();
    coturn = undefined;
    const before = await framesOf(b, idA);
    await new Promise((r) => setTimeout(r, 4000));
    const during = await framesOf(b, idA);
    expect(during - before, 'media stopped while the relay was down').toBeLessThan(30);
    // The relay comes back on the same address: the SDK's ICE restarts find it again.
    coturn = await startCoturn(server.config, testLogger);
    await waitForVideoFrom(b, idA, 40_000);
    expect(await a.evaluate(() => window.classroom!.state)).toBe('connected');
  });
});
