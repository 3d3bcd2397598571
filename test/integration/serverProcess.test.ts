import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenService } from '../../server/auth/tokens.js';
import { getJson, spawnServer, waitFor, type ServerProcess } from '../helpers/serverProcess.js';
import { WsClient } from '../helpers/wsClient.js';

interface Health {
  status: string;
  workers: { index: number; pid: number; port: number; alive: boolean }[];
}

let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

const env = { SFU_WORKERS: '2' };

describe('server process', () => {
  it('serves /healthz 200 with every worker, survives a worker SIGKILL, and exits 0 on SIGTERM', async () => {
    server = await spawnServer(env);
    const { rtcBase } = server.ports;
    const first = await waitFor(async () => {
      const r = await getJson(`${server!.url}/healthz`);
      return r.status === 200 ? (r.body as Health) : undefined;
    }, 20_000, '/healthz 200');
    expect(first.status).toBe('ok');
    expect(first.workers.map((w) => [w.index, w.port, w.alive])).toEqual([
      [0, rtcBase, true],
      [1, rtcBase + 1, true],
    ]);

    // Kill one worker's process: the pool replaces it on the same port and /healthz reports it.
    const victim = first.workers[1]!;
    process.kill(victim.pid, 'SIGKILL');
    const healed = await waitFor(async () => {
      const r = await getJson(`${server!.url}/healthz`);
      const body = r.body as Health;
      return r.status === 200 && body.workers[1]!.pid !== victim.pid ? body : undefined;
    }, 10_000, 'a replacement worker in /healthz');
    expect(healed.workers[1]).toMatchObject({ index: 1, port: rtcBase + 1, alive: true });
    expect(healed.workers[0]!.pid).toBe(first.workers[0]!.pid);
    expect(server.output()).toContain('mediasoup worker died; starting a replacement');

    const t0 = Date.now();
    const exit = await server.stop('SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(server.output()).toContain('shutdown complete');
    // Every worker process is gone with it.
    for (const w of healed.workers) expect(() => process.kill(w.pid, 0)).toThrow();
  });

  it('logs structured JSON lines when stdout is not a terminal', async () => {
    server = await spawnServer({ ...env, SFU_WORKERS: '1' });
    await waitFor(() => server!.output().includes('server listening'), 20_000, 'start-up');
    const line = server.output().split('\n').find((l) => l.includes('server listening'))!;
    const parsed = JSON.parse(line) as Record<string, unknown>;
    expect(parsed).toMatchObject({ level: 30, msg: 'server listening', url: `http://127.0.0.1:${server.ports.http}`, workers: 1 });
  });

  it.each([
    [{ SFU_HTTP_PORT: 'eighty' }, 'SFU_HTTP_PORT="eighty": expected an integer from 1 to 65535'],
    [{ SFU_WORKERS: '-2' }, 'SFU_WORKERS="-2": expected an integer from 1 to 256'],
    [{ SFU_LOG_LEVEL: 'verbose' }, 'SFU_LOG_LEVEL="verbose": expected trace, debug'],
    [{ SFU_RTC_LISTEN_IP: '300.1.1.1' }, 'SFU_RTC_LISTEN_IP="300.1.1.1": expected an IPv4 or IPv6 address'],
    [{ SFU_TLS_CERT: '/missing.pem', SFU_TLS_KEY: '/missing.key' }, 'SFU_TLS_CERT="/missing.pem": file not found'],
  ])('exits 1 on a bad environment value %o, naming it', async (bad, message) => {
    server = await spawnServer({ ...env, ...bad });
    const exit = await server.exited;
    expect(exit.code).toBe(1);
    expect(server.output()).toContain(message);
    expect(server.output()).toContain('See README.md');
  });

  it('exits 1 with a clear message when the HTTP port is taken', async () => {
    server = await spawnServer({ ...env, SFU_WORKERS: '1' });
    await waitFor(async () => (await getJson(`${server!.url}/healthz`)).status === 200, 20_000, 'first server');
    // The same HTTP port; every other port its own.
    const second = await spawnServer({ ...env, SFU_WORKERS: '1', SFU_HTTP_PORT: String(server.ports.http) });
    const exit = await second.exited;
    expect(exit.code).toBe(1);
    expect(second.output()).toContain(`cannot listen on 127.0.0.1:${server.ports.http}`);
  });

  it('refuses to start beyond loopback without a token secret, naming it and the way out', async () => {
    server = await spawnServer({ ...env, SFU_WORKERS: '1', SFU_HTTP_HOST: '0.0.0.0' });
    const exit = await server.exited;
    expect(exit.code).toBe(1);
    expect(server.output()).toContain('SFU_JWT_SECRET=(hidden): required when SFU_HTTP_HOST (0.0.0.0) is not a loopback address');
    expect(server.output()).toContain('SFU_DEV_TOKENS=true');
  });

  it('takes 2,000 WebSocket upgrades reset while their token is checked without an uncaught exception', async () => {
    const secret = 'upgrade-reset-secret-0123456789abcdef';
    server = await spawnServer({ ...env, SFU_WORKERS: '1', SFU_JWT_SECRET: secret });
    await waitFor(async () => (await getJson(`${server!.url}/healthz`)).status === 200, 20_000, 'server up');
    const token = await new TokenService(secret).sign({ room: 'resets', sub: 'u', name: 'u', role: 'student' }, 600);
    const request = `GET /ws?token=${token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    // The whole request, then a TCP reset a moment later, while the server checks the token (a reset
    // that arrives with the request makes the kernel drop the request unread: the delays vary).
    const resetOne = (i: number) =>
      new Promise<void>((resolve) => {
        const s = net.connect({ host: '127.0.0.1', port: server!.ports.http }, () => {
          s.write(request, () => {
            setTimeout(() => {
              s.resetAndDestroy();
              resolve();
            }, i % 4);
          });
        });
        s.on('error', () => resolve());
      });
    for (let i = 0; i < 2000; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => resetOne(i + j)));
    await new Promise((r) => setTimeout(r, 500));
    expect(server.child.exitCode).toBeNull();
    // The process survives an uncaught exception (it logs it), but nothing here may throw one.
    expect(server.output()).not.toContain('uncaught exception');
    expect((await getJson(`${server.url}/healthz`)).status).toBe(200);
    const c = await WsClient.connect(`${server.wsUrl}?token=${token}`);
    expect(await c.call('join')).toMatchObject({ ok: true });
    c.close();
  });
});
