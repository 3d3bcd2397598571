/**
 * The SFU as a deployment runs it: `node dist/server/main.js` in its own process, so that its
 * CPU and memory are measured apart from the benchmark's own (signaling clients, the generator's
 * wrapper). CPU times come from /proc (clock ticks of 10 ms: windows of seconds are fine).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface BenchServer {
  httpUrl: string;
  wsUrl: string;
  pid: number;
  workerPids: number[];
  secret: string;
  stop(): Promise<void>;
}

export interface BenchServerOptions {
  workers: number;
  httpPort: number;
  rtcPort: number;
  env?: Record<string, string>;
}

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const secret = 'bench-secret-0123456789-abcdefghijklmnop';

/**
 * The pipe and recording ports, next to the RTC ports and below Linux's ephemeral range (their
 * defaults lie in it, where the load generator's thousands of sockets take their ports).
 */
export function privatePorts(rtcPort: number): Record<string, string> {
  return {
    SFU_RTC_INTERNAL_MIN_PORT: String(rtcPort + 50),
    SFU_RTC_INTERNAL_MAX_PORT: String(rtcPort + 89),
    SFU_RECORDING_MIN_PORT: String(rtcPort + 90),
    SFU_RECORDING_MAX_PORT: String(rtcPort + 99),
  };
}

export async function startBenchServer(opts: BenchServerOptions): Promise<BenchServer> {
  const main = path.join(repoRoot, 'dist', 'server', 'main.js');
  if (!fs.existsSync(main)) throw new Error(`${main} is missing: run \`node scripts/build.mjs\` (npm test and npm start do)`);
  const child: ChildProcess = spawn(process.execPath, [main], {
    cwd: repoRoot,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      SFU_HTTP_HOST: '127.0.0.1',
      SFU_HTTP_PORT: String(opts.httpPort),
      SFU_RTC_LISTEN_IP: '127.0.0.1',
      SFU_RTC_BASE_PORT: String(opts.rtcPort),
      ...privatePorts(opts.rtcPort),
      SFU_WORKERS: String(opts.workers),
      SFU_JWT_SECRET: secret,
      SFU_DEV_TOKENS: 'false',
      SFU_LOG_LEVEL: 'warn',
      // A benchmark room holds far more peers than a class, and its clients request fast.
      SFU_ROOM_MAX_PEERS: '10000',
      SFU_ROOM_MAX_PUBLISHERS: '10000',
      // The load generator never says what it shows (setView), so the server's fallback choice
      // applies to it: at the largest cap every participant still receives every video (up to
      // 100 of them) and every student may send a camera, as the scenarios measured before
      // receive-what-is-shown. A scenario measuring the cap sets its own in `env`.
      SFU_ROOM_MAX_VIDEOS_PER_STUDENT: '100',
      SFU_ROOM_MAX_STUDENT_CAMERAS: '1000',
      // Every synthetic participant comes from 127.0.0.1, thousands of them.
      SFU_MAX_PEERS: '1000000',
      SFU_MAX_CONNECTIONS_PER_IP: '0',
      SFU_RATE_LIMIT_PER_SEC: '100000',
      SFU_RATE_LIMIT_BURST: '100000',
      SFU_JOIN_TIMEOUT_MS: '60000',
      // A benchmark measures the worker up to its limit: no refusing joins at high CPU.
      SFU_WORKER_MAX_CPU: '1',
      // The browser-join scenario opens the demo page with ?autojoin=1.
      SFU_DEMO_AUTOJOIN: 'true',
      ...opts.env,
    },
  });
  // A scenario that gives up (its deadline calls process.exit) must not leave the server running.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const httpUrl = `http://127.0.0.1:${opts.httpPort}`;
  const deadline = Date.now() + 30_000;
  let workerPids: number[] = [];
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${httpUrl}/healthz`);
      if (res.ok) {
        workerPids = ((await res.json()) as { workers: { pid: number }[] }).workers.map((w) => w.pid);
        break;
      }
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  if (workerPids.length !== opts.workers) {
    child.kill('SIGKILL');
    throw new Error(`server not healthy within 30 s: ${stderr}`);
  }
  return {
    httpUrl,
    wsUrl: `ws://127.0.0.1:${opts.httpPort}/ws`,
    pid: child.pid!,
    workerPids,
    secret,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** CPU time a process has used in user space and in the kernel (system calls), in ms. */
export function cpuSplitMs(pid: number): { user: number; sys: number } {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) * 10, sys: Number(fields[12]) * 10 }; // utime, stime in 100 Hz ticks
}

/** CPU time (user + system) a process has used, in ms. */
export function cpuMs(pid: number): number {
  const { user, sys } = cpuSplitMs(pid);
  return user + sys;
}

/** Resident memory of a process, in MiB. */
export function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}
