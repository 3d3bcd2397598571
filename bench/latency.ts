/**
 * Scenario 3, added latency: the SFU's forwarding delay for audio (generator send → SFU → kernel
 * receive at the generator), p50 / p99, in a fan-out room loaded to 10 % and 50 % of the worker's
 * capacity. Capacity comes from the fan-out results (bench/results/fanout.json): the best rate
 * delivered at ≤ 1 % loss when the ramp found the limit, else the last step's rate scaled to 100 %
 * of the worker's CPU.
 *
 * Each load is measured `repeat` times in a fresh room; the table gives the medians.
 *
 * Run: node bench/run.mjs latency [--seconds 15] [--repeat 3]   (after `fanout`)
 * Loopback only; ports 3460 (HTTP) and 24600 (RTC).
 */
import fs from 'node:fs';
import path from 'node:path';
import { measureWindow, medianWindow, openRoom, sleep, type WindowResult } from './lib/fleet.js';
import { Loadgen } from './lib/loadgen.js';
import { audioRate, defaultLayers } from './lib/participants.js';
import { save, table } from './lib/results.js';
import { startBenchServer } from './lib/serverProcess.js';
import { flag, runScenario } from './lib/cli.js';

const seconds = Math.min(60, Math.max(5, Number(flag('seconds', '15'))));
const repeat = Math.min(9, Math.max(1, Number(flag('repeat', '3'))));
const perSubscriber = audioRate + defaultLayers.at(-1)!.rate; // audio + the top layer

function capacity(): { pps: number; how: string } {
  const file = path.resolve(import.meta.dirname, '..', 'results', 'fanout.json');
  if (!fs.existsSync(file)) throw new Error('run the fan-out scenario first (node bench/run.mjs fanout): latency loads the worker relative to its capacity');
  const rows = (JSON.parse(fs.readFileSync(file, 'utf8')) as { results: { deliveredPps: number; lossPct: number; workerCpuPct: number[] }[] }).results;
  const ok = rows.filter((r) => r.lossPct <= 1);
  if (ok.length < rows.length && ok.length > 0) return { pps: Math.max(...ok.map((r) => r.deliveredPps)), how: 'best rate at ≤ 1 % loss in the fan-out ramp' };
  const last = rows.at(-1)!;
  return { pps: last.deliveredPps / (last.workerCpuPct[0]! / 100), how: 'the last fan-out step scaled to 100 % worker CPU' };
}

async function main(): Promise<void> {
  const cap = capacity();
  const server = await startBenchServer({ workers: 1, httpPort: 3460, rtcPort: 24600 });
  const loadgen = await Loadgen.start();
  const results = [];
  try {
    for (const load of [10, 50]) {
      const n = Math.max(1, Math.round(((load / 100) * cap.pps) / perSubscriber));
      const runs: WindowResult[] = [];
      for (let i = 0; i < repeat; i++) {
        process.stderr.write(`[latency] ${load} % load, run ${i + 1}/${repeat}: ${n} subscribers…\n`);
        const fleet = await openRoom(server, loadgen, `latency-${load}-${i}`, 1, n);
        runs.push(await measureWindow(server, loadgen, [fleet], seconds));
        await fleet.close();
        await sleep(1000);
      }
      results.push({ loadPct: load, subscribers: n, ...medianWindow(runs) });
    }
  } finally {
    await loadgen.stop();
    await server.stop();
  }
  table(
    results.map((r) => ({
      load: `${r.loadPct} %`,
      N: r.subscribers,
      'delivered pkt/s': Math.round(r.deliveredPps),
      'worker CPU %': r.workerCpuPct[0]!,
      'audio packets': r.latency.count,
      'p50 µs': r.latency.p50 ?? NaN,
      'p90 µs': r.latency.p90 ?? NaN,
      'p99 µs': r.latency.p99 ?? NaN,
      'max µs': r.latency.max,
    })),
  );
  process.stdout.write(`saved ${save('latency', { seconds, repeat, capacityPps: cap.pps, capacityFrom: cap.how, results })}\n`);
}

runScenario('latency', 20, main);
