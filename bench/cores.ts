/**
 * Scenario 5, cores: the most a server with 1 worker delivers at ≤ 1 % loss, against k workers
 * with one room on each (the registry places a new room on the least loaded worker; the rooms API
 * confirms where each went). Subscribers per room rise until loss passes 1 %; the ratio of each
 * worker count's best delivered rate to 1 worker's is its scaling. On a machine with barely as
 * many cores as workers, the generators and the server's Node process compete with the workers:
 * read the ratios with the core count (the table gives every process's CPU).
 *
 * Run: node bench/run.mjs cores [--workers 1,2] [--steps 100,200,400,600,800,1000,1200] [--seconds 8]
 *        [--generators room|one] [--from-best] [--batch 20] [--limit-min 25]
 *   --workers     worker counts to compare (1 is always measured first: the ratios are to it)
 *   --generators  room (default): each room has its own load generator process, so that one
 *                 generator's core does not cap several workers; one: a single generator for all
 *   --from-best   worker counts after 1 do not ramp from the bottom: they start at the step where
 *                 1 worker was last within 1 % loss and step down until they are (k workers
 *                 cannot carry more per room than 1 worker alone): 1–3 steps each instead of all
 *   --batch       subscribers joining at a time, per room
 *   --limit-min   the run gives up after this many minutes (results are saved after every step)
 * Loopback only; ports 3420 + i (HTTP, one per worker count) and 24200… (RTC).
 */
import { openRoom, sleep, type Fleet } from './lib/fleet.js';
import { addSubscribers, measureWindowAll, startGenerators, stopGenerators, type MultiWindowResult } from './lib/generators.js';
import type { Loadgen } from './lib/loadgen.js';
import { listRooms } from './lib/participants.js';
import { save, table } from './lib/results.js';
import { startBenchServer, type BenchServer } from './lib/serverProcess.js';
import { flag, runScenario } from './lib/cli.js';

const steps = [
  ...new Set(
    flag('steps', '100,200,400,600,800,1000,1200')
      .split(',')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n > 0 && n <= 3000),
  ),
].sort((a, b) => a - b);
const seconds = Math.min(60, Math.max(3, Number(flag('seconds', '8'))));
const workerCounts = [
  ...new Set([
    1,
    ...flag('workers', '1,2')
      .split(',')
      .map(Number)
      .filter((n) => Number.isInteger(n) && n >= 1 && n <= 64),
  ]),
].sort((a, b) => a - b);
const generatorMode = flag('generators', 'room') === 'one' ? 'one' : 'room';
const fromBest = process.argv.includes('--from-best');
const limitMin = Math.min(120, Math.max(1, Number(flag('limit-min', '25')) || 25));
const batch = Math.min(200, Math.max(1, Math.round(Number(flag('batch', '20')) || 20)));

type Row = MultiWindowResult & { workers: number; perRoom: number; placement: number[] };
interface Ramp {
  workers: number;
  generators: number;
  /** The steps tried, in order ('up': from the bottom; 'down': from 1 worker's best). */
  order: 'up' | 'down';
  rows: Row[];
  /** N per room at which the joins themselves failed (the workers past their limit), if any. */
  joinFailedAt?: number;
  /** Best delivered pkt/s at ≤ 1 % loss, and the N per room it was measured at. */
  best: number;
  bestPerRoom: number | null;
  /** A step beyond the best was tried and failed (loss or joins): the best is the capacity, not a floor. */
  saturated: boolean;
  /** best / 1 worker's best. */
  scaling: number | null;
}

async function workersOf(server: BenchServer, rooms: string[]): Promise<number[]> {
  const list = await listRooms(server);
  const spread = list.filter((x) => rooms.includes(x.id) && (x.routers?.length ?? 1) > 1);
  if (spread.length > 0) log(`rooms spread over several workers (not what this scenario measures): ${spread.map((x) => x.id).join(', ')}`);
  return rooms.map((r) => list.find((x) => x.id === r)?.worker ?? -1);
}

/** Opens one room per worker: publishers one room after the other (so that each room is placed
 * seeing the others), then every room's subscribers at the same time, each on its room's generator. */
async function openRooms(server: BenchServer, gens: Loadgen[], names: string[], n: number): Promise<Fleet[]> {
  const fleets: Fleet[] = [];
  const closeAll = async () => {
    for (const f of fleets) await f.close();
  };
  try {
    for (const [i, name] of names.entries()) fleets.push(await openRoom(server, gens[i % gens.length]!, name, 1, 0));
    const joined = await Promise.allSettled(names.map((name, i) => addSubscribers(server, gens[i % gens.length]!, fleets[i]!, name, n, batch)));
    const failed = joined.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    await closeAll();
    throw err;
  }
  return fleets;
}

function log(line: string): void {
  process.stderr.write(`[cores ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

async function ramp(workers: number, httpPort: number, plan: { order: 'up' | 'down'; steps: number[] }, onStep: (r: Ramp) => void): Promise<Ramp> {
  // A room of this scenario stays on its worker: spreading one room over several workers (when a
  // router carries many consumers) would blur what one worker per room delivers.
  const server = await startBenchServer({ workers, httpPort, rtcPort: 24200, env: { SFU_ROOM_ROUTER_MAX_CONSUMERS: '1000000' } });
  const gens = await startGenerators(generatorMode === 'room' ? workers : 1).catch(async (err: unknown) => {
    await server.stop();
    throw err;
  });
  const ramp: Ramp = { workers, generators: gens.length, order: plan.order, rows: [], best: 0, bestPerRoom: null, saturated: false, scaling: null };
  try {
    for (const n of plan.steps) {
      const t0 = performance.now();
      log(`${workers} worker(s), ${n} subscribers per room (${workers * n} in all, ${gens.length} generator(s)): joining…`);
      const names = Array.from({ length: workers }, (_, i) => `cores-${workers}w-${n}-r${i}`);
      let fleets: Fleet[];
      try {
        fleets = await openRooms(server, gens, names, n);
      } catch (err) {
        // Joins time out once the workers are past their limit.
        log(`${workers}w N=${n}: could not join everyone (${(err as Error).message}): saturated`);
        ramp.joinFailedAt = n;
        ramp.saturated = true;
        onStep(ramp);
        if (plan.order === 'up') break;
        await sleep(2000);
        continue;
      }
      const joinS = (performance.now() - t0) / 1000;
      const placement = await workersOf(server, names);
      if (new Set(placement).size !== workers) log(`${workers}w N=${n}: rooms are not one per worker (on workers ${placement.join(',')}): the ratio is not what it claims`);
      const r = await measureWindowAll(server, gens, fleets, seconds);
      await Promise.all(fleets.map((f) => f.close()));
      ramp.rows.push({ workers, perRoom: n, placement, ...r });
      const ok = r.lossPct <= 1;
      if (ok && r.deliveredPps > ramp.best) {
        ramp.best = r.deliveredPps;
        ramp.bestPerRoom = n;
      }
      if (!ok) ramp.saturated = true;
      onStep(ramp);
      log(
        `${workers}w N=${n}: ${Math.round(r.deliveredPps)} pkt/s, loss ${r.lossPct.toFixed(2)} %, workers ${r.workerCpuPct.map((c) => c.toFixed(0)).join('/')} %, ` +
          `server Node ${r.nodeCpuPct.toFixed(0)} %, generators ${r.generatorCpuPctEach.map((c) => c.toFixed(0)).join('/')} % (rooms on workers ${placement.join(',')}; joins took ${joinS.toFixed(1)} s)`,
      );
      if (Math.max(...r.generatorCpuPctEach) > 85) log(`${workers}w N=${n}: a generator is near a full core: it may be what limits this step`);
      if (plan.order === 'up' ? !ok : ok) break;
      await sleep(1000);
    }
  } finally {
    await stopGenerators(gens);
    await server.stop();
  }
  return ramp;
}

async function main(): Promise<void> {
  const ramps: Ramp[] = [];
  const started = new Date().toISOString();
  const result = (list: Ramp[], complete: boolean) => {
    const one = list.find((r) => r.workers === 1);
    for (const r of list) r.scaling = one && one.best > 0 ? r.best / one.best : null;
    const two = list.find((r) => r.workers === 2);
    return {
      seconds,
      started,
      workerCounts,
      generators: generatorMode,
      fromBest,
      batch,
      steps,
      complete,
      ramps: list,
      // The shape bench/report.ts has read since scenario 5 compared 1 and 2 workers only.
      oneWorker: one?.rows ?? [],
      twoWorkers: two?.rows ?? [],
      bestOne: one?.best ?? 0,
      bestTwo: two?.best ?? 0,
      scaling: one && two && one.best > 0 ? two.best / one.best : null,
    };
  };
  // Saved after every step: a run cut short by its deadline keeps what it measured.
  const checkpoint = (current: Ramp) => void save('cores', result([...ramps, current], false));
  for (const [i, workers] of workerCounts.entries()) {
    const one = ramps[0];
    const plan: { order: 'up' | 'down'; steps: number[] } =
      fromBest && workers > 1 && one?.bestPerRoom
        ? { order: 'down', steps: steps.filter((s) => s <= one.bestPerRoom!).reverse() }
        : { order: 'up', steps };
    ramps.push(await ramp(workers, 3420 + i, plan, checkpoint));
    save('cores', result(ramps, false));
  }
  const res = result(ramps, true);
  table(
    ramps.flatMap((rp) =>
      rp.rows.map((r) => ({
        workers: r.workers,
        'subs/room': r.perRoom,
        'delivered pkt/s': Math.round(r.deliveredPps),
        'loss %': r.lossPct,
        'worker CPU %': r.workerCpuPct.map((c) => c.toFixed(0)).join('/'),
        'worker µs/pkt': r.workerUsPerPacket,
        'node CPU %': r.nodeCpuPct,
        'generator CPU %': r.generatorCpuPctEach.map((c) => c.toFixed(0)).join('/'),
      })),
    ),
  );
  const one = ramps[0]!;
  for (const r of ramps) {
    const note = r.saturated ? '' : ' (never past 1 % loss: a floor, add higher --steps)';
    process.stdout.write(
      `best at ≤ 1 % loss, ${r.workers} worker(s): ${Math.round(r.best)} pkt/s at ${r.bestPerRoom ?? '–'} subscribers per room${note}` +
        (r.workers > 1 ? `: scaling ${r.scaling === null ? '–' : r.scaling.toFixed(2)}x (ideal ${r.workers}x)` : '') +
        '\n',
    );
  }
  if (!one.saturated) process.stdout.write('1 worker was never past 1 % loss: the ratios are not the scaling; rerun with higher --steps\n');
  process.stdout.write(`saved ${save('cores', res)}\n`);
}

runScenario('cores', limitMin, main);
