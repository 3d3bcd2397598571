import net from 'node:net';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.js';
import type { Config } from '../../server/config/schema.js';
import { startCoturn, type Coturn } from '../../server/turn/coturnProcess.js';
import { turnCredentials } from '../../server/turn/credentials.js';
import { testLogger } from '../helpers/logger.js';
import { withServerPorts } from '../helpers/ports.js';
import { startTestServer } from '../helpers/testServer.js';
import { tryRelay } from '../helpers/turnClient.js';

const secret = 'integration-turn-secret-42';

function portOpen(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: p }, () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

describe('coturn with the production configuration (real turnserver, real TURN client)', () => {
  let coturn: Coturn;
  let config: Config;
  let port: number;
  beforeAll(async () => {
    // As deployed: the SFU on a public address; coturn reachable here on loopback for the test.
    const { env, ports } = await withServerPorts(
      { SFU_TURN_SECRET: secret, SFU_RTC_LISTEN_IP: '0.0.0.0', SFU_ANNOUNCED_ADDRESS: '198.51.100.7' },
      os.availableParallelism(),
    );
    port = ports.turn;
    config = loadConfig(env);
    coturn = await startCoturn(config, testLogger);
  });
  afterAll(async () => coturn?.stop());

  it('relays to the SFU address but refuses private, loopback and link-local peers', async () => {
    // A user per try: each uclient run holds allocations, and the per-user quota is 12.
    const relay = (peer: string) => {
      const { username, credential } = turnCredentials(secret, `student-${peer}`, 600);
      return tryRelay({ port, username, password: credential, peer });
    };
    expect(await relay('198.51.100.7')).toBe('relayed');
    for (const peer of ['10.0.0.5', '172.20.1.1', '192.168.1.1', '127.0.0.1', '169.254.169.254', '100.64.0.1']) {
      expect(await relay(peer), peer).toBe('forbidden');
    }
  });

  it('refuses an allocation with a wrong secret or expired credentials', async () => {
    const wrong = turnCredentials('not-the-secret-at-all', 'student-1', 600);
    expect(await tryRelay({ port, username: wrong.username, password: wrong.credential, peer: '198.51.100.7' })).toBe('refused');
    const expired = turnCredentials(secret, 'student-1', -60);
    expect(await tryRelay({ port, username: expired.username, password: expired.credential, peer: '198.51.100.7' })).toBe('refused');
  });

  it('keeps the secret in a file only its owner can read', async () => {
    const fs = await import('node:fs');
    expect(fs.statSync(coturn.configFile).mode & 0o077).toBe(0);
  });
});

describe('coturn managed by the server', () => {
  it('starts with the server and stops with it', async () => {
    const server = await startTestServer({ SFU_TURN_SECRET: secret, SFU_TURN_MANAGED: 'true' });
    const port = server.ports.turn;
    expect(await portOpen(port)).toBe(true);
    await server.close();
    expect(await portOpen(port)).toBe(false);
  });
});
