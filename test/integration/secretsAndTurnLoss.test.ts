import { afterEach, describe, expect, it } from 'vitest';
import { getJson, spawnServer, waitFor, type ServerProcess } from '../helpers/serverProcess.js';
import { opusRtpParameters } from '../helpers/rtpParameters.js';
import { WsClient } from '../helpers/wsClient.js';

const jwtSecret = 'jwt-secret-that-must-never-be-logged-0123';
const turnSecret = 'turn-secret-that-must-never-be-logged-42';
let server: ServerProcess | undefined;
afterEach(async () => {
  await server?.stop('SIGKILL');
  server = undefined;
});

describe('secrets and a lost TURN relay', () => {
  it('never logs or sends the secrets, reports coturn dying, and the class goes on', async () => {
    server = await spawnServer({
      SFU_WORKERS: '1',
      SFU_LOG_LEVEL: 'trace',
      SFU_WORKER_LOG_LEVEL: 'debug',
      SFU_JWT_SECRET: jwtSecret,
      SFU_DEV_TOKENS: 'true',
      SFU_TURN_SECRET: turnSecret,
      SFU_TURN_MANAGED: 'true',
    });
    const base = server.url;
    await waitFor(async () => (await getJson(`${base}/healthz`)).status === 200, 20_000, 'server up');
    const tokenRes = await fetch(`${base}/api/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ room: 'r', name: 'n', role: 'student' }) });
    const { token } = (await tokenRes.json()) as { token: string };
    const c = await WsClient.connect(`${server.wsUrl}?token=${token}`);
    const join = await c.ok<{ iceServers: { urls: string[]; username: string; credential: string }[] }>('join');
    expect(join.iceServers[0]!.urls[0]).toBe(`turn:127.0.0.1:${server.ports.turn}?transport=udp`);
    const send = await c.ok<{ id: string }>('createTransport', { direction: 'send' });
    await c.ok('produce', { transportId: send.id, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(5) });
    expect(await c.call('bogus', {})).toMatchObject({ ok: false });
    expect(JSON.stringify(join)).not.toContain(turnSecret);

    // coturn dies: the server says so, and the class goes on.
    const pid = Number(/"coturnPid":(\d+)/.exec(server.output())?.[1]);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGKILL');
    await waitFor(() => server!.output().includes('coturn exited; TURN relay unavailable'), 5000, 'coturn loss reported');
    expect((await c.call('getTransportStats', { transportId: send.id })).ok).toBe(true);
    expect((await getJson(`${base}/healthz`)).status).toBe(200);

    const out = server.output();
    expect(out.length).toBeGreaterThan(1000); // trace logging really was on
    expect(out).not.toContain(jwtSecret);
    expect(out).not.toContain(turnSecret);
    c.close();
  });
});
