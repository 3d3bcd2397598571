import { describe, expect, it } from 'vitest';
import { startTestServer } from '../helpers/testServer.js';
import { WsClient } from '../helpers/wsClient.js';

describe('graceful shutdown', () => {
  it('tells joined peers the server is going away (1001) and takes no new joins while closing', async () => {
    const server = await startTestServer();
    const token = await server.tokens.sign({ room: 'bye', sub: 'u', name: 'u', role: 'student' }, 600);
    const url = `${server.wsUrl}?token=${token}`;
    const peer = await WsClient.connect(url);
    await peer.ok('join');
    const closing = server.close();
    const late = WsClient.connect(url).then(
      async (c) => {
        // If the socket opened at all, it must not be able to join.
        const r = await c.call('join').catch((e: Error) => ({ ok: false, error: { code: e.message } }));
        return r.ok ? 'joined' : 'refused';
      },
      () => 'refused',
    );
    expect((await peer.closed).code).toBe(1001);
    expect(peer.notifications.some((n) => n.method === 'roomClosed')).toBe(true);
    expect(await late).toBe('refused');
    await closing;
    expect(server.rooms.size).toBe(0);
    expect(server.pool.workers.every((w) => w.worker.closed)).toBe(true);
  });
});
