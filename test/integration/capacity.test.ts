import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Loadgen } from '../../bench/lib/loadgen.js';
import { signToken, startPublisher, startSubscriber, type Publisher, type Subscriber } from '../../bench/lib/participants.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { WsClient } from '../helpers/wsClient.js';

// Admission at capacity, with real load: the benchmark's load generator fans one publisher out to
// 100 subscribers, which keeps the worker well above the (test-sized) limit of 2 % of a core. New
// students and observers are then refused with `unavailable`, teachers still get in, the class
// already there keeps its media, and once the load is gone a student gets in again.
const secret = 'capacity-test-secret-0123456789-abcdefgh';
const room = 'full-class';
let server: TestServer;
let wsUrl: string;
let loadgen: Loadgen;
const people: (Publisher | Subscriber)[] = [];
const clients: WsClient[] = [];

beforeAll(async () => {
  server = await startTestServer({
    SFU_JWT_SECRET: secret,
    SFU_WORKER_MAX_CPU: '0.02',
    SFU_WORKER_LOAD_SAMPLE_MS: '300',
    SFU_RATE_LIMIT_PER_SEC: '100000',
    SFU_RATE_LIMIT_BURST: '100000',
  });
  wsUrl = server.wsUrl;
  loadgen = await Loadgen.start();
}, 120_000);
afterAll(async () => {
  clients.forEach((c) => c.close());
  for (const p of people) await p.close().catch(() => undefined);
  await loadgen?.stop();
  await server?.close();
});

const token = (name: string, role: 'teacher' | 'student' | 'observer') => signToken(secret, { room, sub: name, name, role }, 600);
async function tryJoin(name: string, role: 'teacher' | 'student' | 'observer') {
  const c = await WsClient.connect(`${wsUrl}?token=${await token(name, role)}`);
  clients.push(c);
  return c.call('join');
}
const refusedAtCapacity = async () =>
  Number(/^sfu_joins_refused_capacity_total (\d+)/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? NaN);

describe('joining a server at capacity', () => {
  it('refuses new students and observers while every worker is above SFU_WORKER_MAX_CPU; teachers and the class go on', async () => {
    // The load: teachers (never refused), so that the fleet itself gets in whatever the CPU.
    const pub = await startPublisher({ wsUrl, token: await token('pub', 'teacher'), loadgen, name: 'pub' });
    people.push(pub);
    for (let i = 0; i < 100; i += 20) {
      const names = Array.from({ length: 20 }, (_, j) => `load-${i + j}`);
      people.push(...(await Promise.all(names.map(async (name) => startSubscriber({ wsUrl, token: await token(name, 'teacher'), loadgen, name })))));
    }
    const worker = server.pool.workers[0]!;
    await waitFor(() => worker.load.cpu >= 0.02, 15_000, 'the worker above 2 % CPU');

    const student = await tryJoin('late-student', 'student');
    expect(student.ok).toBe(false);
    expect(student.error?.code).toBe('unavailable');
    expect(student.error?.message).toContain('at capacity');
    expect((await tryJoin('late-observer', 'observer')).error?.code).toBe('unavailable');
    expect((await tryJoin('second-teacher', 'teacher')).ok).toBe(true);
    expect(await refusedAtCapacity()).toBeGreaterThanOrEqual(2);
    expect([...server.rooms.get(room)!.peers.values()].map((p) => p.userId)).not.toContain('late-student');

    // The class already in keeps receiving.
    const s0 = await loadgen.stats();
    await new Promise((r) => setTimeout(r, 1000));
    const s1 = await loadgen.stats();
    for (const sub of people.slice(1)) {
      const got = s1.sessions.find((x) => x.id === sub.sessionId)!.recv - s0.sessions.find((x) => x.id === sub.sessionId)!.recv;
      expect(got, sub.sessionId).toBeGreaterThan(0);
    }

    // The load leaves; within a few samples a student gets in.
    for (const p of people.splice(0)) await p.close();
    await waitFor(() => worker.load.cpu < 0.02, 15_000, 'the worker below 2 % CPU');
    expect((await tryJoin('later-student', 'student')).ok).toBe(true);
  });
});
