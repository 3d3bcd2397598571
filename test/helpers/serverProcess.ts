import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { withServerPorts, type ServerPorts } from './ports.js';
import { testDefaults } from './testDefaults.js';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');
export const serverEntry = path.join(repoRoot, 'dist', 'server', 'main.js');

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** The signaling URL, ws://host:port/ws. */
  wsUrl: string;
  /** Every port it was given (allocated, unless the test set one): pass them again to restart it in place. */
  ports: ServerPorts;
  output: () => string;
  /** Resolves with the exit code (or signal) once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node dist/server/main.js` (the built server, as `npm start` runs it) with extra env; its
 * ports come from the allocator (test/helpers/ports.ts) unless `env` sets them.
 */
export async function spawnServer(env: Record<string, string>): Promise<ServerProcess> {
  const { env: full, ports } = await withServerPorts(env, os.availableParallelism());
  let out = '';
  const child = spawn(process.execPath, [serverEntry], {
    cwd: repoRoot,
    env: { ...process.env, SFU_LOG_LEVEL: 'info', ...testDefaults, ...full },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = `http://${full.SFU_HTTP_HOST ?? '127.0.0.1'}:${full.SFU_HTTP_PORT}`;
  return {
    child,
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/ws`,
    ports,
    output: () => out,
    exited,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function waitFor<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
}

export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json() };
}
