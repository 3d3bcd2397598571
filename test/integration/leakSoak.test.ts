import fs from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opusRtpParameters } from '../helpers/rtpParameters.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { WsClient } from '../helpers/wsClient.js';

// 500 cycles of join, publish, subscribe, leave against one long-lived peer; then nothing of
// the cycled peers may remain, and memory growth must stay under the bounds stated below.
// The figures are printed (and recorded in BENCHMARKS.md).
const cycles = 500;
const heapBoundMb = 10;
const workerRssBoundMb = 30;
let server: TestServer;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const heapMb = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};
const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

beforeAll(async () => {
  server = await startTestServer({ SFU_RATE_LIMIT_PER_SEC: '100000', SFU_RATE_LIMIT_BURST: '100000' });
});
afterAll(async () => server?.close());

async function joinAndPublish(user: string, ssrc: number) {
  const token = await server.tokens.sign({ room: 'soak', sub: user, name: user, role: 'student' }, 600);
  // Not the peer kit: it keeps every client, which would count in the heap measured here.
  const c = await WsClient.connect(`${server.wsUrl}?token=${token}`);
  const join = await c.ok<{ peerId: string; routerRtpCapabilities: unknown }>('join');
  await c.ok('setRtpCapabilities', { rtpCapabilities: join.routerRtpCapabilities });
  const send = await c.ok<{ id: string }>('createTransport', { direction: 'send' });
  await c.ok<{ id: string }>('createTransport', { direction: 'recv' });
  const { producerId } = await c.ok<{ producerId: string }>('produce', { transportId: send.id, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(ssrc) });
  return { c, peerId: join.peerId, producerId };
}

describe('leak soak', () => {
  it(`${cycles} join / publish / subscribe / leave cycles leave nothing behind`, async () => {
    const host = await joinAndPublish('host', 1);
    const room = server.rooms.get('soak')!;
    const worker = room.host.worker;
    // Warm up (JIT, pools), then take the baseline.
    for (let i = 0; i < 20; i++) {
      const p = await joinAndPublish(`warm-${i}`, 1000 + i);
      await p.c.ok('leave');
      p.c.close();
    }
    await waitFor(() => room.peers.get(host.peerId)!.consumers.size === 0, 5000, 'warm-up consumers gone');
    // The test's own host client keeps every message it is sent (each cycle adds a newConsumer
    // request and a few notifications, ~5.6 KB): drop them so that the heap figure is the server's.
    const forgetHostMessages = () => {
      host.c.notifications.length = 0;
      host.c.serverRequests.length = 0;
    };
    forgetHostMessages();
    const heap0 = heapMb();
    const rss0 = rssMb(worker.pid);
    const t0 = performance.now();
    for (let i = 0; i < cycles; i++) {
      const p = await joinAndPublish(`cycler-${i}`, 10_000 + i);
      // Subscribed: the cycler is offered the host's producer, the host the cycler's.
      await waitFor(() => p.c.serverRequests.some((r) => r.method === 'newConsumer'), 5000, 'newConsumer');
      await p.c.ok('leave');
      p.c.close();
    }
    const seconds = (performance.now() - t0) / 1000;
    await waitFor(() => room.peers.get(host.peerId)!.consumers.size === 0 && server.signaling.connections.size === 1, 10_000, 'cycled peers gone');

    const dump = await room.router.dump();
    const hostPeer = room.peers.get(host.peerId)!;
    expect([...room.peers.keys()]).toEqual([host.peerId]);
    expect(dump.transportIds.sort()).toEqual([...hostPeer.transports.keys()].sort());
    expect(dump.mapProducerIdConsumerIds).toEqual([{ key: host.producerId, values: [] }]);
    expect(dump.mapConsumerIdProducerId).toEqual([]);
    const serverDump = await room.host.webRtcServer.dump();
    expect(serverDump.webRtcTransportIds.sort()).toEqual([...hostPeer.transports.keys()].sort());
    // No port left bound: the WebRtcServer still listens on its one UDP and one TCP port only.
    expect(serverDump.udpSockets.map((s) => s.port)).toEqual([server.ports.rtcBase]);
    expect(serverDump.tcpServers.map((s) => s.port)).toEqual([server.ports.rtcBase]);
    const workerDump = await worker.dump();
    expect(workerDump.routerIds).toEqual([room.router.id]);

    forgetHostMessages();
    const heapGrowth = heapMb() - heap0;
    const rssGrowth = rssMb(worker.pid) - rss0;
    process.stdout.write(`${JSON.stringify({ cycles, seconds: +seconds.toFixed(1), cyclesPerSec: +(cycles / seconds).toFixed(0), nodeHeapGrowthMb: +heapGrowth.toFixed(2), workerRssGrowthMb: +rssGrowth.toFixed(2) })}\n`);
    expect(heapGrowth).toBeLessThan(heapBoundMb);
    expect(rssGrowth).toBeLessThan(workerRssBoundMb);
    host.c.close();
  });
});
