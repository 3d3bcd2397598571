import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer } from '../helpers/testServer.js';
import { WsClient } from '../helpers/wsClient.js';

// Loopback only, bounded: 1,000 sockets that connect and never join.
const port = 3390;
let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer({ SFU_HTTP_PORT: String(port), SFU_RTC_BASE_PORT: '42400', SFU_JOIN_TIMEOUT_MS: '1500' });
});
afterAll(async () => server?.close());

describe('floods', () => {
  it('closes 1,000 sockets that never join after the join timeout, while a real peer is served', async () => {
    const token = await server.tokens.sign({ room: 'flood', sub: 'idle', name: 'idle', role: 'student' }, 600);
    const url = `ws://127.0.0.1:${port}/ws?token=${token}`;
    const idle: WsClient[] = [];
    for (let i = 0; i < 1000; i += 100) idle.push(...(await Promise.all(Array.from({ length: 100 }, () => WsClient.connect(url)))));
    expect(server.signaling.connections.size).toBe(1000);
    // Meanwhile a real participant joins and is answered promptly.
    const peer = await WsClient.connect(url);
    const t0 = performance.now();
    await peer.ok('join');
    expect(performance.now() - t0).toBeLessThan(2000);
    const codes = await Promise.all(idle.map((c) => c.closed.then((x) => x.code)));
    expect(new Set(codes)).toEqual(new Set([4002]));
    await waitFor(() => server.signaling.connections.size === 1, 5000, 'only the joined socket left');
    expect(peer.ws.readyState).toBe(peer.ws.OPEN);
    peer.close();
  });
});
