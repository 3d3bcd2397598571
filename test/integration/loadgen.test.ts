import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Loadgen } from '../../bench/lib/loadgen.js';
import { audioRate, signToken, startPublisher, startSubscriber, type Publisher, type Subscriber } from '../../bench/lib/participants.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// The benchmark's load generator against the real server: ICE, DTLS and SRTP as a browser does
// them, and media delivered. Guards the benchmarks from rotting (it asserts delivery, not speed).
let server: TestServer;
let loadgen: Loadgen;
const secret = 'loadgen-test-secret-0123456789-abcdefgh';
const people: (Publisher | Subscriber)[] = [];

beforeAll(async () => {
  server = await startTestServer({ SFU_JWT_SECRET: secret });
  loadgen = await Loadgen.start();
}, 120_000);
afterAll(async () => {
  for (const p of people) await p.close().catch(() => undefined);
  await loadgen?.stop();
  await server?.close();
});

describe('the benchmark load generator', () => {
  it('publishes audio and simulcast video that two subscribers receive whole, with forwarding latency measured', async () => {
    const wsUrl = server.wsUrl;
    const token = (name: string) => signToken(secret, { room: 'loadgen', sub: name, name, role: 'teacher' }, 600);
    const pub = await startPublisher({ wsUrl, token: await token('pub'), loadgen, name: 'pub' });
    people.push(pub);
    const subs = [];
    for (const name of ['a', 'b']) subs.push(await startSubscriber({ wsUrl, token: await token(name), loadgen, name }));
    people.push(...subs);
    await new Promise((r) => setTimeout(r, 2000));
    loadgen.resetLatency();
    const s0 = await loadgen.stats();
    await new Promise((r) => setTimeout(r, 3000));
    const s1 = await loadgen.stats();
    const secs = (s1.t - s0.t) / 1000;
    for (const sub of subs) {
      const got = (s1.sessions.find((x) => x.id === sub.sessionId)!.recv - s0.sessions.find((x) => x.id === sub.sessionId)!.recv) / secs;
      const layer = [...sub.consumers.values()].find((c) => c.kind === 'video')?.spatialLayer;
      expect(layer, 'a video layer forwarded').not.toBeNull();
      const expected = audioRate + pub.layers[layer!]!.rate;
      expect(got, `${sub.sessionId} packets per second`).toBeGreaterThan(0.95 * expected);
    }
    expect(s1.latency.count).toBeGreaterThan(200); // two subscribers × 50 audio packets/s × 3 s, matched to their send times
    expect(s1.latency.miss).toBe(0);
    for (const sub of subs) expect(s1.sessions.find((x) => x.id === sub.sessionId)!.reordered, 'packets out of order').toBe(0);
  });

  // The worker queues what it sends while handling one received packet and sends it with one
  // sendmmsg() per 64 datagrams (scripts/worker/patches/0003): a fan-out wider than that crosses
  // full queues. Every subscriber must still get every packet, in order.
  it('delivers a fan-out wider than one batch of sends (1 -> 80) to every subscriber, whole and in order', async () => {
    const wsUrl = server.wsUrl;
    const token = (name: string, role: 'teacher' | 'student') => signToken(secret, { room: 'loadgen-wide', sub: name, name, role }, 600);
    const pub = await startPublisher({ wsUrl, token: await token('wide-pub', 'teacher'), loadgen, name: 'wide-pub' });
    people.push(pub);
    const subs: Subscriber[] = [];
    for (let i = 0; i < 80; i += 20) {
      const names = Array.from({ length: 20 }, (_, j) => `wide-${i + j}`);
      subs.push(...(await Promise.all(names.map(async (name) => startSubscriber({ wsUrl, token: await token(name, 'student'), loadgen, name })))));
    }
    people.push(...subs);
    await new Promise((r) => setTimeout(r, 2000));
    const s0 = await loadgen.stats();
    await new Promise((r) => setTimeout(r, 3000));
    const s1 = await loadgen.stats();
    const secs = (s1.t - s0.t) / 1000;
    for (const sub of subs) {
      const a = s0.sessions.find((x) => x.id === sub.sessionId)!;
      const b = s1.sessions.find((x) => x.id === sub.sessionId)!;
      const layer = [...sub.consumers.values()].find((c) => c.kind === 'video')?.spatialLayer;
      expect(layer, 'a video layer forwarded').not.toBeNull();
      const expected = audioRate + pub.layers[layer!]!.rate;
      expect((b.recv - a.recv) / secs, `${sub.sessionId} packets per second`).toBeGreaterThan(0.95 * expected);
      expect(b.reordered, `${sub.sessionId} packets out of order`).toBe(0);
    }
  });
});
