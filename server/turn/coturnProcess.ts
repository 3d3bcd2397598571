import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logging/logger.js';
import { renderCoturnConfig } from './coturnConfig.js';

export interface Coturn {
  readonly pid: number;
  readonly configFile: string;
  stop(): Promise<void>;
}

/**
 * Runs Debian's coturn with the configuration rendered from ours (for development, tests, and
 * `npm start` with SFU_TURN_MANAGED=true). Resolves once coturn accepts TCP on its port.
 * Its log lines go into our logs; the secret stays in a 0600 file in a private directory.
 */
export async function startCoturn(config: Config, logger: Logger, bin = 'turnserver'): Promise<Coturn> {
  const log = logger.child({ component: 'coturn' });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-coturn-'));
  const configFile = path.join(dir, 'turnserver.conf');
  fs.writeFileSync(configFile, renderCoturnConfig(config, { pidFile: path.join(dir, 'turnserver.pid') }), { mode: 0o600 });
  const child: ChildProcess = spawn(bin, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  let tail = '';
  const onLine = (d: Buffer) => {
    for (const line of d.toString().split('\n')) {
      if (!line.trim()) continue;
      tail = `${tail}\n${line}`.slice(-2000);
      log.debug(line.trim());
    }
  };
  child.stdout!.on('data', onLine);
  child.stderr!.on('data', onLine);

  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  const ready = waitForTcp(config.turn.listenIp, config.turn.port, 10_000);
  const outcome = await Promise.race([
    ready.then(() => 'ready' as const),
    exited.then((code) => new Error(`coturn exited with code ${code} during start-up:${tail}`)),
    spawnError.then((err) => new Error(`cannot run ${bin} (${err.message}): install Debian's coturn (scripts/setup.sh does)`)),
  ]);
  if (outcome !== 'ready') {
    child.kill('SIGKILL');
    cleanup();
    throw outcome instanceof Error ? outcome : new Error('coturn did not start');
  }
  log.info({ coturnPid: child.pid, port: config.turn.port, tlsPort: config.turn.tlsPort }, 'coturn started');
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) log.error({ code, signal }, 'coturn exited; TURN relay unavailable until it is restarted');
  });
  return {
    pid: child.pid!,
    configFile,
    async stop() {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      cleanup();
      log.info('coturn stopped');
    },
  };
}

async function waitForTcp(host: string, port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`coturn did not listen on ${host}:${port} within ${timeoutMs} ms`);
}
