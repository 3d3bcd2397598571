import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

export interface RedisServer {
  port: number;
  url: string;
  /** Stops it (SIGKILL by default: a crash) and waits for the process to be gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port (empty: no persistence), after a stop. */
  start(): Promise<void>;
  output(): string;
  /** Stops it for good and removes its folder. */
  dispose(): Promise<void>;
}

/**
 * A real redis-server (Debian's) on 127.0.0.1:`port` (default: one from the port allocator), with nothing persisted (`--save ""
 * --appendonly no`) in a temporary folder removed by dispose(). Restartable on the same port, to
 * test nodes living through a Redis restart.
 */
export async function startRedis(requested?: number): Promise<RedisServer> {
  const port = requested ?? (await freePort());
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sfu-redis-'));
  let child: ChildProcess | undefined;
  let out = '';
  const start = async (): Promise<void> => {
    const c = spawn('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'notice'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server on ${port} did not start:\n${out.slice(-2000)}`)), 10_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      c.stdout!.on('data', onData);
      c.stderr!.on('data', onData);
      c.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${out.slice(-2000)}`));
      });
    });
  };
  const stop = async (signal: NodeJS.Signals = 'SIGKILL'): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill(signal);
    await gone;
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    async stop(signal) {
      await stop(signal);
    },
    output: () => out,
    async dispose() {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
