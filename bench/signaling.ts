/**
 * Scenario 4, signaling: K peers joined and idle (no media) with the server's heartbeats running,
 * in rooms of 50 (a class, not one 5,000-peer room: every join is announced to the whole room);
 * the server's RSS and CPU while idle; join throughput (joins answered per second with many in
 * flight) and join latency p50 / p99 at a sustained rate.
 *
 * Each K is measured `--repeat` times, each on a fresh server; the table gives each field's median.
 *
 * Run: node bench/run.mjs signaling [--peers 1000,5000] [--rate 200] [--idle 20] [--repeat 3]
 * Loopback only; port 3430. The server runs in its own process (RSS and CPU are its own).
 */
import WebSocket from 'ws';
import { signToken } from './lib/participants.js';
import { percentile, save, table } from './lib/results.js';
import { cpuMs, rssMiB, startBenchServer, type BenchServer } from './lib/serverProcess.js';
import { flag, runScenario } from './lib/cli.js';

const counts = flag('peers', '1000,5000').split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0 && n <= 10_000);
const rate = Math.min(2000, Math.max(1, Number(flag('rate', '200'))));
const idleSec = Math.min(120, Math.max(5, Number(flag('idle', '20'))));
const repeat = Math.min(9, Math.max(1, Number(flag('repeat', '3'))));
const roomSize = 50;

interface Joined {
  ws: WebSocket;
  /** ms from starting the connection to the join answer, and of the join request alone. */
  totalMs: number;
  joinMs: number;
}

/**
 * Opens a socket and joins; resolves once the join is answered. A bare `ws`, not the protocol
 * client: a measuring instrument, it must not add client-side parsing to the latencies it times.
 */
function joinOne(server: BenchServer, token: string): Promise<Joined> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.wsUrl}?token=${token}`);
    let t1 = 0;
    const timer = setTimeout(() => reject(new Error('join timed out after 30 s')), 30_000);
    ws.once('error', reject);
    ws.once('open', () => {
      t1 = performance.now();
      ws.send('{"id":1,"method":"join","data":{}}');
    });
    const onMessage = (raw: WebSocket.RawData) => {
      const text = raw.toString();
      if (!text.startsWith('{"id":1,')) return; // notifications: not what we wait for
      clearTimeout(timer);
      ws.off('message', onMessage);
      if (!text.startsWith('{"id":1,"ok":true')) reject(new Error(`join refused: ${text.slice(0, 200)}`));
      else resolve({ ws, totalMs: performance.now() - t0, joinMs: performance.now() - t1 });
    };
    ws.on('message', onMessage);
  });
}

async function tokens(server: BenchServer, n: number, tag: string): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => signToken(server.secret, { room: `sig-${tag}-${Math.floor(i / roomSize)}`, sub: `u${i}`, name: `u${i}`, role: 'student' }, 3600)));
}

/** Joins n peers at `perSec`, each started on schedule whatever the others do. */
async function joinAtRate(server: BenchServer, toks: string[], perSec: number): Promise<Joined[]> {
  const start = performance.now();
  return Promise.all(
    toks.map(async (t, i) => {
      const due = start + (i * 1000) / perSec;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      return joinOne(server, t);
    }),
  );
}

/** As fast as the server answers, `inFlight` at a time: joins per second. */
async function joinFlat(server: BenchServer, toks: string[], inFlight: number): Promise<{ joined: Joined[]; perSec: number }> {
  const joined: Joined[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < toks.length) joined.push(await joinOne(server, toks[next++]!));
    }),
  );
  return { joined, perSec: (joined.length * 1000) / (performance.now() - start) };
}

async function measureOnce(k: number, run: number) {
  const server = await startBenchServer({ workers: 1, httpPort: 3430, rtcPort: 24300 });
  const sockets: WebSocket[] = [];
  try {
    const rssBefore = rssMiB(server.pid);
    process.stderr.write(`[signaling] K=${k} (run ${run + 1}/${repeat}): joining at ${rate}/s…\n`);
    const paced = await joinAtRate(server, await tokens(server, k, `paced${k}-${run}`), rate);
    sockets.push(...paced.map((j) => j.ws));
    process.stderr.write(`[signaling] K=${k}: all joined; idle ${idleSec} s…\n`);
    const c0 = cpuMs(server.pid);
    await new Promise((r) => setTimeout(r, idleSec * 1000));
    const idleCpuPct = (100 * (cpuMs(server.pid) - c0)) / (idleSec * 1000);
    const rss = rssMiB(server.pid);
    // Throughput: 500 more joins, 100 in flight, on top of the K idle peers.
    const flat = await joinFlat(server, await tokens(server, 500, `flat${k}-${run}`), 100);
    sockets.push(...flat.joined.map((j) => j.ws));
    const join = paced.map((j) => j.joinMs);
    const total = paced.map((j) => j.totalMs);
    return {
      peers: k,
      rate,
      rssMiB: rss,
      rssBeforeMiB: rssBefore,
      idleCpuPct,
      joinP50Ms: percentile(join, 50),
      joinP99Ms: percentile(join, 99),
      connectAndJoinP50Ms: percentile(total, 50),
      connectAndJoinP99Ms: percentile(total, 99),
      joinsPerSec: flat.perSec,
    };
  } finally {
    for (const s of sockets) s.terminate();
    await server.stop();
  }
}

async function main(): Promise<void> {
  const results = [];
  for (const k of counts) {
    const runs: Awaited<ReturnType<typeof measureOnce>>[] = [];
    for (let run = 0; run < repeat; run++) runs.push(await measureOnce(k, run));
    // Field by field, the median run (the machine is noisy).
    const median = (get: (r: (typeof runs)[number]) => number) => percentile(runs.map(get), 50);
    results.push({
      peers: k,
      rate,
      rssMiB: median((r) => r.rssMiB),
      rssBeforeMiB: median((r) => r.rssBeforeMiB),
      idleCpuPct: median((r) => r.idleCpuPct),
      joinP50Ms: median((r) => r.joinP50Ms),
      joinP99Ms: median((r) => r.joinP99Ms),
      connectAndJoinP50Ms: median((r) => r.connectAndJoinP50Ms),
      connectAndJoinP99Ms: median((r) => r.connectAndJoinP99Ms),
      joinsPerSec: median((r) => r.joinsPerSec),
      runs,
    });
  }
  table(
    results.map((r) => ({
      peers: r.peers,
      'RSS MiB': r.rssMiB,
      'idle CPU %': r.idleCpuPct,
      [`join p50 ms @${rate}/s`]: r.joinP50Ms,
      'join p99 ms': r.joinP99Ms,
      'connect+join p99 ms': r.connectAndJoinP99Ms,
      'joins/s (100 in flight)': r.joinsPerSec,
    })),
  );
  process.stdout.write(`saved ${save('signaling', { roomSize, idleSec, repeat, results })}\n`);
}

runScenario('signaling', 30, main);
