/**
 * Several load generators at once: one C process is one epoll loop on one core, and on a machine
 * with many workers a single generator becomes the bottleneck before the workers do. These helpers
 * give each room its own generator and take one measurement window over all of them, with the
 * same arithmetic as fleet.ts (`measure`): the generators' stats are merged into one.
 */
import { measure, serverCpu, sleep, type Fleet, type Sample, type WindowResult } from './fleet.js';
import { Loadgen, type LatencyStats, type LoadgenStats, type LoadgenOptions } from './loadgen.js';
import { signToken, startSubscriber } from './participants.js';
import type { BenchServer } from './serverProcess.js';

/** Starts `count` generators (stopped again if one fails to start). */
export async function startGenerators(count: number, options: LoadgenOptions = {}): Promise<Loadgen[]> {
  const started = await Promise.allSettled(Array.from({ length: count }, () => Loadgen.start(options)));
  const ok = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stopGenerators(ok);
    throw failed.reason;
  }
  return ok;
}

export async function stopGenerators(gens: Loadgen[]): Promise<void> {
  await Promise.all(gens.map((g) => g.stop()));
}

/**
 * The generators' stats as one: sessions side by side, CPU and counts summed, the clock the
 * mean of theirs (asked at the same moment; CLOCK_MONOTONIC is one clock for all processes).
 * Latency cannot be merged from percentiles: count, miss and max are exact, p50/p90/p99 are the
 * worst generator's (each generator times its own room).
 */
export function mergeStats(list: LoadgenStats[]): LoadgenStats {
  if (list.length === 1) return list[0]!;
  const worst = (get: (l: LatencyStats) => number | null) => {
    const v = list.map((s) => get(s.latency)).filter((x): x is number => x !== null);
    return v.length === 0 ? null : Math.max(...v);
  };
  const total = { ...list[0]!.total };
  for (const s of list.slice(1)) {
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += s.total[k];
  }
  return {
    t: list.reduce((sum, s) => sum + s.t, 0) / list.length,
    cpuMs: list.reduce((sum, s) => sum + s.cpuMs, 0),
    sessions: list.flatMap((s) => s.sessions),
    total,
    latency: {
      count: list.reduce((sum, s) => sum + s.latency.count, 0),
      p50: worst((l) => l.p50),
      p90: worst((l) => l.p90),
      p99: worst((l) => l.p99),
      max: Math.max(...list.map((s) => s.latency.max)),
      miss: list.reduce((sum, s) => sum + s.latency.miss, 0),
    },
  };
}

export interface MultiSample {
  /** The generators' stats merged (mergeStats), with the workers' and server's CPU times. */
  sample: Sample;
  /** Each generator's own stats. */
  each: LoadgenStats[];
}

export async function sampleAll(server: BenchServer, gens: Loadgen[]): Promise<MultiSample> {
  const each = await Promise.all(gens.map((g) => g.stats()));
  return { sample: { stats: mergeStats(each), ...serverCpu(server), at: performance.now() }, each };
}

export interface MultiWindowResult extends WindowResult {
  /** Share of one core, per generator (generatorCpuPct is their sum). */
  generatorCpuPctEach: number[];
}

/**
 * One window over several generators. Packet rates are counted per generator, each over its own
 * clock (a generator that answers its stats late, e.g. descheduled for a moment, would otherwise
 * stretch everyone's window), then summed; CPU shares are over the generators' mean clock.
 */
export function measureAll(a: MultiSample, b: MultiSample, fleets: Fleet[]): MultiWindowResult {
  const merged = measure(a.sample, b.sample, fleets);
  // measure() counts only the sessions found in both samples: given one generator's stats, its own.
  const per = a.each.map((_, g) => measure({ ...a.sample, stats: a.each[g]! }, { ...b.sample, stats: b.each[g]! }, fleets));
  const sum = (get: (r: WindowResult) => number) => per.reduce((s, r) => s + get(r), 0);
  const delivered = sum((r) => r.deliveredPps);
  const expected = sum((r) => r.expectedPps);
  const deliveredCount = sum((r) => r.deliveredPps * r.seconds);
  const ingressCount = sum((r) => r.ingressPps * r.seconds);
  const workerMs = b.sample.workerMs.reduce((s, ms, i) => s + ms - a.sample.workerMs[i]!, 0);
  const genMs = b.sample.stats.cpuMs - a.sample.stats.cpuMs;
  return {
    ...merged,
    deliveredPps: delivered,
    expectedPps: expected,
    lossPct: expected > 0 ? Math.max(0, 100 * (1 - delivered / expected)) : 0,
    ingressPps: sum((r) => r.ingressPps),
    workerUsPerPacket: deliveredCount > 0 ? (workerMs * 1000) / deliveredCount : NaN,
    generatorUsPerPacket: deliveredCount > 0 ? (genMs * 1000) / (deliveredCount + ingressCount) : NaN,
    generatorCpuPctEach: b.each.map((s, g) => (100 * (s.cpuMs - a.each[g]!.cpuMs)) / (s.t - a.each[g]!.t)),
  };
}

/** measureWindow (fleet.ts) over several generators: a warm-up, then one window of `seconds`. */
export async function measureWindowAll(server: BenchServer, gens: Loadgen[], fleets: Fleet[], seconds: number, warmupMs = 3000): Promise<MultiWindowResult> {
  await sleep(warmupMs);
  for (const g of gens) g.resetLatency();
  const a = await sampleAll(server, gens);
  await sleep(seconds * 1000);
  const b = await sampleAll(server, gens);
  return measureAll(a, b, fleets);
}

/** Adds `count` subscribers to a room that exists (openRoom with 0 subscribers), `batch` joining at a time. */
export async function addSubscribers(server: BenchServer, loadgen: Loadgen, fleet: Fleet, room: string, count: number, batch = 20): Promise<void> {
  for (let i = 0; i < count; i += batch) {
    // Numbered after whoever is in the fleet already (several generators fill one room).
    const names = Array.from({ length: Math.min(batch, count - i) }, (_, j) => `${room}-s${fleet.subscribers.length + j}`);
    const joined = await Promise.allSettled(
      names.map(async (name) => startSubscriber({ wsUrl: server.wsUrl, token: await signToken(server.secret, { room, sub: name, name, role: 'student' }, 3600), loadgen, name })),
    );
    for (const r of joined) if (r.status === 'fulfilled') fleet.subscribers.push(r.value);
    const failed = joined.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
