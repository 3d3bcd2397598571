/**
 * Scenario 2, meeting: M participants, each publishing audio + 3-layer simulcast video and
 * receiving everyone else (one peer, a send and a receive transport, as a browser). Per M: packets
 * delivered per second, loss, worker CPU per delivered packet, Node CPU, forwarding latency.
 *
 * Each size is measured `repeat` times in a fresh room; the table gives the medians.
 *
 * Run: node bench/run.mjs meeting [--members 4,8,16,24] [--seconds 10] [--repeat 3]
 * Loopback only; ports 3450 (HTTP) and 24500 (RTC).
 */
import { measureWindow, medianWindow, openMeeting, sleep, type WindowResult } from './lib/fleet.js';
import { Loadgen } from './lib/loadgen.js';
import { save, table } from './lib/results.js';
import { startBenchServer } from './lib/serverProcess.js';
import { flag, runScenario } from './lib/cli.js';

const sizes = flag('members', '4,8,16,24').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 1 && n <= 100);
const seconds = Math.min(60, Math.max(3, Number(flag('seconds', '10'))));
const repeat = Math.min(9, Math.max(1, Number(flag('repeat', '3'))));

async function main(): Promise<void> {
  const server = await startBenchServer({ workers: 1, httpPort: 3450, rtcPort: 24500 });
  const loadgen = await Loadgen.start();
  const results = [];
  try {
    for (const m of sizes) {
      const runs: WindowResult[] = [];
      for (let i = 0; i < repeat; i++) {
        process.stderr.write(`[meeting] M=${m}, run ${i + 1}/${repeat}: joining…\n`);
        const fleet = await openMeeting(server, loadgen, `meeting-${m}-${i}`, m);
        runs.push(await measureWindow(server, loadgen, [fleet], seconds));
        await fleet.close();
        await sleep(1000);
      }
      const r = medianWindow(runs);
      results.push({ members: m, ...r });
      process.stderr.write(`[meeting] M=${m}: ${Math.round(r.deliveredPps)} pkt/s delivered, loss ${r.lossPct.toFixed(2)} %, worker ${r.workerCpuPct[0]!.toFixed(0)} % (medians)\n`);
      save('meeting', { seconds, repeat, results }); // after every size: a later failure keeps what was measured
    }
  } finally {
    await loadgen.stop();
    await server.stop();
  }
  table(
    results.map((r) => ({
      M: r.members,
      'in pkt/s': Math.round(r.ingressPps),
      'delivered pkt/s': Math.round(r.deliveredPps),
      'loss %': r.lossPct,
      'worker CPU %': r.workerCpuPct[0]!,
      'worker µs/pkt': r.workerUsPerPacket,
      'node CPU %': r.nodeCpuPct,
      'latency p50 µs': r.latency.p50 ?? NaN,
      'latency p99 µs': r.latency.p99 ?? NaN,
    })),
  );
  process.stdout.write(`saved ${save('meeting', { seconds, repeat, results })}\n`);
}

runScenario('meeting', 30, main);
