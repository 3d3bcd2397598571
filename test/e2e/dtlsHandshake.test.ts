import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mediaCodecs } from '../../server/media/codecs.js';
import { WorkerPool } from '../../server/media/workerPool.js';
import { launchChromium } from '../helpers/browser.js';
import { testLogger } from '../helpers/logger.js';
import { serveClientPage } from '../helpers/pageServer.js';
import { allocateServerPorts } from '../helpers/ports.js';
import { waitFor } from '../helpers/serverProcess.js';

// Regression for the worker patch 0001: with Debian's KTLS-enabled OpenSSL the first DTLS
// ClientHello from a browser crashed the worker. A real Chromium now completes ICE + DTLS with a
// worker transport and its camera's RTP reaches the worker.
let pool: WorkerPool;
let browser: Browser;
let page: Awaited<ReturnType<typeof serveClientPage>>;

beforeAll(async () => {
  const ports = await allocateServerPorts(1);
  pool = await WorkerPool.start({ count: 1, listenIp: '127.0.0.1', basePort: ports.rtcBase, internalPorts: ports.internal, logLevel: 'warn', loadSampleMs: 1000, logger: testLogger });
  page = await serveClientPage();
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await page?.close();
  await pool?.close();
});

describe('DTLS with a real browser', () => {
  it('completes the handshake, receives RTP, and the worker stays alive', async () => {
    const w = pool.workers[0]!;
    const router = await w.worker.createRouter({ mediaCodecs });
    const transport = await router.createWebRtcTransport({ webRtcServer: w.webRtcServer });
    let producerId = '';

    const tab = await browser.newPage();
    await tab.goto(page.url);
    await tab.waitForFunction(() => 'mediasoupClient' in window);
    await tab.exposeFunction('sfuConnect', async (dtlsParameters: never) => {
      await transport.connect({ dtlsParameters });
    });
    await tab.exposeFunction('sfuProduce', async (kind: 'audio' | 'video', rtpParameters: never) => {
      producerId = (await transport.produce({ kind, rtpParameters })).id;
      return producerId;
    });
    const params = {
      id: transport.id,
      iceParameters: transport.iceParameters,
      iceCandidates: transport.iceCandidates,
      dtlsParameters: transport.dtlsParameters,
    };
    await tab.evaluate(
      async ({ caps, params }) => {
        /* eslint-disable @typescript-eslint/no-explicit-any */
        const win = window as any;
        const device = new win.mediasoupClient.Device();
        await device.load({ routerRtpCapabilities: caps });
        const t = device.createSendTransport(params);
        t.on('connect', ({ dtlsParameters }: any, ok: () => void, fail: (e: Error) => void) =>
          win.sfuConnect(dtlsParameters).then(ok, fail));
        t.on('produce', ({ kind, rtpParameters }: any, ok: (r: { id: string }) => void, fail: (e: Error) => void) =>
          win.sfuProduce(kind, rtpParameters).then((id: string) => ok({ id }), fail));
        const stream = await navigator.mediaDevices.getUserMedia({ video: { width: 320, height: 240 } });
        await t.produce({ track: stream.getVideoTracks()[0] });
        win.sendTransport = t;
      },
      { caps: router.rtpCapabilities, params },
    );

    await waitFor(() => transport.dtlsState === 'connected', 15_000, 'DTLS connected');
    await waitFor(() => producerId, 10_000, 'a producer');
    // RTP from the browser keeps arriving at the worker.
    await waitFor(async () => (await transport.getStats())[0]!.rtpRecvBitrate > 0, 10_000, 'RTP received');
    const stats1 = (await transport.getStats())[0]!;
    await new Promise((r) => setTimeout(r, 1000));
    const stats2 = (await transport.getStats())[0]!;
    expect(stats2.bytesReceived).toBeGreaterThan(stats1.bytesReceived);
    expect(await tab.evaluate(() => (window as unknown as { sendTransport: { connectionState: string } }).sendTransport.connectionState)).toBe('connected');

    expect(w.worker.died).toBe(false);
    await expect(w.worker.dump()).resolves.toBeTruthy();
    await tab.close();
  });
});
