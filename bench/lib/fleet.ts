/**
 * Rooms of synthetic participants for the scenarios, and what one measurement window saw: packets
 * delivered against what should have been, and the CPU time each process spent.
 */
import type { LatencyStats, Loadgen, LoadgenStats } from './loadgen.js';
import { audioRate, signToken, startMember, startPublisher, startSubscriber, type Publisher, type Subscriber } from './participants.js';
import { cpuMs, cpuSplitMs, type BenchServer } from './serverProcess.js';

export interface Fleet {
  publishers: Publisher[];
  subscribers: Subscriber[];
  close(): Promise<void>;
}

/** Opens a room with `publishers` and `subscribers`, joining `batch` at a time. */
export async function openRoom(server: BenchServer, loadgen: Loadgen, room: string, publishers: number, subscribers: number, batch = 20): Promise<Fleet> {
  const token = (name: string, role: 'teacher' | 'student') => signToken(server.secret, { room, sub: name, name, role }, 3600);
  const fleet: Fleet = {
    publishers: [],
    subscribers: [],
    async close() {
      const all = [...this.publishers, ...this.subscribers];
      for (let i = 0; i < all.length; i += 50) await Promise.all(all.slice(i, i + 50).map((p) => p.close().catch(() => undefined)));
    },
  };
  try {
    for (let i = 0; i < publishers; i++) {
      // Teachers: no room policy mutes their microphone.
      fleet.publishers.push(await startPublisher({ wsUrl: server.wsUrl, token: await token(`${room}-p${i}`, 'teacher'), loadgen, name: `${room}-p${i}` }));
    }
    for (let i = 0; i < subscribers; i += batch) {
      const names = Array.from({ length: Math.min(batch, subscribers - i) }, (_, j) => `${room}-s${i + j}`);
      const joined = await Promise.all(names.map(async (name) => startSubscriber({ wsUrl: server.wsUrl, token: await token(name, 'student'), loadgen, name })));
      fleet.subscribers.push(...joined);
    }
  } catch (err) {
    await fleet.close();
    throw err;
  }
  return fleet;
}

/** A meeting: `members` peers, each publishing and receiving all the others. */
export async function openMeeting(server: BenchServer, loadgen: Loadgen, room: string, members: number): Promise<Fleet> {
  const fleet: Fleet = {
    publishers: [],
    subscribers: [],
    async close() {
      for (const p of [...this.publishers, ...this.subscribers]) await p.close().catch(() => undefined);
    },
  };
  try {
    for (let i = 0; i < members; i++) {
      const name = `${room}-m${i}`;
      const m = await startMember({ wsUrl: server.wsUrl, token: await signToken(server.secret, { room, sub: name, name, role: 'teacher' }, 3600), loadgen, name });
      fleet.publishers.push(m.publisher);
      fleet.subscribers.push(m.subscriber);
    }
  } catch (err) {
    await fleet.close();
    throw err;
  }
  return fleet;
}

/** Starts a measurement window: the latency histogram restarts here. */
export async function windowStart(server: BenchServer, loadgen: Loadgen): Promise<Sample> {
  loadgen.resetLatency();
  return sample(server, loadgen);
}

export interface Sample {
  stats: LoadgenStats;
  workerMs: number[];
  /** Of workerMs, the time spent in the kernel (system calls: sending and receiving). */
  workerSysMs: number[];
  nodeMs: number;
  at: number;
}

/** The server's and its workers' CPU times now. */
export function serverCpu(server: BenchServer): Pick<Sample, 'workerMs' | 'workerSysMs' | 'nodeMs'> {
  const split = server.workerPids.map(cpuSplitMs);
  return { workerMs: split.map((c) => c.user + c.sys), workerSysMs: split.map((c) => c.sys), nodeMs: cpuMs(server.pid) };
}

export async function sample(server: BenchServer, loadgen: Loadgen): Promise<Sample> {
  return { stats: await loadgen.stats(), ...serverCpu(server), at: performance.now() };
}

export interface WindowResult {
  seconds: number;
  /** RTP packets per second that reached the subscribers. */
  deliveredPps: number;
  /** What they should have received: audio, plus the rate of the video layer each one is sent (nothing of a paused producer). */
  expectedPps: number;
  lossPct: number;
  /** The publishers' RTP packets per second into the SFU. */
  ingressPps: number;
  /** Share of one core, per worker, and of the server's Node process; the generator's own. */
  workerCpuPct: number[];
  nodeCpuPct: number;
  generatorCpuPct: number;
  /** Worker CPU time (all workers) per delivered packet, µs. */
  workerUsPerPacket: number;
  /** Share of the workers' CPU time spent in the kernel, %. */
  workerKernelPct: number;
  generatorUsPerPacket: number;
  /** Audio forwarding latency over the window (see bench/loadgen/loadgen.c), µs. */
  latency: LatencyStats;
}

/** A warm-up (joins settle, layers ramp), then one measurement window of `seconds`. */
export async function measureWindow(server: BenchServer, loadgen: Loadgen, fleets: Fleet[], seconds: number, warmupMs = 3000): Promise<WindowResult> {
  await sleep(warmupMs);
  const a = await windowStart(server, loadgen);
  await sleep(seconds * 1000);
  const b = await sample(server, loadgen);
  return measure(a, b, fleets);
}

/** Compares two samples: counts are taken from the generator, CPU from /proc. */
export function measure(a: Sample, b: Sample, fleets: Fleet[]): WindowResult {
  // The generator's own clock: the counts come from it.
  const seconds = (b.stats.t - a.stats.t) / 1000;
  const session = (s: Sample, id: string) => s.stats.sessions.find((x) => x.id === id);
  let delivered = 0;
  let expected = 0;
  let ingress = 0;
  for (const fleet of fleets) {
    const layerRate = (layer: number | null) => (layer === null ? 0 : (fleet.publishers[0]?.layers[layer]?.rate ?? 0));
    for (const sub of fleet.subscribers) {
      const x = session(a, sub.sessionId);
      const y = session(b, sub.sessionId);
      if (!x || !y) continue;
      delivered += y.recv - x.recv; // RTP only: RTCP is counted apart
      for (const c of sub.consumers.values()) {
        // A paused producer (a muted microphone) is forwarded to nobody.
        if (!c.producerPaused) expected += (c.kind === 'audio' ? audioRate : layerRate(c.spatialLayer)) * seconds;
      }
    }
    for (const pub of fleet.publishers) {
      const x = session(a, pub.sessionId);
      const y = session(b, pub.sessionId);
      if (x && y) ingress += y.sent - x.sent;
    }
  }
  const workerCpuPct = b.workerMs.map((ms, i) => (100 * (ms - a.workerMs[i]!)) / (seconds * 1000));
  const workerMs = b.workerMs.reduce((s, ms, i) => s + ms - a.workerMs[i]!, 0);
  const workerSysMs = b.workerSysMs.reduce((s, ms, i) => s + ms - a.workerSysMs[i]!, 0);
  const genMs = b.stats.cpuMs - a.stats.cpuMs;
  return {
    seconds,
    deliveredPps: delivered / seconds,
    expectedPps: expected / seconds,
    lossPct: expected > 0 ? Math.max(0, 100 * (1 - delivered / expected)) : 0,
    ingressPps: ingress / seconds,
    workerCpuPct,
    nodeCpuPct: (100 * (b.nodeMs - a.nodeMs)) / (seconds * 1000),
    generatorCpuPct: (100 * genMs) / (seconds * 1000),
    workerUsPerPacket: delivered > 0 ? (workerMs * 1000) / delivered : NaN,
    workerKernelPct: workerMs > 0 ? (100 * workerSysMs) / workerMs : NaN,
    generatorUsPerPacket: delivered > 0 ? (genMs * 1000) / (delivered + ingress) : NaN,
    latency: b.stats.latency,
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const mid = (v: number[]) => {
  const s = v.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
};

/** Field by field, the median of repeated windows of the same step (the machine is noisy). */
export function medianWindow(runs: WindowResult[]): WindowResult & { runs: number } {
  const f = (get: (r: WindowResult) => number) => mid(runs.map(get));
  const lat = (get: (l: LatencyStats) => number | null) => mid(runs.map((r) => get(r.latency) ?? NaN));
  return {
    runs: runs.length,
    seconds: f((r) => r.seconds),
    deliveredPps: f((r) => r.deliveredPps),
    expectedPps: f((r) => r.expectedPps),
    lossPct: f((r) => r.lossPct),
    ingressPps: f((r) => r.ingressPps),
    workerCpuPct: runs[0]!.workerCpuPct.map((_, i) => f((r) => r.workerCpuPct[i]!)),
    nodeCpuPct: f((r) => r.nodeCpuPct),
    generatorCpuPct: f((r) => r.generatorCpuPct),
    workerUsPerPacket: f((r) => r.workerUsPerPacket),
    workerKernelPct: f((r) => r.workerKernelPct),
    generatorUsPerPacket: f((r) => r.generatorUsPerPacket),
    latency: { count: f((r) => r.latency.count), p50: lat((l) => l.p50), p90: lat((l) => l.p90), p99: lat((l) => l.p99), max: lat((l) => l.max), miss: f((r) => r.latency.miss) },
  };
}
