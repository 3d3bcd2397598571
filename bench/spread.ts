/**
 * One big class over several workers (issue #10): one publisher (audio + 3-layer simulcast) to N
 * subscribers in ONE room, served by 1 worker, then by W workers with the room spread over them
 * (SFU_ROOM_ROUTER_MAX_CONSUMERS set so that the subscribers split evenly; the publisher's
 * producers are piped to every router). N rises until loss passes 1 %; the ratio of the best
 * delivered rates is what spreading a room buys. Unlike `cores` (one room per worker), this pays
 * for the pipes and for one publisher feeding several workers.
 *
 * The subscribers are shared out over one load generator per worker in use (a generator is one
 * core, and one would cap two workers on a fast machine).
 *
 * Run: node bench/run.mjs spread [--workers 2] [--steps 200,400,600,800,1000,1200] [--seconds 8]
 * Loopback only; ports 3490 (HTTP) and 24300 (RTC).
 */
import { openRoom, sleep } from './lib/fleet.js';
import { addSubscribers, measureWindowAll, startGenerators, stopGenerators } from './lib/generators.js';
import { listRooms } from './lib/participants.js';
import { save, table } from './lib/results.js';
import { startBenchServer, type BenchServer } from './lib/serverProcess.js';
import { flag, runScenario } from './lib/cli.js';

const spreadOver = Math.min(64, Math.max(2, Number(flag('workers', '2'))));
const steps = flag('steps', '200,400,600,800,1000,1200')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0 && n <= 5000);
const seconds = Math.min(60, Math.max(3, Number(flag('seconds', '8'))));

async function routersOf(server: BenchServer, room: string) {
  return (await listRooms(server)).find((r) => r.id === room)?.routers ?? [];
}

async function ramp(workers: number, from = 0) {
  const rows = [];
  for (const n of steps.filter((x) => x >= from)) {
    // Each subscriber consumes 2 producers: a router takes N/workers subscribers before the next opens.
    const threshold = Math.max(1, Math.ceil((2 * n) / workers));
    const server = await startBenchServer({ workers, httpPort: 3490, rtcPort: 24300, env: { SFU_ROOM_ROUTER_MAX_CONSUMERS: String(threshold) } });
    const gens = await startGenerators(workers);
    try {
      process.stderr.write(`[spread] ${workers} worker(s), 1 -> ${n}: joining…\n`);
      const room = `spread-${workers}w-${n}`;
      const fleet = await openRoom(server, gens[0]!, room, 1, 0);
      try {
        for (const [g, gen] of gens.entries()) await addSubscribers(server, gen, fleet, room, Math.floor(n / gens.length) + (g < n % gens.length ? 1 : 0));
      } catch (err) {
        process.stderr.write(`[spread] ${workers}w N=${n}: could not join everyone (${(err as Error).message}): saturated\n`);
        await fleet.close();
        break;
      }
      const routers = await routersOf(server, room);
      const r = await measureWindowAll(server, gens, [fleet], seconds);
      await fleet.close();
      rows.push({ workers, subscribers: n, routers, ...r });
      process.stderr.write(
        `[spread] ${workers}w N=${n}: ${Math.round(r.deliveredPps)} pkt/s, loss ${r.lossPct.toFixed(2)} %, workers ${r.workerCpuPct.map((c) => c.toFixed(0)).join('/')} %, ` +
          `routers ${routers.map((x) => `w${x.worker}:${x.peers}`).join(' ')}, generators ${r.generatorCpuPctEach.map((c) => c.toFixed(0)).join('/')} %\n`,
      );
      if (r.lossPct > 1) break;
    } finally {
      await stopGenerators(gens);
      await server.stop();
    }
    await sleep(500);
  }
  return rows;
}

async function main(): Promise<void> {
  const one = await ramp(1);
  // Spread over more workers the room carries at least what one worker did: start there.
  const many = await ramp(spreadOver, Math.max(0, ...one.filter((r) => r.lossPct <= 1).map((r) => r.subscribers)));
  const best = (rows: { lossPct: number; deliveredPps: number }[]) => Math.max(0, ...rows.filter((r) => r.lossPct <= 1).map((r) => r.deliveredPps));
  const b1 = best(one);
  const bw = best(many);
  table(
    [...one, ...many].map((r) => ({
      workers: r.workers,
      subscribers: r.subscribers,
      'peers per router': r.routers.map((x) => x.peers).join('/'),
      'delivered pkt/s': Math.round(r.deliveredPps),
      'loss %': r.lossPct,
      'worker CPU %': r.workerCpuPct.map((c) => c.toFixed(0)).join('/'),
      'worker µs/pkt': r.workerUsPerPacket,
      'node CPU %': r.nodeCpuPct,
      'generator CPU %': r.generatorCpuPct,
    })),
  );
  process.stdout.write(`best at ≤ 1 % loss: 1 worker ${Math.round(b1)} pkt/s, one room over ${spreadOver} workers ${Math.round(bw)} pkt/s: ${(bw / b1).toFixed(2)}x\n`);
  process.stdout.write(`saved ${save('spread', { seconds, spreadOver, oneWorker: one, spread: many, bestOne: b1, bestSpread: bw, ratio: bw / b1 })}\n`);
}

runScenario('spread', 40, main);
