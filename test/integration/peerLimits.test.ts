import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerFor, errorOf, notified, peerKitFor, produceMic, produceVideo } from '../helpers/peers.js';
import { opusRtpParameters, vp8RtpParameters } from '../helpers/rtpParameters.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { WsClient } from '../helpers/wsClient.js';

// What one token, one teacher or one address can hold: one peer per (room, user), a node-wide
// peer limit, bounded producers and transports per peer, and open sockets per client address.
let server: TestServer;
const kit = peerKitFor(() => server);

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  kit.closeAll();
  await server?.close();
});

const sessionOf = (room: string, peerId: string) => server.rooms.get(room)!.peers.get(peerId)!.sessionToken;
/** How `c` was closed; fails after 5 s rather than waiting out the test timeout. */
const closeOf = (c: WsClient) =>
  Promise.race([c.closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the socket is still open')), 5000))]);
const dropSocketOf = (peerId: string) => {
  for (const conn of server.signaling.connections) if (conn.session.peer?.id === peerId) conn.terminate();
};

describe('one live peer per user and room', () => {
  it('a second join of a user replaces the first: closed with 4003, the others see it leave then join, nothing of it is left', async () => {
    const other = await kit.joinFully('twice', 'other');
    const first = await kit.joinFully('twice', 'dup');
    const { producerId } = await produceMic(first);
    await consumerFor(other, producerId);
    const room = server.rooms.get('twice')!;

    const second = await kit.joinFully('twice', 'dup');
    expect(await closeOf(first.c)).toMatchObject({ code: 4003, reason: expect.stringContaining('same user') });
    expect(second.join.peers.map((p) => p.id)).toEqual([other.peerId]);
    expect([...room.peers.keys()].sort()).toEqual([other.peerId, second.peerId].sort());
    const seen = other.c.notifications.map(({ method, data }) => {
      const d = data as { peerId?: string; peer?: { id: string } };
      return `${method} ${d.peerId ?? d.peer?.id}`;
    });
    const left = seen.indexOf(`peerLeft ${first.peerId}`);
    expect(left).toBeGreaterThanOrEqual(0);
    expect(left).toBeLessThan(seen.indexOf(`peerJoined ${second.peerId}`));
    await notified(other.c, 'consumerClosed');
    const dump = await room.router.dump();
    expect(dump.transportIds.sort()).toEqual([other.sendId, other.recvId, second.sendId, second.recvId].sort());
    expect(dump.mapProducerIdConsumerIds.map((e) => e.key)).not.toContain(producerId);
  });

  it('a user alone in the room replaces their session without the room closing', async () => {
    const first = await kit.joinFully('alone', 'solo');
    const room = server.rooms.get('alone')!;
    const second = await kit.joinFully('alone', 'solo');
    expect((await closeOf(first.c)).code).toBe(4003);
    expect(server.rooms.get('alone')).toBe(room);
    expect(room.closed).toBe(false);
    expect([...room.peers.keys()]).toEqual([second.peerId]);
    expect((await room.router.dump()).transportIds.sort()).toEqual([second.sendId, second.recvId].sort());
  });

  it('a session awaiting resume is replaced too, and cannot be resumed afterwards', async () => {
    const watcher = await kit.joinFully('away', 'watcher');
    const first = await kit.joinFully('away', 'dup');
    const session = sessionOf('away', first.peerId);
    dropSocketOf(first.peerId);
    await first.c.closed;
    expect(server.rooms.get('away')!.peers.has(first.peerId)).toBe(true); // awaiting resume
    const second = await kit.joinFully('away', 'dup');
    await notified(watcher.c, 'peerLeft', (d) => d.peerId === first.peerId);
    expect([...server.rooms.get('away')!.peers.keys()].sort()).toEqual([watcher.peerId, second.peerId].sort());
    const late = await kit.connect('away', 'dup');
    expect(await late.call('join', { resume: { peerId: first.peerId, sessionToken: session } })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('60 joins of one token at once end with one live peer and no transport left behind', async () => {
    const clients = await Promise.all(Array.from({ length: 60 }, () => kit.connect('crowd', 'one')));
    // Each joins and asks for both transports at once, as a client racing its own other tabs.
    await Promise.all(
      clients.map(async (c) => {
        const joined = await c.call('join').catch(() => undefined);
        if (!joined?.ok) return;
        await Promise.all(['send', 'recv'].map((direction) => c.call('createTransport', { direction }).catch(() => undefined)));
      }),
    );
    const room = server.rooms.get('crowd')!;
    expect(room.peers.size).toBe(1);
    const [survivor] = [...room.peers.values()];
    await waitFor(() => clients.filter((c) => c.ws.readyState === c.ws.CLOSED).length === 59, 5000, '59 sockets closed');
    const codes = await Promise.all(clients.filter((c) => c.ws.readyState === c.ws.CLOSED).map((c) => c.closed.then((x) => x.code)));
    expect(new Set(codes)).toEqual(new Set([4003]));
    // Transports created for a replaced peer while it was being replaced are closed as they arrive.
    await waitFor(async () => (await room.router.dump()).transportIds.length === survivor!.transports.size, 5000, 'only the survivor transports');
    expect((await room.router.dump()).transportIds.sort()).toEqual([...survivor!.transports.keys()].sort());
    expect(survivor!.transports.size).toBeLessThanOrEqual(2);
  });

  it('a teacher is one peer too, with at most one producer per source and two transports per direction', async () => {
    const first = await kit.joinFully('caps', 't', 'teacher');
    const teacher = await kit.joinFully('caps', 't', 'teacher');
    expect((await closeOf(first.c)).code).toBe(4003);
    await produceMic(teacher);
    await produceVideo(teacher, 'cam');
    await produceVideo(teacher, 'screen');
    for (const [i, source] of (['mic', 'cam', 'screen'] as const).entries()) {
      const media = source === 'mic' ? { kind: 'audio', rtpParameters: opusRtpParameters(99_000 + i) } : { kind: 'video', rtpParameters: vp8RtpParameters(99_000 + 10 * i) };
      expect(await errorOf(teacher.c, 'produce', { transportId: teacher.sendId, source, ...media }), `a second ${source}`).toBe('conflict');
    }
    expect(server.rooms.get('caps')!.peers.get(teacher.peerId)!.producers.size).toBe(3);
    for (const direction of ['send', 'recv']) {
      expect(await errorOf(teacher.c, 'createTransport', { direction }), `a second ${direction} transport`).toBeUndefined();
      expect(await errorOf(teacher.c, 'createTransport', { direction }), `a third ${direction} transport`).toBe('conflict');
    }
    expect(server.rooms.get('caps')!.peers.get(teacher.peerId)!.transports.size).toBe(4);
  });
});

describe('the node-wide peer limit', () => {
  let small: TestServer;
  const smallKit = peerKitFor(() => small);
  beforeAll(async () => {
    small = await startTestServer({ SFU_MAX_PEERS: '3' });
  });
  afterAll(async () => {
    smallKit.closeAll();
    await small?.close();
  });

  it('counts every room, holds for teachers, and still lets a user replace or resume their own session', async () => {
    const joined = async (room: string, user: string, role: 'teacher' | 'student' = 'student') => {
      const c = await smallKit.connect(room, user, role);
      return { c, reply: await c.call('join') };
    };
    const u1 = await joined('r1', 'u1');
    const u2 = await joined('r2', 'u2');
    const t1 = await joined('r2', 't1', 'teacher');
    for (const p of [u1, u2, t1]) expect(p.reply.ok).toBe(true);

    const teacher = await joined('r1', 't2', 'teacher');
    expect(teacher.reply).toMatchObject({ ok: false, error: { code: 'unavailable', message: expect.stringContaining('SFU_MAX_PEERS') } });
    expect((await joined('r3', 'u3')).reply).toMatchObject({ ok: false, error: { code: 'unavailable' } });
    expect(small.rooms.get('r3')).toBeUndefined();

    // At the limit: the same user joining again replaces their peer...
    const again = await joined('r1', 'u1');
    expect(again.reply.ok).toBe(true);
    expect((await closeOf(u1.c)).code).toBe(4003);
    // ...and a dropped session resumes.
    const u2PeerId = (u2.reply.data as { peerId: string }).peerId;
    const sessionToken = small.rooms.get('r2')!.peers.get(u2PeerId)!.sessionToken;
    for (const conn of small.signaling.connections) if (conn.session.peer?.id === u2PeerId) conn.terminate();
    await u2.c.closed;
    const back = await smallKit.connect('r2', 'u2');
    expect(await back.call('join', { resume: { peerId: u2PeerId, sessionToken } })).toMatchObject({ ok: true, data: { resumed: true } });
    expect(small.rooms.peerCount()).toBe(3);
  });
});

describe('open sockets per client address', () => {
  let limited: TestServer;
  beforeAll(async () => {
    // 127.0.0.1 stands for a reverse proxy here: its X-Forwarded-For names the client.
    limited = await startTestServer({ SFU_MAX_CONNECTIONS_PER_IP: '3', SFU_TRUSTED_PROXIES: '127.0.0.1', SFU_JOIN_TIMEOUT_MS: '60000' });
  });
  afterAll(async () => limited?.close());

  it('refuses a fourth socket from one address with 429 before its token is checked; a closed one frees its place', async () => {
    const url = `${limited.wsUrl}?token=${await limited.tokens.sign({ room: 'ip', sub: 'u', name: 'u', role: 'student' }, 600)}`;
    const open = await Promise.all(Array.from({ length: 3 }, () => WsClient.connect(url)));
    await expect(WsClient.connect(url)).rejects.toThrow('HTTP 429');
    // A bad token is refused the same way: the limit comes first (otherwise: upgraded, then 4001).
    await expect(WsClient.connect(`${limited.wsUrl}?token=nonsense`)).rejects.toThrow('HTTP 429');
    open[0]!.close();
    await waitFor(() => limited.signaling.connections.size === 2, 5000, 'the closed socket gone');
    open[0] = await WsClient.connect(url);

    // Behind the trusted proxy each client counts under its own address, the one the proxy appended.
    const client = { 'X-Forwarded-For': '203.0.113.9' };
    const behind = await Promise.all(Array.from({ length: 3 }, () => WsClient.connect(url, client)));
    await expect(WsClient.connect(url, client)).rejects.toThrow('HTTP 429');
    // What the client itself wrote further left changes nothing.
    await expect(WsClient.connect(url, { 'X-Forwarded-For': '198.51.100.1, 203.0.113.9' })).rejects.toThrow('HTTP 429');
    const neighbour = await WsClient.connect(url, { 'X-Forwarded-For': '203.0.113.10' });
    for (const c of [...open, ...behind, neighbour]) c.close();
  });
});
