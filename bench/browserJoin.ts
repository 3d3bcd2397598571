/**
 * Scenario 7, browser join: in real Chromium on the demo page, the time from the signaling
 * WebSocket's open to the first decoded frame of a remote video, over 10 joins (a fresh browser
 * context each), against a publisher already in the room. The viewer joins as an observer, so the
 * figure is the receive path only: join, device load, receive transport, ICE + DTLS, consumer,
 * key frame, decode.
 *
 * Run: node bench/run.mjs browserJoin [--runs 10]   Loopback only; port 3440.
 */
import { chromium } from 'playwright-core';
import { median, percentile, save, table } from './lib/results.js';
import { startBenchServer } from './lib/serverProcess.js';
import { flag, runScenario } from './lib/cli.js';

const runs = Math.min(50, Math.max(1, Number(flag('runs', '10'))));

// Marks, in the page's own clock, the first WebSocket open and the first frame of any remote video.
const probe = () => {
  const w = window as unknown as { wsOpenAt?: number; firstFrameAt?: number };
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('open', () => (w.wsOpenAt ??= performance.now()));
    }
  } as typeof WebSocket;
  new MutationObserver(() => {
    for (const v of document.querySelectorAll<HTMLVideoElement>('video[data-consumer-id]')) {
      if (v.dataset.probed) continue;
      v.dataset.probed = '1';
      v.requestVideoFrameCallback(() => (w.firstFrameAt ??= performance.now()));
    }
  }).observe(document, { childList: true, subtree: true });
};

async function main(): Promise<void> {
  const server = await startBenchServer({ workers: 1, httpPort: 3440, rtcPort: 24400, env: { SFU_DEV_TOKENS: 'true' } });
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream=fps=30', '--autoplay-policy=no-user-gesture-required'],
  });
  const samples: number[] = [];
  try {
    const pub = await browser.newPage();
    await pub.goto(`${server.httpUrl}/?room=join-bench&name=Teacher&role=teacher&autojoin=1`);
    await pub.waitForFunction(() => window.classroom?.state === 'connected' && window.classroom.localTrack('cam'), undefined, { timeout: 20_000 });
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext();
      await context.addInitScript(probe);
      const page = await context.newPage();
      await page.goto(`${server.httpUrl}/?room=join-bench&name=Viewer${i}&role=observer&autojoin=1`);
      const ms = await page.waitForFunction(
        () => {
          const w = window as unknown as { wsOpenAt?: number; firstFrameAt?: number };
          return w.wsOpenAt !== undefined && w.firstFrameAt !== undefined ? w.firstFrameAt - w.wsOpenAt : false;
        },
        undefined,
        { timeout: 20_000 },
      );
      samples.push((await ms.jsonValue()) as number);
      process.stderr.write(`[browserJoin] run ${i + 1}: ${samples.at(-1)!.toFixed(0)} ms\n`);
      await context.close();
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  const result = { runs, samplesMs: samples, p50Ms: median(samples), p90Ms: percentile(samples, 90), minMs: Math.min(...samples), maxMs: Math.max(...samples) };
  table([{ runs, 'p50 ms': result.p50Ms, 'p90 ms': result.p90Ms, 'min ms': result.minMs, 'max ms': result.maxMs }]);
  process.stdout.write(`saved ${save('browserJoin', result)}\n`);
}

runScenario('browserJoin', 5, main);
