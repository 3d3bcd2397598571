/**
 * Scenario 5, cores: the most a server with 1 worker delivers at ≤ 1 % loss, against 2 workers
 * with one room on each (the registry places a new room on the least loaded worker; the rooms API
 * confirms where each went). Subscribers per room rise until loss passes 1 %; the ratio of the
 * best delivered rates is the scaling. On a machine with as many cores as workers, the generator
 * and the server's Node process compete with the workers: read the ratio with the core count.
 *
 * Run: node bench/run.mjs cores [--steps 100,200,400,600,800,1000,1200] [--seconds 8]
 * Loopback only; ports 3420/3421 (HTTP) and 24200 (RTC).
 */
import { type Fleet, measureWindow, openRoom, sleep } from './lib/fleet.js';
import { Loadgen } from './lib/loadgen.js';
import { signToken } from './lib/participants.js';
import { save, table } from './lib/results.js';
import { startBenchServer, type BenchServer } from './lib/serverProcess.js';
import { flag, runScenario } from './lib/cli.js';

const steps = flag('steps', '100,200,400,600,800,1000,1200')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0 && n <= 3000);
const seconds = Math.min(60, Math.max(3, Number(flag('seconds', '8'))));

async function workersOf(server: BenchServer, rooms: string[]): Promise<number[]> {
  const token = await signToken(server.secret, { room: 'any', sub: 'bench-admin', name: 'bench', role: 'admin' }, 600);
  const res = await fetch(`${server.httpUrl}/api/rooms`, { headers: { authorization: `Bearer ${token}` } });
  const list = ((await res.json()) as { rooms: { id: string; worker: number }[] }).rooms;
  return rooms.map((r) => list.find((x) => x.id === r)?.worker ?? -1);
}

async function ramp(workers: number, httpPort: number) {
  const server = await startBenchServer({ workers, httpPort, rtcPort: 24200 });
  const loadgen = await Loadgen.start();
  const rows = [];
  try {
    for (const n of steps) {
      process.stderr.write(`[cores] ${workers} worker(s), ${n} subscribers per room: joining…\n`);
      const fleets: Fleet[] = [];
      const names = Array.from({ length: workers }, (_, i) => `cores-${workers}w-${n}-r${i}`);
      try {
        for (const name of names) fleets.push(await openRoom(server, loadgen, name, 1, n));
      } catch (err) {
        // Joins time out once the workers are past their limit: the end of this ramp.
        process.stderr.write(`[cores] ${workers}w N=${n}: could not join everyone (${(err as Error).message}): saturated\n`);
        for (const f of fleets) await f.close();
        break;
      }
      const placement = await workersOf(server, names);
      const r = await measureWindow(server, loadgen, fleets, seconds);
      for (const f of fleets) await f.close();
      rows.push({ workers, perRoom: n, placement, ...r });
      process.stderr.write(`[cores] ${workers}w N=${n}: ${Math.round(r.deliveredPps)} pkt/s, loss ${r.lossPct.toFixed(2)} %, workers ${r.workerCpuPct.map((c) => c.toFixed(0)).join('/')} % (rooms on workers ${placement.join(',')})\n`);
      if (r.lossPct > 1) break;
      await sleep(1000);
    }
  } finally {
    await loadgen.stop();
    await server.stop();
  }
  return rows;
}

async function main(): Promise<void> {
  const one = await ramp(1, 3420);
  const two = await ramp(2, 3421);
  const best = (rows: { lossPct: number; deliveredPps: number }[]) => Math.max(0, ...rows.filter((r) => r.lossPct <= 1).map((r) => r.deliveredPps));
  const b1 = best(one);
  const b2 = best(two);
  table([...one, ...two].map((r) => ({ workers: r.workers, 'subs/room': r.perRoom, 'delivered pkt/s': Math.round(r.deliveredPps), 'loss %': r.lossPct, 'worker CPU %': r.workerCpuPct.map((c) => c.toFixed(0)).join('/'), 'worker µs/pkt': r.workerUsPerPacket, 'generator CPU %': r.generatorCpuPct })));
  process.stdout.write(`best at ≤ 1 % loss: 1 worker ${Math.round(b1)} pkt/s, 2 workers ${Math.round(b2)} pkt/s: scaling ${(b2 / b1).toFixed(2)}x\n`);
  process.stdout.write(`saved ${save('cores', { seconds, oneWorker: one, twoWorkers: two, bestOne: b1, bestTwo: b2, scaling: b2 / b1 })}\n`);
}

runScenario('cores', 25, main);
