import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessClaims } from '../../server/auth/tokens.js';
import { opusRtpParameters } from '../helpers/rtpParameters.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { WsClient } from '../helpers/wsClient.js';

// GET /api/rooms and /api/rooms/:id against a real server with real peers in two rooms.
let server: TestServer;
let base: string;
const clients: WsClient[] = [];

beforeAll(async () => {
  server = await startTestServer();
  base = server.url;
});
afterAll(async () => {
  clients.forEach((c) => c.close());
  await server?.close();
});

const token = (claims: Partial<AccessClaims>) => server.tokens.sign({ room: 'algebra', sub: 'u', name: 'u', role: 'teacher', ...claims }, 600);
async function get(path: string, bearer?: string) {
  const res = await fetch(`${base}${path}`, bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {});
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
async function join(room: string, user: string, role: 'teacher' | 'student') {
  const c = await WsClient.connect(`${server.wsUrl}?token=${await token({ room, sub: user, name: user, role })}`);
  clients.push(c);
  const j = await c.ok<{ peerId: string; routerRtpCapabilities: unknown }>('join');
  return { c, peerId: j.peerId, caps: j.routerRtpCapabilities };
}

describe('GET /api/rooms', () => {
  it('an admin sees every room; a teacher only its own; others are refused', async () => {
    const t = await join('algebra', 'teacher-1', 'teacher');
    const s = await join('algebra', 'student-1', 'student');
    await s.c.ok('setRtpCapabilities', { rtpCapabilities: s.caps });
    const send = await s.c.ok<{ id: string }>('createTransport', { direction: 'send' });
    await s.c.ok('produce', { transportId: send.id, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(4242) });
    await s.c.ok('raiseHand');
    await join('biology', 'teacher-2', 'teacher');

    const admin = await get('/api/rooms', await token({ role: 'admin', room: 'any' }));
    expect(admin.status).toBe(200);
    expect((admin.body.rooms as { id: string }[]).map((r) => r.id).sort()).toEqual(['algebra', 'biology']);
    expect((admin.body.rooms as object[]).find((r) => (r as { id: string }).id === 'algebra')).toEqual({
      id: 'algebra',
      worker: 0,
      // Only the student has a transport, hence a place on a router; nobody consumes yet.
      routers: [{ worker: 0, peers: 1, consumers: 0 }],
      peers: 2,
      publishers: 1,
      recording: null,
      locked: false,
    });
    const teacher = await get('/api/rooms', await token({ room: 'algebra' }));
    expect((teacher.body.rooms as { id: string }[]).map((r) => r.id)).toEqual(['algebra']);

    const one = await get('/api/rooms/algebra', await token({ room: 'algebra' }));
    expect(one.status).toBe(200);
    const room = one.body.room as { participants: { id: string; role: string; connected: boolean; handRaisedAt: number | null; producers: { source: string }[]; transports: { direction: string }[] }[]; policy: unknown };
    expect(room.policy).toMatchObject({ locked: false });
    const student = room.participants.find((p) => p.id === s.peerId)!;
    expect(student).toMatchObject({ role: 'student', connected: true, producers: [{ source: 'mic', kind: 'audio' }], transports: [{ direction: 'send' }] });
    expect(student.handRaisedAt).toEqual(expect.any(Number));
    expect(room.participants.find((p) => p.id === t.peerId)).toMatchObject({ role: 'teacher' });

    expect((await get('/api/rooms/biology', await token({ room: 'algebra' }))).status).toBe(403);
    expect((await get('/api/rooms/nowhere', await token({ role: 'admin' }))).status).toBe(404);
    expect((await get('/api/rooms', await token({ role: 'student' }))).status).toBe(403);
    expect((await get('/api/rooms')).status).toBe(401);
    expect((await get('/api/rooms', 'forged.token.here')).body).toMatchObject({ error: { code: 'unauthorized' } });
  });

  it('an admin token cannot join a room over the WebSocket', async () => {
    const c = await WsClient.connect(`${server.wsUrl}?token=${await token({ role: 'admin' })}`);
    expect((await c.closed).code).toBe(4001);
    expect(c.notifications[0]).toMatchObject({ method: 'error', data: { code: 'unauthorized', message: expect.stringContaining('admin') } });
  });
});
