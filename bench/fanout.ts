/**
 * Scenario 1, fan-out: one publisher (audio + 3-layer simulcast video) to N subscribers, N rising
 * until more than 1 % of what should arrive does not. Per N: packets delivered per second, loss,
 * worker CPU per delivered packet, the server's Node CPU, the generator's CPU.
 *
 * Each step is measured `repeat` times in a fresh room; the table gives the medians.
 *
 * Run: node bench/run.mjs fanout [--steps 10,50,100,200,400,600,800,1000,1200,1600] [--seconds 10] [--repeat 3]
 * (needs dist/: `node scripts/build.mjs`). Loopback only; ports 3410 (HTTP) and 24100 (RTC).
 */
import { measureWindow, medianWindow, openRoom, sleep, type WindowResult } from './lib/fleet.js';
import { Loadgen } from './lib/loadgen.js';
import { save, table } from './lib/results.js';
import { startBenchServer } from './lib/serverProcess.js';
import { flag, runScenario } from './lib/cli.js';

const steps = flag('steps', '10,50,100,200,400,600,800,1000,1200,1600')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0 && n <= 3000);
const seconds = Math.min(60, Math.max(3, Number(flag('seconds', '10'))));
const repeat = Math.min(9, Math.max(1, Number(flag('repeat', '3'))));
const warmupMs = 3000;

async function main(): Promise<void> {
  const server = await startBenchServer({ workers: 1, httpPort: 3410, rtcPort: 24100 });
  const loadgen = await Loadgen.start();
  const rows: Record<string, string | number>[] = [];
  const results = [];
  try {
    ramp: for (const n of steps) {
      const runs: WindowResult[] = [];
      for (let i = 0; i < repeat; i++) {
        process.stderr.write(`[fanout] N=${n}, run ${i + 1}/${repeat}: joining…\n`);
        let fleet;
        try {
          fleet = await openRoom(server, loadgen, `fanout-${n}-${i}`, 1, n);
        } catch (err) {
          // A worker past its limit answers its control channel late: joins time out. That is the
          // end of the ramp, not of the run.
          process.stderr.write(`[fanout] N=${n}: could not join everyone (${(err as Error).message}): the worker is saturated\n`);
          results.push({ subscribers: n, joinFailed: (err as Error).message });
          break ramp;
        }
        runs.push(await measureWindow(server, loadgen, [fleet], seconds, warmupMs));
        await fleet.close();
        await sleep(1000); // the previous room's transports close
      }
      const r = medianWindow(runs);
      results.push({ subscribers: n, ...r, each: runs.map((x) => ({ deliveredPps: x.deliveredPps, lossPct: x.lossPct, workerUsPerPacket: x.workerUsPerPacket, latencyP99: x.latency.p99 })) });
      rows.push({
        N: n,
        'delivered pkt/s': Math.round(r.deliveredPps),
        'loss %': r.lossPct,
        'worker CPU %': r.workerCpuPct[0]!,
        'worker µs/pkt': r.workerUsPerPacket,
        'worker kernel %': r.workerKernelPct,
        'node CPU %': r.nodeCpuPct,
        'generator CPU %': r.generatorCpuPct,
        'latency p50 µs': r.latency.p50 ?? NaN,
        'latency p99 µs': r.latency.p99 ?? NaN,
      });
      process.stderr.write(`[fanout] N=${n}: ${Math.round(r.deliveredPps)} pkt/s delivered, loss ${r.lossPct.toFixed(2)} %, worker ${r.workerCpuPct[0]!.toFixed(0)} %\n`);
      save('fanout', { seconds, repeat, results }); // after every step: a later failure keeps what was measured
      if (r.lossPct > 1) break;
    }
  } finally {
    await loadgen.stop();
    await server.stop();
  }
  table(rows);
  process.stdout.write(`saved ${save('fanout', { seconds, repeat, results })}\n`);
}

runScenario('fanout', 40, main);
