/**
 * Scenario 13, classPage (issue 18): the decoding load of a student's page in real Chromium, with
 * and without receive-what-is-shown. A teacher and S students publish camera and microphone on the
 * demo page (one Chromium, a context each; 640x360 capture, two layers, at a low frame rate so that
 * two cores afford it; students join muted and receive audio only, so that the teacher is the only
 * speaker and nothing reorders the gallery). A further student, the viewer, opens the demo page in
 * a Chromium of its own (its processes are its page's alone) in two modes, side by side:
 *   tiles  `tiles=3`: a stage (the teacher) and a gallery page of 3; the SDK reports what is shown,
 *          so the other videos are paused at the server and the tiles get the small layer;
 *   all    `view=all`: the page reports no view; it receives every video, as before the gallery
 *          (the top layer each, as far as the page's bandwidth estimate allows);
 *   audioOnly  `tiles=3` and setAudioOnly(true): no video at all, the page's cost without decoding
 *          (its own camera's capture and encoding, audio, the page itself).
 * Each round opens the viewer afresh in each mode in turn (the order rotating between rounds),
 * waits until its videos decode, then measures a window: frames decoded per second summed over the
 * page's inbound-rtp video stats, their decode time, video bytes received per second, and the CPU
 * of the viewer's Chromium (its renderer, where WebRTC decodes, and all its processes). Medians
 * over rounds; tiles/all the median of each round's ratio.
 *
 * Run: node bench/run.mjs classPage [--students 6] [--rounds 3] [--seconds 10] [--warmup 10] [--fps 10]
 * About 4 minutes with the defaults on 2 cores. Loopback only; ports 3510 (HTTP) and 25100 (RTC).
 */
import { chromium, type Browser, type Page } from 'playwright-core';
import { sleep } from './lib/fleet.js';
import { videoInbound, type VideoInbound } from './lib/pageStats.js';
import { childrenOf, sampleTree, treeCpuPct } from './lib/processTree.js';
import { median, save, table } from './lib/results.js';
import { cpuMs, startBenchServer } from './lib/serverProcess.js';
import { flag, runScenario } from './lib/cli.js';

const students = Math.min(12, Math.max(2, Number(flag('students', '6'))));
const rounds = Math.min(9, Math.max(1, Number(flag('rounds', '3'))));
const seconds = Math.min(60, Math.max(3, Number(flag('seconds', '10'))));
const warmupMs = 1000 * Math.min(30, Math.max(1, Number(flag('warmup', '10'))));
const fps = Math.min(30, Math.max(5, Number(flag('fps', '10'))));
const tiles = 3;
const modes = { tiles: `tiles=${tiles}`, all: 'view=all', audioOnly: `tiles=${tiles}` } as const;
type Mode = keyof typeof modes;
const room = 'class-page';

const launch = () =>
  chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--use-fake-ui-for-media-stream', `--use-fake-device-for-media-stream=fps=${fps}`, '--autoplay-policy=no-user-gesture-required'],
  });

/** Opens the demo page in a context of its own, joined and publishing camera and microphone. */
async function openPage(browser: Browser, baseUrl: string, name: string, role: string, query: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (err) => console.error(`[classPage] ${name}: page error: ${err.message}`));
  await page.goto(`${baseUrl}/?room=${room}&name=${name}&role=${role}&autojoin=1&cam=640x360&${query}`);
  await page.waitForFunction(() => window.classroom?.state === 'connected' && window.classroom.localTrack('cam') && window.classroom.localTrack('mic'), undefined, { timeout: 30_000 });
  return page;
}


/** The videos whose decoded frames advanced between two samples. */
const advancing = (a: Record<string, VideoInbound>, b: Record<string, VideoInbound>) => Object.keys(b).filter((id) => b[id]!.frames > (a[id]?.frames ?? 0));

interface Run {
  mode: Mode;
  videos: number;
  decoding: number;
  widths: number[];
  /** Frames decoded per second of each video that advanced, in the order of `widths`. */
  fpsEach: number[];
  framesPerSec: number;
  decodeMsPerSec: number;
  kbytesPerSec: number;
  rendererCpuPct: number;
  chromiumCpuPct: number;
  workerCpuPct: number;
}

async function measure(viewer: Browser, viewerPid: number | undefined, server: Awaited<ReturnType<typeof startBenchServer>>, mode: Mode, round: number): Promise<Run> {
  const page = await openPage(viewer, server.httpUrl, `Viewer${round}${mode}`, 'student', modes[mode]);
  if (mode === 'audioOnly') await page.evaluate(() => window.classroom!.setAudioOnly(true));
  try {
    const want = mode === 'all' ? students + 1 : tiles + 1;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const a = await videoInbound(page);
      await sleep(1000);
      const b = await videoInbound(page);
      const moving = advancing(a, b).length;
      if (mode === 'audioOnly' ? moving === 0 : Object.keys(b).length === students + 1 && moving >= want) break;
      if (Date.now() > deadline) throw new Error(`${mode}: ${advancing(a, b).length} of ${want} videos decoding after 30 s (${Object.keys(b).length} received)`);
    }
    await sleep(warmupMs);
    const a = await videoInbound(page);
    const ca = viewerPid ? sampleTree(viewerPid) : undefined;
    const wa = cpuMs(server.workerPids[0]!);
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const b = await videoInbound(page);
    const cb = viewerPid ? sampleTree(viewerPid) : undefined;
    const s = (performance.now() - t0) / 1000;
    const cpu = ca && cb ? treeCpuPct(ca, cb) : {};
    const ids = Object.keys(b);
    const sum = (get: (x: VideoInbound) => number) => ids.reduce((n, id) => n + get(b[id]!) - (a[id] ? get(a[id]) : 0), 0);
    const moving = advancing(a, b).sort((x, y) => b[y]!.width - b[x]!.width);
    return {
      mode,
      videos: ids.length,
      decoding: moving.length,
      widths: moving.map((id) => b[id]!.width),
      fpsEach: moving.map((id) => (b[id]!.frames - (a[id]?.frames ?? 0)) / s),
      framesPerSec: sum((x) => x.frames) / s,
      decodeMsPerSec: (1000 * sum((x) => x.decodeS)) / s,
      kbytesPerSec: sum((x) => x.bytes) / s / 1000,
      rendererCpuPct: cpu.renderer ?? NaN,
      chromiumCpuPct: cpu.all ?? NaN,
      workerCpuPct: (cpuMs(server.workerPids[0]!) - wa) / (10 * s),
    };
  } finally {
    await page.context().close();
  }
}

async function main(): Promise<void> {
  const server = await startBenchServer({ workers: 1, httpPort: 3510, rtcPort: 25100, env: { SFU_DEV_TOKENS: 'true', SFU_STUDENTS_JOIN_MUTED: 'true' } });
  const runs: Run[] = [];
  const summary = () =>
    (Object.keys(modes) as Mode[]).flatMap((mode) => {
      const rs = runs.filter((r) => r.mode === mode);
      if (rs.length === 0) return [];
      const med = (get: (r: Run) => number) => median(rs.map(get));
      return [{ mode, query: modes[mode], runs: rs.length, videos: med((r) => r.videos), decoding: med((r) => r.decoding), widths: rs.at(-1)!.widths, framesPerSec: med((r) => r.framesPerSec), decodeMsPerSec: med((r) => r.decodeMsPerSec), kbytesPerSec: med((r) => r.kbytesPerSec), rendererCpuPct: med((r) => r.rendererCpuPct), chromiumCpuPct: med((r) => r.chromiumCpuPct), workerCpuPct: med((r) => r.workerCpuPct) }];
    });
  // tiles/all per round (the two measured back to back), then the median.
  const ratios = () => {
    const t = runs.filter((r) => r.mode === 'tiles');
    const a = runs.filter((r) => r.mode === 'all');
    const n = Math.min(t.length, a.length);
    const of = (get: (r: Run) => number) => {
      const each = Array.from({ length: n }, (_, i) => get(t[i]!) / get(a[i]!));
      return { each, median: median(each) };
    };
    return n === 0 ? undefined : { framesPerSec: of((r) => r.framesPerSec), decodeMsPerSec: of((r) => r.decodeMsPerSec), kbytesPerSec: of((r) => r.kbytesPerSec), rendererCpuPct: of((r) => r.rendererCpuPct), chromiumCpuPct: of((r) => r.chromiumCpuPct) };
  };
  const saveAll = () => save('classPage', { students, tiles, rounds, seconds, warmupMs, fps, capture: '640x360', results: summary(), ratios: ratios(), runs });
  let classBrowser: Browser | undefined;
  let viewer: Browser | undefined;
  try {
    classBrowser = await launch();
    await openPage(classBrowser, server.httpUrl, 'Teacher', 'teacher', `tiles=${tiles}`);
    for (let i = 1; i <= students; i++) {
      const page = await openPage(classBrowser, server.httpUrl, `S${i}`, 'student', '');
      await page.evaluate(() => window.classroom!.setAudioOnly(true));
    }
    process.stderr.write(`[classPage] a teacher and ${students} students publishing\n`);
    // The viewer's Chromium: the child of this process that its launch adds.
    const before = new Set(childrenOf(process.pid));
    viewer = await launch();
    const viewerPid = childrenOf(process.pid).find((pid) => !before.has(pid));
    if (viewerPid === undefined) process.stderr.write('[classPage] the viewer Chromium process not found: no CPU figures\n');
    for (let i = 0; i < rounds; i++) {
      const order = Object.keys(modes) as Mode[];
      for (const mode of [...order.slice(i % order.length), ...order.slice(0, i % order.length)]) {
        const r = await measure(viewer, viewerPid, server, mode, i);
        runs.push(r);
        process.stderr.write(
          `[classPage] round ${i + 1}/${rounds} ${mode}: ${r.decoding}/${r.videos} videos decoding (${r.widths.map((w, k) => `${w} px ${r.fpsEach[k]!.toFixed(1)} fps`).join(', ')}), ${r.framesPerSec.toFixed(1)} frames/s, ` +
            `decode ${r.decodeMsPerSec.toFixed(1)} ms/s, ${r.kbytesPerSec.toFixed(0)} kB/s, renderer ${r.rendererCpuPct.toFixed(1)} %, Chromium ${r.chromiumCpuPct.toFixed(1)} %\n`,
        );
        saveAll(); // after every run: a later failure keeps what was measured
      }
    }
  } finally {
    await viewer?.close();
    await classBrowser?.close();
    await server.stop();
  }
  table(
    summary().map((r) => ({
      mode: r.mode === 'audioOnly' ? `${r.query}, audio only` : r.query,
      'videos decoding': `${r.decoding} / ${r.videos}`,
      'frames/s': r.framesPerSec,
      'decode ms/s': r.decodeMsPerSec,
      'video kB/s': r.kbytesPerSec,
      'renderer CPU %': r.rendererCpuPct,
      'Chromium CPU %': r.chromiumCpuPct,
    })),
  );
  const x = ratios();
  if (x) process.stdout.write(`tiles/all: frames/s ${x.framesPerSec.median.toFixed(2)}, bytes/s ${x.kbytesPerSec.median.toFixed(2)}, renderer CPU ${x.rendererCpuPct.median.toFixed(2)}\n`);
  process.stdout.write(`saved ${saveAll()}\n`);
}

runScenario('classPage', 10, main);
