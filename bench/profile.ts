/**
 * Where the worker's time goes: the same fan-out as scenario 1 (one publisher, N subscribers,
 * default 20) with the worker run under valgrind's callgrind, which counts instructions (stable
 * on a noisy machine, unlike time). Prints the functions with the most instructions, with their
 * callees, and saves the listing as bench/results/profile.txt.
 *
 * It also counts the instructions of one measurement window after a warm-up (callgrind_control
 * zeroes the counters, then dumps them) and divides them by the packets the subscribers received
 * in it: instructions per delivered packet, a figure that two worker builds can be compared by
 * on a noisy machine (`--worker PATH` profiles another mediasoup-worker binary).
 *
 * Run: node bench/run.mjs profile [--subscribers 20] [--seconds 20] [--worker PATH]   Needs valgrind.
 * Loopback only; ports 3470 (HTTP) and 24700 (RTC). The worker runs ~50x slower under callgrind:
 * read the shares, not the rates.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openRoom, sleep } from './lib/fleet.js';
import { Loadgen } from './lib/loadgen.js';
import { startBenchServer } from './lib/serverProcess.js';
import { flag, runScenario } from './lib/cli.js';
import { save } from './lib/results.js';

const subscribers = Math.min(200, Math.max(1, Number(flag('subscribers', '20'))));
const seconds = Math.min(120, Math.max(5, Number(flag('seconds', '20'))));
const repo = path.resolve(import.meta.dirname, '..', '..');
const results = path.join(repo, 'bench', 'results');

async function main(): Promise<void> {
  execFileSync('valgrind', ['--version']);
  const real = path.resolve(flag('worker', path.join(repo, 'node_modules', 'mediasoup', 'worker', 'out', 'Release', 'mediasoup-worker')));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-profile-'));
  const out = path.join(tmp, 'callgrind.out');
  const wrapper = path.join(tmp, 'worker.sh');
  // The worker talks to Node over inherited pipes (fds 3 and 4): exec keeps them.
  fs.writeFileSync(wrapper, `#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=${out} ${real} "$@"\n`, { mode: 0o755 });
  const server = await startBenchServer({ workers: 1, httpPort: 3470, rtcPort: 24700, env: { MEDIASOUP_WORKER_BIN: wrapper } });
  const loadgen = await Loadgen.start();
  let delivered = 0;
  try {
    process.stderr.write(`[profile] ${subscribers} subscribers, worker under callgrind…\n`);
    const fleet = await openRoom(server, loadgen, 'profile', 1, subscribers, 5);
    // The window: joins and handshakes are over and the layers have ramped up.
    await sleep(Math.min(10, seconds / 2) * 1000);
    const pid = String(server.workerPids[0]);
    execFileSync('callgrind_control', ['-z', pid]);
    const a = await loadgen.stats();
    await sleep(seconds * 1000);
    const b = await loadgen.stats();
    execFileSync('callgrind_control', ['-d', pid]);
    delivered = b.total.recv - a.total.recv;
    process.stderr.write(`[profile] subscribers received ${delivered} packets in the ${seconds} s window\n`);
    await fleet.close();
  } finally {
    await loadgen.stop();
    await server.stop(); // the worker exits and callgrind writes its file
  }
  // The window's dump is the file with the highest .N suffix; its "summary:" line is the total.
  const dumps = fs.readdirSync(tmp).filter((f) => /^callgrind\.out\.\d+$/.test(f)).sort((x, y) => Number(x.split('.').pop()) - Number(y.split('.').pop()));
  const windowDump = dumps.length > 0 ? path.join(tmp, dumps.at(-1)!) : undefined;
  const windowIr = windowDump ? Number(/^summary:\s*(\d+)/m.exec(fs.readFileSync(windowDump, 'utf8'))?.[1] ?? NaN) : NaN;
  const perPacket = windowIr / delivered;
  process.stdout.write(`worker instructions per delivered packet: ${Math.round(perPacket)} (${windowIr} in the window / ${delivered} packets; ${real})\n`);
  save('profile', { subscribers, seconds, worker: real, windowInstructions: windowIr, delivered, instructionsPerPacket: perPacket });
  // The listing is of the window too (the final file holds only what ran after its dump: shutdown).
  const annotate = (extra: string[]) => execFileSync('callgrind_annotate', [...extra, windowDump ?? out], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  // Inclusive costs only: in a dump taken mid-run callgrind books the window's self cost on the
  // frame that was running when the counters were zeroed (the event loop), so a self listing says
  // nothing. Time by function, self included: `node bench/run.mjs perfProfile`.
  const inclusive = annotate(['--inclusive=yes', '--threshold=99']).split('\n').slice(0, 90).join('\n');
  fs.mkdirSync(results, { recursive: true });
  fs.writeFileSync(path.join(results, 'profile.txt'), `# callgrind, fan-out 1 -> ${subscribers}, a ${seconds} s window after the joins: ${Math.round(perPacket)} instructions per delivered packet\n\n## inclusive\n${inclusive}\n`);
  process.stdout.write(`${inclusive}\n\nsaved bench/results/profile.txt\n`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

runScenario('profile', 15, main);
