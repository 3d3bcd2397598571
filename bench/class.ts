/**
 * Scenario 12, class (issue 18): a teacher and S students, all with camera and microphone on
 * (bench/lib/classroom.ts), on one worker, in two modes side by side in one run:
 *   all    everyone receives every video at its top layer (no setView, limits at their maxima):
 *          how a class ran before receive-what-is-shown;
 *   shown  everyone shows K videos through setView (a student: the teacher on a 1280x720 stage and
 *          K - 1 students as 320x180 tiles, layer 1; the teacher: K students as tiles), the limits
 *          at the product's defaults, publishers following layersWanted (dynacast) as the SDK does;
 *   shown-static (not by default) the same views, publishers sending every layer whatever
 *          layersWanted says: what dynacast saves the worker.
 * Each round opens the class afresh in each mode in turn; the table gives the medians over rounds,
 * and shown/all the median of each round's ratio (the rounds see the same machine state).
 * Microphones: the teacher's and the first `open-mics` students' are open, the others stay muted as
 * the class's policy starts them (sending Opus DTX silence, 2.5 packets/s, which the server drops).
 *
 * Run: node bench/run.mjs class [--students 24,49] [--tiles 9] [--seconds 6] [--repeat 3]
 *        [--warmup 4] [--open-mics 1] [--tile 320] [--stage 1280] [--modes all,shown[,shown-static]]
 * About 4.5 minutes with the defaults on 2 cores.
 * Loopback only; ports 3500 (HTTP) and 25000 (RTC).
 */
import { openClass, type Size } from './lib/classroom.js';
import { measureWindow, medianWindow, sleep, type WindowResult } from './lib/fleet.js';
import { Loadgen } from './lib/loadgen.js';
import { median, save, table } from './lib/results.js';
import { startBenchServer } from './lib/serverProcess.js';
import { flag, runScenario } from './lib/cli.js';

const sizes = flag('students', '24,49').split(',').map(Number).filter((n) => Number.isInteger(n) && n >= 2 && n <= 99);
const tiles = Math.min(50, Math.max(1, Number(flag('tiles', '9'))));
const seconds = Math.min(60, Math.max(3, Number(flag('seconds', '6'))));
const repeat = Math.min(9, Math.max(1, Number(flag('repeat', '3'))));
const warmupMs = 1000 * Math.min(30, Math.max(2, Number(flag('warmup', '4'))));
const openMics = Math.max(0, Number(flag('open-mics', '1')));
const wide = (w: number): Size => ({ width: w, height: Math.round((w * 9) / 16) });
const tile = wide(Number(flag('tile', '320')));
const stage = wide(Number(flag('stage', '1280')));
const modeNames = ['all', 'shown', 'shown-static'] as const;
type Mode = (typeof modeNames)[number];
const modes = flag('modes', 'all,shown').split(',').filter((m): m is Mode => (modeNames as readonly string[]).includes(m));

interface Run extends WindowResult {
  /** Publishers sending video at the window's end, and the layers they send in all. */
  videoSenders: number;
  layersSent: number;
  /** Video consumers forwarded (a layer set), over all receivers. */
  videosForwarded: number;
}

async function main(): Promise<void> {
  if (modes.length === 0 || sizes.length === 0) throw new Error(`--modes takes ${modeNames.join(', ')}; --students sizes from 2 to 99`);
  const server = await startBenchServer({ workers: 1, httpPort: 3500, rtcPort: 25000 });
  const loadgen = await Loadgen.start();
  const runs = new Map<string, Run[]>();
  const key = (s: number, m: Mode) => `${s}/${m}`;
  const summary = () =>
    sizes.flatMap((s) =>
      modes.flatMap((mode) => {
        const rs = runs.get(key(s, mode)) ?? [];
        if (rs.length === 0) return [];
        const m = medianWindow(rs);
        const med = (get: (r: Run) => number) => median(rs.map(get));
        return [{ students: s, mode, ...m, classesPerCore: 100 / m.workerCpuPct[0]!, videoSenders: med((r) => r.videoSenders), layersSent: med((r) => r.layersSent), videosForwarded: med((r) => r.videosForwarded), cpuEach: rs.map((r) => r.workerCpuPct[0]!) }];
      }),
    );
  // Per round and S, each mode over all: measured back to back.
  const ratios = () =>
    sizes.flatMap((s) =>
      modes.flatMap((mode) => {
        const a = runs.get(key(s, 'all')) ?? [];
        const b = runs.get(key(s, mode)) ?? [];
        const n = Math.min(a.length, b.length);
        if (mode === 'all' || n === 0) return [];
        const cpu = Array.from({ length: n }, (_, i) => b[i]!.workerCpuPct[0]! / a[i]!.workerCpuPct[0]!);
        const delivered = Array.from({ length: n }, (_, i) => b[i]!.deliveredPps / a[i]!.deliveredPps);
        return [{ students: s, mode, cpu, cpuMedian: median(cpu), delivered, deliveredMedian: median(delivered) }];
      }),
    );
  const saveAll = () => save('class', { students: sizes, tiles, seconds, repeat, warmupMs, openMics, tile, stage, modes, results: summary(), ratios: ratios() });
  try {
    for (let i = 0; i < repeat; i++) {
      for (const s of sizes) {
        for (const mode of modes) {
          process.stderr.write(`[class] S=${s} ${mode}, round ${i + 1}/${repeat}: joining…\n`);
          const fleet = await openClass(server, loadgen, {
            room: `class-${s}-${mode}-${i}`,
            students: s,
            mode: mode === 'all' ? 'all' : 'shown',
            tiles,
            stage,
            tile,
            openMics,
            followLayersWanted: mode !== 'shown-static',
          });
          const r = await measureWindow(server, loadgen, [fleet], seconds, warmupMs);
          const subs = fleet.subscribers.flatMap((x) => [...x.consumers.values()]);
          const run: Run = {
            ...r,
            videoSenders: fleet.publishers.filter((p) => p.sendingLayers > 0).length,
            layersSent: fleet.publishers.reduce((n, p) => n + p.sendingLayers, 0),
            videosForwarded: subs.filter((c) => c.kind === 'video' && c.spatialLayer !== null).length,
          };
          await fleet.close();
          const list = runs.get(key(s, mode)) ?? [];
          list.push(run);
          runs.set(key(s, mode), list);
          process.stderr.write(
            `[class] S=${s} ${mode}: worker ${r.workerCpuPct[0]!.toFixed(1)} %, ${Math.round(r.deliveredPps)} pkt/s delivered, loss ${r.lossPct.toFixed(2)} %, ` +
              `in ${Math.round(r.ingressPps)} pkt/s, ${run.videoSenders} sending video, generator ${r.generatorCpuPct.toFixed(0)} %\n`,
          );
          saveAll(); // after every run: a later failure keeps what was measured
          await sleep(1000);
        }
      }
    }
  } finally {
    await loadgen.stop();
    await server.stop();
  }
  table(
    summary().map((r) => ({
      S: r.students,
      mode: r.mode,
      'videos fwd': r.videosForwarded,
      'in pkt/s': Math.round(r.ingressPps),
      'delivered pkt/s': Math.round(r.deliveredPps),
      'loss %': r.lossPct,
      'worker CPU %': r.workerCpuPct[0]!,
      'classes/core': r.classesPerCore,
      'worker µs/pkt': r.workerUsPerPacket,
      'node CPU %': r.nodeCpuPct,
      'generator CPU %': r.generatorCpuPct,
      'latency p99 µs': r.latency.p99 ?? NaN,
    })),
  );
  for (const x of ratios()) process.stdout.write(`S=${x.students}: ${x.mode}/all worker CPU ${x.cpuMedian.toFixed(3)} (rounds ${x.cpu.map((v) => v.toFixed(3)).join(', ')})\n`);
  process.stdout.write(`saved ${saveAll()}\n`);
}

runScenario('class', 30, main);
