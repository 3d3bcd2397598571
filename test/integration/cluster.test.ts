import { rmSync } from 'node:fs';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clusterSecret, clusterToken, health, recordingsDirOf, spawnClusterNode, waitForCluster, wsUrlOf } from '../helpers/cluster.js';
import { startRedis, type RedisServer } from '../helpers/redisServer.js';
import { Loadgen } from '../../bench/lib/loadgen.js';
import { signToken, startPublisher, startSubscriber, type Publisher, type Subscriber } from '../../bench/lib/participants.js';
import { clusterKeys } from '../../server/cluster/keys.js';
import { NodeRegistry } from '../../server/cluster/nodeRegistry.js';
import { RedisConnection } from '../../server/cluster/redisConnection.js';
import { testLogger } from '../helpers/logger.js';
import { peerKit } from '../helpers/peers.js';
import { freePort } from '../helpers/ports.js';
import { spawnServer, waitFor, type ServerProcess } from '../helpers/serverProcess.js';
import type { Reply, WsClient } from '../helpers/wsClient.js';

// Two real server processes on two loopback addresses sharing one real Redis: the join redirect,
// placement, the cluster-wide rooms API, bans across nodes and takeover, and Redis going away.
let redis: RedisServer;
let a: ServerProcess;
let b: ServerProcess;
const kit = peerKit({ wsUrl: () => a.wsUrl, sign: clusterToken });

beforeAll(async () => {
  redis = await startRedis();
  a = await spawnClusterNode({ id: 'node-a', ip: '127.0.0.1' }, redis.url);
  b = await spawnClusterNode({ id: 'node-b', ip: '127.0.0.2' }, redis.url);
  await waitForCluster([a, b]);
});
afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') {
    for (const [name, n] of [['a', a], ['b', b]] as const) console.error(`node ${name} output:\n${n?.output().slice(-5000)}`);
  }
});
afterAll(async () => {
  kit.closeAll();
  await Promise.all([a?.stop('SIGKILL'), b?.stop('SIGKILL')]);
  await redis?.dispose();
  for (const id of ['node-a', 'node-b', 'node-c']) rmSync(recordingsDirOf(id), { recursive: true, force: true });
});

type Role = 'teacher' | 'student' | 'observer';
const connect = (node: ServerProcess | string, room: string, user: string, role: Role = 'student'): Promise<WsClient> =>
  kit.connect(room, user, role, typeof node === 'string' ? node : wsUrlOf(node));

/** Joins through `entry`, following a redirect once as the SDK does. */
async function joinVia(entry: ServerProcess, room: string, user: string, role: Role = 'student') {
  let c = await connect(entry, room, user, role);
  let reply = await c.call('join');
  let redirectedTo: string | undefined;
  if (!reply.ok && reply.error?.code === 'redirect') {
    redirectedTo = reply.error.redirect!.url;
    c.close();
    c = await connect(redirectedTo, room, user, role);
    reply = await c.call('join', { redirected: true });
  }
  return { c, reply, redirectedTo };
}

const redirectOf = (r: Reply) => r.error?.redirect;

/**
 * Opens a class with its teacher joining at node a; placement by load decides where it lives.
 * Returns the origin and the other node.
 */
async function openClass(room: string) {
  const j = await joinVia(a, room, `${room}-teacher`, 'teacher');
  expect(j.reply.ok).toBe(true);
  const [origin, other] = j.redirectedTo ? [b, a] : [a, b];
  return { teacher: j.c, origin, other, originId: origin === a ? 'node-a' : 'node-b', originWs: wsUrlOf(origin) };
}

describe('a cluster of two nodes', () => {
  it('places a new class on the node that got the first join, and redirects joins at the other node there', async () => {
    const t = await connect(a, 'algebra', 'teacher-1', 'teacher');
    await t.ok('join');

    const s = await connect(b, 'algebra', 'student-1');
    const refused = await s.call('join');
    expect(refused.ok).toBe(false);
    expect(refused.error?.code).toBe('redirect');
    expect(redirectOf(refused)).toEqual({ url: `ws://127.0.0.1:${a.ports.http}/ws`, nodeId: 'node-a' });

    const { reply, redirectedTo } = await joinVia(b, 'algebra', 'student-2');
    expect(redirectedTo).toBe(`ws://127.0.0.1:${a.ports.http}/ws`);
    expect(reply.ok).toBe(true);
    expect((reply.data as { peers: { userId: string }[] }).peers.map((p) => p.userId)).toContain('teacher-1');
  });

  it('a redirected join that lands on a node which is not the origin is redirected again (the client stops there)', async () => {
    const c = await connect(b, 'algebra', 'student-3');
    const r = await c.call('join', { redirected: true });
    expect(r.error?.code).toBe('redirect');
    expect(redirectOf(r)?.nodeId).toBe('node-a');
  });

  it('lists every node\'s rooms and the live nodes at any node, and reads one room through the node it lives on', async () => {
    const admin = await clusterToken({ room: 'x', sub: 'staff', name: 'Staff', role: 'admin' as never });
    const { reply } = await joinVia(b, 'biology', 'bio-teacher', 'teacher');
    expect(reply.ok).toBe(true);
    await waitFor(async () => {
      const res = await fetch(`${b.url}/api/rooms`, { headers: { authorization: `Bearer ${admin}` } });
      const { rooms } = (await res.json()) as { rooms: { id: string; node: string; peers: number }[] };
      const algebra = rooms.find((r) => r.id === 'algebra');
      const biology = rooms.find((r) => r.id === 'biology');
      return algebra?.node === 'node-a' && algebra.peers === 2 && biology?.node === 'node-b';
    }, 5000, 'both rooms listed at node b');
    const nodes = (await (await fetch(`${a.url}/api/nodes`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { node: string; redis: string; nodes: { id: string; wsUrl: string; load: { peers: number } }[] };
    expect(nodes.node).toBe('node-a');
    expect(nodes.redis).toBe('ready');
    expect(nodes.nodes.map((n) => [n.id, n.wsUrl]).sort()).toEqual([['node-a', `ws://127.0.0.1:${a.ports.http}/ws`], ['node-b', `ws://127.0.0.2:${b.ports.http}/ws`]]);
    const teacher = await clusterToken({ room: 'algebra', sub: 't', name: 't', role: 'teacher' });
    expect((await fetch(`${a.url}/api/nodes`, { headers: { authorization: `Bearer ${teacher}` } })).status).toBe(403);
    const res = await fetch(`${b.url}/api/rooms/algebra`, { headers: { authorization: `Bearer ${admin}` } });
    expect(res.status).toBe(200);
    const { room } = (await res.json()) as { room: { id: string; node: string; participants: unknown[] } };
    expect(room).toMatchObject({ id: 'algebra', node: 'node-a' });
    expect(room.participants).toHaveLength(2);
  });

  it("a teacher's recordings requests at the other node are served by the class's node", async () => {
    const { origin, other } = await openClass('music');
    const teacher = await clusterToken({ room: 'music', sub: 'music-teacher', name: 'T', role: 'teacher' });
    const auth = { authorization: `Bearer ${teacher}` };
    const started = await fetch(`${other.url}/api/recordings`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ room: 'music' }) });
    expect(started.status).toBe(201);
    const { recording } = (await started.json()) as { recording: { id: string; state: string } };
    const listed = (await (await fetch(`${origin.url}/api/recordings`, { headers: auth })).json()) as { recordings: { id: string }[] };
    expect(listed.recordings.map((r) => r.id)).toContain(recording.id);
    const stopped = await fetch(`${other.url}/api/recordings/${recording.id}/stop`, { method: 'POST', headers: auth });
    expect(stopped.status).toBe(200);
    const one = (await (await fetch(`${other.url}/api/recordings/${recording.id}`, { headers: auth })).json()) as { recording: { id: string; state: string } };
    expect(one.recording).toMatchObject({ id: recording.id, state: 'stopped' });
  });

  it('a removed student cannot get back in through the other node; the ban reaches every node', async () => {
    const { teacher, other } = await openClass('chemistry');
    const { c: s, reply } = await joinVia(other, 'chemistry', 'troll');
    expect(reply.ok).toBe(true);
    await teacher.ok('removePeer', { peerId: (reply.data as { peerId: string }).peerId, reason: 'spam' });
    expect((await s.closed).code).toBe(4005);

    const again = await joinVia(other, 'chemistry', 'troll');
    expect(again.reply.ok).toBe(false);
    expect(again.reply.error?.code).toBe('forbidden');
    // The other node got the ban over pub/sub, and it is stored in Redis with its expiry.
    await waitFor(() => other.output().includes('ban from another node applied'), 5000, 'ban announced to the other node');
    const r = createClient({ url: redis.url });
    await r.connect();
    const ttl = await r.pTTL('sfu:ban:chemistry:troll');
    await r.close();
    expect(ttl).toBeGreaterThan(500_000); // SFU_REMOVE_BAN_SEC's default, 600 s
  });

  it('Redis away: live classes go on and admit their own joins; other joins get `unavailable`; back, claims are re-asserted', async () => {
    const { teacher: t, origin, other, originId, originWs } = await openClass('history');
    await redis.stop('SIGKILL');
    await waitFor(async () => (await health(origin)).cluster?.redis === 'down', 5000, 'the origin sees redis down');
    expect((await health(origin)).status).toBe('ok'); // Redis down does not make the node unhealthy

    // A class already on its node: joins there still work.
    const s = await connect(origin, 'history', 'hist-student');
    expect((await s.call('join')).ok).toBe(true);
    // A new class, or one that might live elsewhere: a typed, clear refusal.
    const n = await connect(other, 'history', 'hist-late');
    const refused = await n.call('join');
    expect(refused.error?.code).toBe('unavailable');
    expect(refused.error?.message).toMatch(/Redis/);
    // The sockets of the live class stayed open.
    expect(t.ws.readyState).toBe(t.ws.OPEN);
    expect(origin.output()).toContain('redis connection lost');

    await redis.start(); // empty: no nodes, no claims
    await waitForCluster([a, b], 15_000);
    const r = createClient({ url: redis.url });
    await r.connect();
    await waitFor(async () => (await r.get('sfu:room:history')) === originId, 5000, 'the origin re-asserted its claim');
    await r.close();
    expect(origin.output()).toContain('redis connection restored');
    const late = await joinVia(other, 'history', 'hist-late-2');
    expect(late.redirectedTo).toBe(originWs);
    expect(late.reply.ok).toBe(true);
    expect((late.reply.data as { peers: unknown[] }).peers).toHaveLength(2);
  });

  // A node at capacity (SFU_WORKER_MAX_CPU) refuses students only for the classes it serves: a
  // join for a class on another node is redirected there as before.
  it('a node at capacity still redirects joins for classes on other nodes, and refuses students for its own', async () => {
    // Every node but the new one carries someone, so that the new one is the least loaded.
    for (const [entry, room] of [[a, 'busy-1'], [b, 'busy-2']] as const) expect((await joinVia(entry, room, `${room}-teacher`, 'teacher')).reply.ok).toBe(true);
    const e = await spawnClusterNode({ id: 'node-e', ip: '127.0.0.4' }, redis.url, {
      SFU_WORKER_MAX_CPU: '0.01',
      SFU_WORKER_LOAD_SAMPLE_MS: '300',
      SFU_RATE_LIMIT_PER_SEC: '100000',
      SFU_RATE_LIMIT_BURST: '100000',
    });
    const loadgen = await Loadgen.start();
    const people: (Publisher | Subscriber)[] = [];
    try {
      await waitForCluster([a, b, e]);
      // Real load on e's worker: a class placed there, one publisher to 40 subscribers (teachers,
      // whom capacity never refuses).
      const eWs = wsUrlOf(e);
      const token = (name: string) => signToken(clusterSecret, { room: 'load-on-e', sub: name, name, role: 'teacher' }, 600);
      people.push(await startPublisher({ wsUrl: eWs, token: await token('e-pub'), loadgen, name: 'e-pub' }));
      for (let i = 0; i < 40; i += 20) {
        const names = Array.from({ length: 20 }, (_, j) => `e-sub-${i + j}`);
        people.push(...(await Promise.all(names.map(async (name) => startSubscriber({ wsUrl: eWs, token: await token(name), loadgen, name })))));
      }
      const eCpu = async () => Number(/^sfu_worker_cpu_ratio\{worker="0"\} (\S+)/m.exec(await (await fetch(`${e.url}/metrics`)).text())?.[1] ?? NaN);
      await waitFor(async () => (await eCpu()) >= 0.01, 15_000, "node e's worker above 1 % CPU");

      // busy-2's class lives on a or b: a student entering through e is sent there and admitted.
      const elsewhere = await joinVia(e, 'busy-2', 'busy-2-student');
      expect(elsewhere.redirectedTo).toBeDefined();
      expect(elsewhere.reply.ok).toBe(true);
      // e's own class refuses a new student while its worker is above the limit.
      const c = await connect(e, 'load-on-e', 'late-student');
      const refused = await c.call('join');
      expect(refused.error?.code).toBe('unavailable');
      expect(refused.error?.message).toContain('at capacity');
    } finally {
      for (const p of people) await p.close().catch(() => undefined);
      await loadgen.stop();
      await e.stop('SIGKILL');
      rmSync(recordingsDirOf('node-e'), { recursive: true, force: true });
    }
  });

  // A rolling restart: a node stopped with SIGTERM gives its claims up and leaves the node list
  // before it exits, so its clients' rejoins (through any other node) are served at once rather
  // than sent back to it or held until its records expire.
  it('a node stopped gracefully (SIGTERM) tells its clients and gives its classes up at once', async () => {
    const d = await spawnClusterNode({ id: 'node-d', ip: '127.0.0.3' }, redis.url);
    try {
      await waitForCluster([a, b, d]);
      // Node d holds nothing, so a class opened through it is placed on it.
      const t = await joinVia(d, 'drama', 'drama-teacher', 'teacher');
      expect(t.reply.ok).toBe(true);
      expect(t.redirectedTo).toBeUndefined();
      const s = await joinVia(a, 'drama', 'drama-student');
      expect(s.redirectedTo).toBe(`ws://127.0.0.3:${d.ports.http}/ws`);
      expect(s.reply.ok).toBe(true);

      expect(await d.stop('SIGTERM')).toEqual({ code: 0, signal: null });
      // Both clients were told the server is going away (1001: the SDK rejoins at once).
      expect((await t.c.closed).code).toBe(1001);
      expect((await s.c.closed).code).toBe(1001);
      expect(d.output()).toContain('left the cluster');
      // Right away, with no waiting for TTLs (1.5 s here): a join through a is served (by a, or by
      // b through one redirect), never sent to d, and d drops out of the node list on a's next beat.
      const again = await joinVia(a, 'drama', 'drama-teacher', 'teacher');
      expect(again.reply.ok).toBe(true);
      expect(again.redirectedTo === undefined || again.redirectedTo === `ws://127.0.0.2:${b.ports.http}/ws`).toBe(true);
      await waitFor(async () => (await health(a)).cluster?.nodes === 2, 1000, 'node d gone from the list');
      // Placed afresh (d gave its claim up), not taken over from a node thought dead.
      const takeovers = (a.output() + b.output()).split('\n').filter((l) => l.includes('room taken over') && l.includes('"drama"'));
      expect(takeovers).toEqual([]);
    } finally {
      await d.stop('SIGKILL');
      rmSync(recordingsDirOf('node-d'), { recursive: true, force: true });
    }
  });

  it('a killed node\'s classes are claimed again by a join at the surviving node; the ban still holds there', async () => {
    const { teacher, origin, other } = await openClass('physics');
    const { c: s, reply } = await joinVia(other, 'physics', 'phys-troll');
    expect(reply.ok).toBe(true);
    await teacher.ok('removePeer', { peerId: (reply.data as { peerId: string }).peerId });
    await s.closed;

    await origin.stop('SIGKILL');
    const t0 = Date.now();
    // Until the dead node's record expires, the survivor still sends clients there; then it takes the room over.
    const again = await waitFor(async () => {
      const j = await joinVia(other, 'physics', 'physics-teacher', 'teacher').catch(() => undefined);
      if (j && !j.reply.ok) j.c.close();
      return j?.reply.ok ? j : undefined;
    }, 10_000, 'the room re-created on the surviving node');
    expect(again.redirectedTo).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(other.output()).toContain('room taken over from a dead node');
    const banned = await connect(other, 'physics', 'phys-troll');
    expect((await banned.call('join')).error?.code).toBe('forbidden');
  });
});

describe('placing a class', () => {
  // Deterministic version of the race a rolling restart opens: the node list is as of the last
  // heartbeat, and a node that has just left can still look like the least loaded one.
  it('skips a node that left since the last heartbeat, though the list still shows it least loaded', async () => {
    const keys = clusterKeys('placement-test:');
    const opts = { heartbeatMs: 60_000, nodeTtlMs: 60_000 };
    const busy = { peers: 40, workerCpu: [0.2], rooms: [] };
    const idle = { peers: 0, workerCpu: [0], rooms: [] };
    const conns = [new RedisConnection(redis.url, testLogger), new RedisConnection(redis.url, testLogger)];
    try {
      await Promise.all(conns.map((c) => c.connect(5000)));
      const here = new NodeRegistry(conns[0]!, keys, { id: 'here', wsUrl: 'ws://127.0.0.1:1/ws', httpUrl: 'http://127.0.0.1:1' }, opts, () => busy, testLogger);
      const leaving = new NodeRegistry(conns[1]!, keys, { id: 'leaving', wsUrl: 'ws://127.0.0.9:1/ws', httpUrl: 'http://127.0.0.9:1' }, opts, () => idle, testLogger);
      await leaving.beat();
      await here.beat();
      expect(here.leastLoaded().id).toBe('leaving');
      expect((await here.placementTarget()).id).toBe('leaving'); // still in Redis: a fine target

      await leaving.stop(); // a graceful stop deletes its record; `here` has not beaten since
      expect(here.leastLoaded().id).toBe('leaving');
      expect((await here.placementTarget()).id).toBe('here');
      expect(here.live().map((n) => n.id)).toEqual(['here']);
    } finally {
      await Promise.all(conns.map((c) => c.close()));
    }
  });
});

describe('a node started while Redis is not there yet', () => {
  it('starts anyway, answers joins `unavailable`, and serves once Redis comes up', async () => {
    const port = await freePort();
    const c = await spawnClusterNode({ id: 'node-c', ip: '127.0.0.1' }, `redis://127.0.0.1:${port}`);
    let late: RedisServer | undefined;
    try {
      await waitFor(async () => (await fetch(`${c.url}/healthz`)).ok, 30_000, 'node c up');
      expect((await health(c)).cluster?.redis).not.toBe('ready');
      const early = await connect(c, 'geography', 'geo-1', 'teacher');
      expect((await early.call('join')).error?.code).toBe('unavailable');
      expect(c.output()).toContain('redis unreachable');

      late = await startRedis(port);
      await waitFor(async () => (await health(c)).cluster?.redis === 'ready', 15_000, 'node c connected');
      const now = await connect(c, 'geography', 'geo-2', 'teacher');
      expect((await now.call('join')).ok).toBe(true);
    } finally {
      await c.stop('SIGKILL');
      await late?.dispose();
    }
  });
});

describe('without SFU_REDIS_URL (the default)', () => {
  it('a node is on its own: no Redis, no cluster fields, joins served as before', async () => {
    const solo = await spawnServer({ SFU_WORKERS: '1', SFU_JWT_SECRET: 'cluster-test-secret-0123456789abcdef' });
    try {
      await waitFor(async () => (await fetch(`${solo.url}/healthz`)).ok, 30_000, 'solo node up');
      const h = await health(solo);
      expect(h.status).toBe('ok');
      expect(h.cluster).toBeUndefined();
      const c = await connect(solo.url.replace(/^http/, 'ws') + '/ws', 'solo-class', 'solo-1', 'teacher');
      expect((await c.call('join')).ok).toBe(true);
      expect(await (await fetch(`${solo.url}/metrics`)).text()).not.toContain('sfu_redis_up');
      expect(solo.output()).not.toMatch(/redis/i);
    } finally {
      await solo.stop('SIGKILL');
    }
  });
});
