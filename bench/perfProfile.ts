/**
 * Where the worker's time goes, by time rather than instructions: the fan-out of scenario 1 at full
 * speed (one publisher, N subscribers, default 400), and `perf record` sampling the worker's CPU
 * clock (kernel and user, ~1,000 samples per second of CPU) for a window after the joins. Saves the
 * split by binary (the worker, the kernel, libcrypto, ...) and the top functions, self and with
 * their callees, as bench/results/perf-profile.txt. Callgrind (`profile`) counts instructions,
 * which are stable but weigh a cache miss like an add; this weighs time, and sees the kernel.
 *
 * Run: node bench/run.mjs perfProfile [--subscribers 400] [--seconds 8]   Needs perf (Debian:
 * linux-perf) and permission to sample another process (root, or kernel.perf_event_paranoid <= 1).
 * Loopback only; ports 3470 (HTTP) and 24700 (RTC).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openRoom, sleep, windowStart, sample, measure } from './lib/fleet.js';
import { Loadgen } from './lib/loadgen.js';
import { startBenchServer } from './lib/serverProcess.js';
import { flag, runScenario } from './lib/cli.js';

const subscribers = Math.min(2000, Math.max(1, Number(flag('subscribers', '400'))));
const seconds = Math.min(60, Math.max(3, Number(flag('seconds', '8'))));
const results = path.resolve(import.meta.dirname, '..', 'results');

/** The rows of a `perf report --stdio` listing that carry a percentage, at most `n`. */
function rows(report: string, n: number): string {
  return report
    .split('\n')
    .filter((l) => /^\s+\d+\.\d+%/.test(l))
    .slice(0, n)
    // perf pads the symbol column to its widest entry and adds two empty columns: squeeze them.
    .map((l) => l.replace(/\s+-\s+-\s*$/, '').replace(/\s+$/, '').replace(/(\S) {3,}/g, '$1  '))
    .join('\n');
}

async function main(): Promise<void> {
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('perf is not installed (Debian: apt-get install linux-perf)');
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-perf-'));
  const data = path.join(tmp, 'perf.data');
  const server = await startBenchServer({ workers: 1, httpPort: 3470, rtcPort: 24700 });
  const loadgen = await Loadgen.start();
  let summary = '';
  try {
    process.stderr.write(`[perfProfile] ${subscribers} subscribers…\n`);
    const fleet = await openRoom(server, loadgen, 'perf-profile', 1, subscribers);
    await sleep(3000); // layers ramp up
    const a = await windowStart(server, loadgen);
    process.stderr.write(`[perfProfile] sampling the worker for ${seconds} s\n`);
    execFileSync('perf', ['record', '-q', '-e', 'cpu-clock', '-F', '999', '-g', '-p', String(server.workerPids[0]), '-o', data, '--', 'sleep', String(seconds)], { stdio: 'ignore' });
    const r = measure(a, await sample(server, loadgen), [fleet]);
    summary = `${Math.round(r.deliveredPps)} pkt/s delivered, loss ${r.lossPct.toFixed(2)} %, worker ${r.workerCpuPct[0]!.toFixed(0)} % CPU, ${r.workerUsPerPacket.toFixed(2)} µs per delivered packet (${r.workerKernelPct.toFixed(0)} % in the kernel)`;
    await fleet.close();
  } finally {
    await loadgen.stop();
    await server.stop();
  }
  const report = (args: string[]) => execFileSync('perf', ['report', '-i', data, '--stdio', ...args], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, stdio: ['ignore', 'pipe', 'ignore'] });
  const byDso = rows(report(['--no-children', '--sort', 'dso', '-g', 'none']), 10);
  const self = rows(report(['--no-children', '--sort', 'dso,symbol', '-g', 'none']), 40);
  const children = rows(report(['--children', '--sort', 'symbol', '-g', 'none']), 60);
  const text = [
    `# perf, fan-out 1 -> ${subscribers}, worker sampled for ${seconds} s (cpu-clock, 999 Hz)`,
    '',
    `During the window: ${summary}.`,
    '',
    '## by binary',
    byDso,
    '',
    '## functions, self',
    self,
    '',
    '## functions with their callees (children, self)',
    children,
    '',
  ].join('\n');
  fs.mkdirSync(results, { recursive: true });
  fs.writeFileSync(path.join(results, 'perf-profile.txt'), text);
  process.stdout.write(`${summary}\n\n## by binary\n${byDso}\n\n## functions, self\n${self.split('\n').slice(0, 20).join('\n')}\n\nsaved bench/results/perf-profile.txt\n`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

runScenario('perfProfile', 15, main);
