import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerFor, peerKitFor, produceSimulcast } from '../helpers/peers.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { WsClient } from '../helpers/wsClient.js';

// Loopback only, bounded: 1,000 sockets that connect and never join.
let server: TestServer;
let port: number;
beforeAll(async () => {
  server = await startTestServer({
    // Long enough that all 1,000 sockets are open at once even on a loaded 2-core machine (opening
    // them took over 1.5 s there, and the first were already closed when they were counted).
    SFU_JOIN_TIMEOUT_MS: '6000',
    SFU_HTTP_HEADERS_TIMEOUT_MS: '1000',
    SFU_RATE_LIMIT_PER_SEC: '50',
    SFU_RATE_LIMIT_BURST: '100',
    // All from 127.0.0.1: the per-address limit is tested in peerLimits.test.ts.
    SFU_MAX_CONNECTIONS_PER_IP: '0',
  });
  port = server.ports.http;
});
afterAll(async () => server?.close());

describe('floods', () => {
  it('closes 1,000 sockets that never join after the join timeout, while a real peer is served', async () => {
    const token = await server.tokens.sign({ room: 'flood', sub: 'idle', name: 'idle', role: 'student' }, 600);
    const url = `${server.wsUrl}?token=${token}`;
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

  it('drops slow, half-sent upgrade requests after the header timeout instead of piling them up', async () => {
    const stalled = await Promise.all(
      Array.from({ length: 200 }, () =>
        new Promise<net.Socket>((resolve, reject) => {
          const s = net.connect({ host: '127.0.0.1', port }, () => {
            // Headers never finished: no blank line ever comes.
            s.write('GET /ws?token=x HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n');
            s.resume(); // read what the server answers (its 408), so that its close reaches us
            resolve(s);
          });
          s.once('error', reject);
        }),
      ),
    );
    const closedAll = Promise.all(stalled.map((s) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())))));
    for (const s of stalled) s.on('error', () => undefined);
    // Meanwhile a real client gets through.
    const token = await server.tokens.sign({ room: 'slow', sub: 'u', name: 'u', role: 'student' }, 600);
    const peer = await WsClient.connect(`${server.wsUrl}?token=${token}`);
    await peer.ok('join');
    const t0 = Date.now();
    await closedAll;
    expect(Date.now() - t0).toBeLessThan(5000);
    const open = await new Promise<number>((resolve) => server.http.getConnections((_e, n) => resolve(n)));
    expect(open).toBeLessThanOrEqual(1);
    peer.close();
  });

  it('rate limits a socket sending 1,000 requests per second while another peer stays fast', async () => {
    const sign = (u: string) => server.tokens.sign({ room: 'busy', sub: u, name: u, role: 'student' }, 600);
    const flooder = await WsClient.connect(`${server.wsUrl}?token=${await sign('flooder')}`);
    const calm = await WsClient.connect(`${server.wsUrl}?token=${await sign('calm')}`);
    await flooder.ok('join');
    await calm.ok('join');
    const calmSend = await calm.ok<{ id: string }>('createTransport', { direction: 'send' });
    const pending: Promise<{ ok: boolean; error?: { code: string } }>[] = [];
    const latencies: number[] = [];
    // 2 s at 1,000 requests/s: 20 every 20 ms. The calm peer asks something every 100 ms.
    for (let tick = 0; tick < 100; tick++) {
      for (let j = 0; j < 20; j++) pending.push(flooder.call('join'));
      if (tick % 5 === 0) {
        const t = performance.now();
        void calm.call('getTransportStats', { transportId: calmSend.id }).then((r) => r.ok && latencies.push(performance.now() - t));
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const replies = await Promise.all(pending);
    await waitFor(() => latencies.length === 20, 5000, 'calm replies');
    const limited = replies.filter((r) => r.error?.code === 'rate_limited').length;
    expect(limited).toBeGreaterThan(1500); // 2,000 sent; 50/s + 100 burst allowed
    latencies.sort((a, b) => a - b);
    expect(latencies[10]!).toBeLessThan(100); // median
    flooder.close();
    calm.close();
  });

  it('counts every frame against the rate limit: invalid envelopes and unasked-for answers too', async () => {
    const sign = (u: string) => server.tokens.sign({ room: 'frames', sub: u, name: u, role: 'student' }, 600);
    // Invalid envelopes that carry an id were each answered bad_request, for free.
    const garbage = await WsClient.connect(`${server.wsUrl}?token=${await sign('garbage')}`);
    await garbage.ok('join');
    const answered: Promise<unknown>[] = [];
    for (let id = 1000; id < 1500; id++) answered.push(garbage.client.callWithId(id, { id, bogus: true }, { timeoutMs: 1500 }).catch(() => 'no answer'));
    // Right behind them on the same socket, a real request finds the allowance spent.
    expect((await garbage.call('getTransportStats', { transportId: 'x' })).error?.code).toBe('rate_limited');
    const results = await Promise.all(answered);
    const badRequests = results.filter((r) => (r as { error?: { code: string } }).error?.code === 'bad_request').length;
    expect(badRequests).toBeLessThanOrEqual(110); // the burst of 100, and 50/s for a moment
    // Answers to requests the server never sent were free too.
    const answers = await WsClient.connect(`${server.wsUrl}?token=${await sign('answers')}`);
    await answers.ok('join');
    for (let id = 5000; id < 5500; id++) answers.sendRaw({ id, ok: true, data: {} });
    expect((await answers.call('getTransportStats', { transportId: 'x' })).error?.code).toBe('rate_limited');
    garbage.close();
    answers.close();
  });

  it("rate limits a student flipping its view 1,000 times a second: the publisher hears a bounded few layersWanted, and the view it sends next holds", async () => {
    const kit = peerKitFor(() => server);
    try {
      const pub = await kit.joinFully('flip', 'pub');
      const viewer = await kit.joinFully('flip', 'flipper');
      const cam = await produceSimulcast(pub);
      const consumerId = await consumerFor(viewer, cam.producerId);
      const consumer = () => server.rooms.get('flip')!.peers.get(viewer.peerId)!.consumers.get(consumerId)!;
      await waitFor(() => consumer()?.appData.acked === true, 5000, 'the consumer confirmed');
      const wanted = () => pub.c.notifications.filter((n) => n.method === 'layersWanted').length;
      const before = wanted();
      // 2 s: 20 views every 20 ms, the camera shown small and hidden in turn. Each view accepted
      // pauses or resumes a consumer in the worker and moves what the publisher is asked to send.
      const pending: Promise<{ ok: boolean; error?: { code: string } }>[] = [];
      const shown = { videos: [{ consumerId, width: 160, height: 90 }], audioOnly: false };
      const hidden = { videos: [], audioOnly: false };
      for (let tick = 0; tick < 100; tick++) {
        for (let j = 0; j < 20; j++) pending.push(viewer.c.call('setView', j % 2 ? shown : hidden));
        await new Promise((r) => setTimeout(r, 20));
      }
      const replies = await Promise.all(pending);
      expect(replies.filter((r) => r.error?.code === 'rate_limited').length).toBeGreaterThan(1700); // 2,000 sent; 50/s + 100 burst
      expect(replies.every((r) => r.ok || r.error?.code === 'rate_limited')).toBe(true);
      // Dynacast tells the publisher at most once per 200 ms window: ~12 in the flood's 2.4 s.
      await new Promise((r) => setTimeout(r, 600));
      expect(wanted() - before).toBeLessThanOrEqual(15);
      // Once its allowance is back, the view it sends holds: shown at 640 px, the middle layer.
      await new Promise((r) => setTimeout(r, 1500));
      expect((await viewer.c.call('setView', { videos: [{ consumerId, width: 640, height: 360 }], audioOnly: false })).ok).toBe(true);
      await waitFor(() => !consumer().paused && consumer().preferredLayers?.spatialLayer === 1, 3000, 'the last view applied');
      expect((await consumer().dump()).paused).toBe(false);
    } finally {
      kit.closeAll();
    }
  });
});
