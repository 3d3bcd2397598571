/**
 * The SRTP suite's share of the worker's cost, side by side in one run: the same fan-out (one
 * publisher, N subscribers, one worker) with the generator offering AES-CM/HMAC-SHA1-80 and then
 * AEAD AES-256-GCM (what Chromium negotiates with this server), alternating, `repeat` times each;
 * medians of the worker's CPU per delivered packet and their ratio.
 *
 * Run: node bench/run.mjs cipher [--subscribers 400] [--seconds 8] [--repeat 3]
 * Loopback only; ports 3480 (HTTP) and 24900 (RTC).
 */
import { measureWindow, openRoom, sleep } from './lib/fleet.js';
import { Loadgen, type SrtpProfile } from './lib/loadgen.js';
import { median, save, table } from './lib/results.js';
import { startBenchServer } from './lib/serverProcess.js';
import { flag, runScenario } from './lib/cli.js';

const subscribers = Math.min(2000, Math.max(1, Number(flag('subscribers', '400'))));
const seconds = Math.min(60, Math.max(3, Number(flag('seconds', '8'))));
const repeat = Math.min(9, Math.max(1, Number(flag('repeat', '3'))));
const profiles: SrtpProfile[] = ['sha1_80', 'gcm256'];

async function main(): Promise<void> {
  const server = await startBenchServer({ workers: 1, httpPort: 3480, rtcPort: 24900 });
  const runs: Record<string, { us: number[]; cpu: number[]; lat: number[] }> = {};
  try {
    for (let i = 0; i < repeat; i++) {
      for (const srtp of profiles) {
        process.stderr.write(`[cipher] ${srtp}, run ${i + 1}/${repeat}: ${subscribers} subscribers…\n`);
        const loadgen = await Loadgen.start({ srtp });
        try {
          const fleet = await openRoom(server, loadgen, `cipher-${srtp}-${i}`, 1, subscribers);
          const r = await measureWindow(server, loadgen, [fleet], seconds);
          await fleet.close();
          const slot = (runs[srtp] ??= { us: [], cpu: [], lat: [] });
          slot.us.push(r.workerUsPerPacket);
          slot.cpu.push(r.workerCpuPct[0]!);
          slot.lat.push(r.latency.p50 ?? NaN);
          process.stderr.write(`[cipher] ${srtp}: ${r.workerUsPerPacket.toFixed(2)} µs/pkt, loss ${r.lossPct.toFixed(2)} %\n`);
        } finally {
          await loadgen.stop();
        }
        await sleep(1000);
      }
    }
  } finally {
    await server.stop();
  }
  const rows = profiles.map((p) => ({ srtp: p, 'worker µs/pkt (median)': median(runs[p]!.us), 'worker CPU %': median(runs[p]!.cpu), 'latency p50 µs': median(runs[p]!.lat), runs: runs[p]!.us.map((v) => v.toFixed(2)).join(' ') }));
  table(rows);
  const ratio = median(runs.sha1_80!.us) / median(runs.gcm256!.us);
  process.stdout.write(`HMAC-SHA1-80 costs the worker ${ratio.toFixed(2)}x what AES-256-GCM does per delivered packet\n`);
  process.stdout.write(`saved ${save('cipher', { subscribers, seconds, repeat, runs, ratio })}\n`);
}

runScenario('cipher', 15, main);
