/**
 * Smoke run of the load generator against the real server (in this process, one worker):
 * one publisher (audio + 3-layer VP8 simulcast) and 3 subscribers, 10 s of traffic. Prints each
 * subscriber's received packets per second against what it should get (50 audio + the forwarded
 * video layer's rate), the audio forwarding latency, the worker's and the generator's CPU. Exits
 * 0 when every subscriber got more than 90 % of it. Loopback only; HTTP port 3400, RTC port 24000.
 *
 * Run: node bench/run.mjs smoke [subscribers=3] [seconds=10]   (bundles into bench/.build/)
 * The generator's SRTP profile: gcm256 (as Chromium), or LOADGEN_SRTP=gcm128|sha1_80 in the environment.
 */
import path from 'node:path';
import pino from 'pino';
import { startServer, type RunningServer } from '../server/app.js';
import { loadConfig } from '../server/config/load.js';
import { Loadgen, type LoadgenStats } from './lib/loadgen.js';
import { privatePorts } from './lib/serverProcess.js';
import { audioRate, signToken, startPublisher, startSubscriber, type Publisher, type Subscriber } from './lib/participants.js';

const httpPort = 3400;
const rtcPort = 24000;
const secret = 'bench-smoke-secret-0123456789-abcdefghij';
const room = 'bench-smoke';
const warmupMs = 3000;
/** Optional arguments, bounded: the room holds 100 peers by default, and the run must end. */
const arg = (i: number, def: number, max: number) => Math.min(max, Math.max(1, Number(process.argv[i] ?? def) || def));
const subscriberCount = arg(2, 3, 90);
const measureMs = arg(3, 10, 120) * 1000;

const out = (line: string) => process.stdout.write(line + '\n');

async function main(): Promise<number> {
  const config = loadConfig({
    SFU_HTTP_HOST: '127.0.0.1',
    SFU_HTTP_PORT: String(httpPort),
    SFU_RTC_LISTEN_IP: '127.0.0.1',
    SFU_RTC_BASE_PORT: String(rtcPort),
    ...privatePorts(rtcPort),
    SFU_WORKERS: '1',
    SFU_JWT_SECRET: secret,
    SFU_DEV_TOKENS: 'false',
    SFU_LOG_LEVEL: 'warn',
    SFU_WORKER_LOG_LEVEL: 'warn',
  });
  const logger = pino({ level: 'warn' });
  let server: RunningServer | undefined;
  let loadgen: Loadgen | undefined;
  const people: (Publisher | Subscriber)[] = [];
  try {
    server = await startServer(config, logger, path.resolve('dist', 'client')); // the demo page: unused here
    loadgen = await Loadgen.start();
    out(`generator fingerprint ${loadgen.fingerprint}, SRTP profile ${loadgen.srtpProfile}`);
    const wsUrl = `ws://127.0.0.1:${httpPort}/ws`;
    const token = (name: string, role: 'teacher' | 'student') => signToken(secret, { room, sub: name, name, role }, 600);

    const pub = await startPublisher({ wsUrl, token: await token('pub', 'teacher'), loadgen, name: 'pub' });
    people.push(pub);
    const subs: Subscriber[] = [];
    for (let i = 0; i < subscriberCount; i++) {
      const s = await startSubscriber({ wsUrl, token: await token(`sub${i}`, 'student'), loadgen, name: `sub${i}` });
      subs.push(s);
      people.push(s);
    }
    out(`publisher and ${subscriberCount} subscribers connected (ICE + DTLS); warming up ${warmupMs} ms`);
    await sleep(warmupMs);

    const worker = server.pool.workers[0]!.worker;
    const cpu = async () => {
      const u = await worker.getResourceUsage();
      return u.ru_utime + u.ru_stime; // ms
    };
    loadgen.resetLatency(); // the latency window is the measurement window
    const [s0, w0] = [await loadgen.stats(), await cpu()];
    await sleep(measureMs);
    const [s1, w1] = [await loadgen.stats(), await cpu()];
    const secs = (s1.t - s0.t) / 1000;

    const session = (s: LoadgenStats, id: string) => s.sessions.find((x) => x.id === id)!;
    const p0 = session(s0, pub.sessionId);
    const p1 = session(s1, pub.sessionId);
    out(
      `publisher: sent ${((p1.sent - p0.sent) / secs).toFixed(1)} pkt/s ` +
        `(${(((p1.sentBytes - p0.sentBytes) * 8) / secs / 1000).toFixed(0)} kbit/s), ` +
        `RTCP received ${p1.rtcpRecv} (PLI ${p1.pliRecv}, FIR ${p1.firRecv}), key frames sent ${p1.keyFrames}`,
    );
    let ok = true;
    for (const sub of subs) {
      const a = session(s0, sub.sessionId);
      const b = session(s1, sub.sessionId);
      const perSsrc = (ssrc: number) => ((b.ssrcs.find((x) => x[0] === ssrc)?.[1] ?? 0) - (a.ssrcs.find((x) => x[0] === ssrc)?.[1] ?? 0)) / secs;
      const consumers = [...sub.consumers.values()];
      const audio = consumers.filter((c) => c.kind === 'audio').reduce((n, c) => n + perSsrc(c.ssrc), 0);
      const video = consumers.filter((c) => c.kind === 'video').reduce((n, c) => n + perSsrc(c.ssrc), 0);
      const layer = consumers.find((c) => c.kind === 'video')?.spatialLayer ?? null;
      const expectedVideo = layer === null ? 0 : (pub.layers[layer]?.rate ?? 0);
      const expected = audioRate + expectedVideo;
      const total = (b.recv - a.recv) / secs;
      const good = total > 0.9 * expected && audio > 0.9 * audioRate && video > 0.9 * expectedVideo && layer !== null;
      ok &&= good;
      out(
        `${sub.sessionId}: ${total.toFixed(1)} pkt/s (audio ${audio.toFixed(1)}, video ${video.toFixed(1)} on spatial layer ${layer}), ` +
          `expected ${expected}: ${((100 * total) / expected).toFixed(1)} % ${good ? 'ok' : 'TOO LOW'}; RTCP ${((b.rtcpRecv - a.rtcpRecv) / secs).toFixed(1)}/s`,
      );
    }
    const lat = s1.latency;
    out(
      `audio forwarding latency (generator send -> kernel receive, via the SFU): p50 ${lat.p50} µs, p90 ${lat.p90} µs, ` +
        `p99 ${lat.p99} µs, max ${lat.max} µs over ${lat.count} packets (${lat.miss} unmatched)`,
    );
    out(`worker CPU: ${((100 * (w1 - w0)) / (secs * 1000)).toFixed(2)} % of one core (getResourceUsage, ${secs.toFixed(1)} s)`);
    out(`generator CPU: ${((100 * (s1.cpuMs - s0.cpuMs)) / (secs * 1000)).toFixed(2)} % of one core`);
    out(ok ? 'smoke: ok' : 'smoke: FAILED (a subscriber received 90 % or less of what it should)');
    return ok ? 0 : 1;
  } finally {
    for (const p of people) await p.close().catch(() => undefined);
    await loadgen?.stop();
    await server?.close();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Bounded: whatever happens, the run ends.
const limitMs = 60_000 + measureMs + 500 * subscriberCount;
const deadline = setTimeout(() => {
  console.error(`smoke: still running after ${limitMs / 1000} s, giving up`);
  process.exit(2);
}, limitMs);
main().then(
  (code) => {
    clearTimeout(deadline);
    process.exitCode = code;
  },
  (err: unknown) => {
    clearTimeout(deadline);
    console.error('smoke: failed:', err);
    process.exitCode = 1;
  },
);
