/**
 * mediasoup-worker binaries side by side in one run (a change to the worker, measured): the same
 * fan-out (one publisher, N subscribers, one worker) on a fresh server with each binary in turn,
 * round after round, `repeat` rounds; medians of the worker's CPU per delivered packet (and of its
 * share in the kernel), forwarding latency, and each binary's ratio to the first.
 *
 * Run: node bench/run.mjs workerAb --binaries <base>,<patched>[,...] [--labels base,patched,...]
 *        [--subscribers 400] [--seconds 8] [--repeat 5]
 * Loopback only; ports 3470 (HTTP) and 24950 (RTC).
 */
import fs from 'node:fs';
import { measureWindow, openRoom, sleep, type WindowResult } from './lib/fleet.js';
import { Loadgen } from './lib/loadgen.js';
import { median, save, table } from './lib/results.js';
import { startBenchServer } from './lib/serverProcess.js';
import { flag, runScenario } from './lib/cli.js';

const binaries = flag('binaries', '').split(',').filter(Boolean);
const labels = flag('labels', binaries.map((_, i) => String.fromCharCode(65 + i)).join(',')).split(',');
const subscribers = Math.min(2000, Math.max(1, Number(flag('subscribers', '400'))));
const seconds = Math.min(60, Math.max(3, Number(flag('seconds', '8'))));
const repeat = Math.min(9, Math.max(1, Number(flag('repeat', '5'))));

async function runOnce(bin: string, room: string): Promise<WindowResult> {
  // mediasoup runs the binary MEDIASOUP_WORKER_BIN names instead of its own.
  const server = await startBenchServer({ workers: 1, httpPort: 3470, rtcPort: 24950, env: { MEDIASOUP_WORKER_BIN: bin } });
  const loadgen = await Loadgen.start({});
  try {
    const fleet = await openRoom(server, loadgen, room, 1, subscribers);
    const r = await measureWindow(server, loadgen, [fleet], seconds);
    await fleet.close();
    return r;
  } finally {
    await loadgen.stop();
    await server.stop();
  }
}

async function main(): Promise<void> {
  if (binaries.length < 2 || binaries.length > 4) throw new Error('--binaries takes 2 to 4 mediasoup-worker binaries, comma-separated');
  for (const bin of binaries) if (!fs.existsSync(bin)) throw new Error(`no such worker binary: ${bin}`);
  if (labels.length !== binaries.length) throw new Error('--labels takes one name per binary, e.g. base,patched');
  const runs: WindowResult[][] = binaries.map(() => []);
  for (let i = 0; i < repeat; i++) {
    for (let k = 0; k < binaries.length; k++) {
      process.stderr.write(`[workerAb] ${labels[k]}, run ${i + 1}/${repeat}: ${subscribers} subscribers…\n`);
      const r = await runOnce(binaries[k]!, `ab-${k}-${i}`);
      runs[k]!.push(r);
      process.stderr.write(
        `[workerAb] ${labels[k]}: ${r.workerUsPerPacket.toFixed(2)} µs/pkt (${r.workerKernelPct.toFixed(0)} % kernel), ` +
          `loss ${r.lossPct.toFixed(2)} %, latency p50 ${r.latency.p50} µs\n`,
      );
      await sleep(1000);
    }
  }
  const summary = runs.map((rs, k) => ({
    label: labels[k]!,
    binary: binaries[k]!,
    usPerPacket: median(rs.map((r) => r.workerUsPerPacket)),
    kernelPct: median(rs.map((r) => r.workerKernelPct)),
    cpuPct: median(rs.map((r) => r.workerCpuPct[0]!)),
    lossPct: median(rs.map((r) => r.lossPct)),
    latencyP50: median(rs.map((r) => r.latency.p50 ?? NaN)),
    latencyP99: median(rs.map((r) => r.latency.p99 ?? NaN)),
    each: rs.map((r) => r.workerUsPerPacket),
  }));
  table(
    summary.map((s) => ({
      worker: s.label,
      'worker µs/pkt (median)': s.usPerPacket,
      'kernel %': s.kernelPct,
      'worker CPU %': s.cpuPct,
      'loss %': s.lossPct,
      'latency p50 µs': s.latencyP50,
      'latency p99 µs': s.latencyP99,
      runs: s.each.map((v) => v.toFixed(2)).join(' '),
    })),
  );
  const ratios = summary.map((x) => x.usPerPacket / summary[0]!.usPerPacket);
  for (let k = 1; k < summary.length; k++) process.stdout.write(`${labels[k]} costs ${ratios[k]!.toFixed(3)}x what ${labels[0]} does per delivered packet\n`);
  process.stdout.write(`saved ${save('workerAb', { subscribers, seconds, repeat, summary, ratios })}\n`);
}

runScenario('workerAb', 60, main);
