import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenService } from '../../server/auth/tokens.js';
import { clientRequests, type ClientMethod } from '../../protocol/schema.js';
import { peerKitFor } from '../helpers/peers.js';
import { opusRtpParameters } from '../helpers/rtpParameters.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { WsClient } from '../helpers/wsClient.js';

let server: TestServer;
let port: number;
let base: string;

beforeAll(async () => {
  server = await startTestServer({
    SFU_JOIN_TIMEOUT_MS: '1500',
    SFU_ROOM_MAX_PEERS: '3',
    // Generous here: these tests send many requests quickly. The flood test has its own server.
    SFU_RATE_LIMIT_PER_SEC: '10000',
    SFU_RATE_LIMIT_BURST: '10000',
  });
  port = server.ports.http;
  base = server.wsUrl;
});
const kit = peerKitFor(() => server);
afterAll(async () => {
  kit.closeAll();
  await server?.close();
});

async function token(room: string, user: string, role: 'teacher' | 'student' | 'observer' = 'student') {
  return server.tokens.sign({ room, sub: user, name: user, role }, 600);
}
const { connect } = kit;
/** Joins and sets up what a browser would: capabilities, both transports (send first). */
const joinFully = (room: string, user: string) => kit.joinFully(room, user, 'student', ['send', 'recv']);

describe('authentication and transport-level rules', () => {
  it.each([
    ['no token', ''],
    ['a forged token', 'forged'],
    ['an expired token', 'expired'],
    ['garbage', 'garbage'],
  ])('refuses %s with unauthorized and closes 4001', async (_what, kind) => {
    let t = '';
    if (kind === 'forged') t = await new TokenService('another-secret-another-secret-123456').sign({ room: 'a', sub: 'u', name: 'u', role: 'student' }, 60);
    if (kind === 'expired') t = await server.tokens.sign({ room: 'a', sub: 'u', name: 'u', role: 'student' }, -10);
    if (kind === 'garbage') t = 'not.a.jwt';
    const c = await WsClient.connect(`${base}${t ? `?token=${t}` : ''}`);
    const closed = await c.closed;
    expect(closed.code).toBe(4001);
    expect(c.notifications[0]).toMatchObject({ method: 'error', data: { code: 'unauthorized' } });
  });

  it('rechecks the token expiry at join: a socket that outlived its token cannot enter', async () => {
    // Expiry is in whole seconds: this token expires within a second, before the join timeout.
    const exp = Math.floor(Date.now() / 1000) + 1;
    const c = await WsClient.connect(`${base}?token=${await server.tokens.sign({ room: 'a', sub: 'late', name: 'late', role: 'student' }, 1)}`);
    await new Promise((r) => setTimeout(r, exp * 1000 - Date.now() + 50));
    expect(await c.call('join')).toMatchObject({ ok: false, error: { code: 'unauthorized', message: expect.stringContaining('expired') } });
    expect(server.rooms.get('a')?.peers.size ?? 0).toBe(0);
    c.close();
  });

  it('takes the token offered as a subprotocol, out of the URL, and answers with the protocol name only', async () => {
    const c = await WsClient.connect(base, {}, { token: await token('sub', 'offered') });
    expect(c.ws.protocol).toBe('classroom-sfu');
    expect(await c.call('join')).toMatchObject({ ok: true });
    c.close();
    const forged = await WsClient.connect(base, {}, { token: 'not.a.jwt' });
    expect((await forged.closed).code).toBe(4001);
  });

  it('refuses a WebSocket from a foreign Origin with HTTP 403', async () => {
    await expect(WsClient.connect(`${base}?token=${await token('a', 'u')}`, { Origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    const c = await WsClient.connect(`${base}?token=${await token('a', 'u')}`, { Origin: `http://localhost:${port}` });
    c.close();
  });

  it('closes with 1007 on a frame that is not JSON, and on a binary frame', async () => {
    const c = await connect('a', 'u');
    c.sendRaw('{not json');
    expect((await c.closed).code).toBe(1007);
    const d = await connect('a', 'u');
    d.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    expect((await d.closed).code).toBe(1007);
  });

  it('closes with 1009 on a frame over 64 KiB', async () => {
    const c = await connect('a', 'u');
    c.sendRaw({ id: 1, method: 'join', data: { pad: 'x'.repeat(70 * 1024) } });
    expect((await c.closed).code).toBe(1009);
  });

  it('drops a socket that stops answering pings, and keeps one that answers', async () => {
    const hb = await startTestServer({ SFU_HEARTBEAT_MS: '1000' });
    // Two users: a second join of one user would replace the first (4003).
    const t = (user: string) => hb.tokens.sign({ room: 'hb', sub: user, name: user, role: 'student' }, 600);
    const silent = await WsClient.connect(`${hb.wsUrl}?token=${await t('silent')}`, {}, { autoPong: false });
    const alive = await WsClient.connect(`${hb.wsUrl}?token=${await t('alive')}`);
    await silent.ok('join');
    await alive.ok('join');
    const closed = await silent.closed;
    expect(closed.code).toBe(1006); // terminated, no closing handshake
    expect(alive.ws.readyState).toBe(alive.ws.OPEN);
    alive.close();
    await hb.close();
  });

  it('closes sockets that never join after the join timeout', async () => {
    const c = await connect('a', 'idle');
    const t0 = Date.now();
    expect((await c.closed).code).toBe(4002);
    expect(Date.now() - t0).toBeGreaterThan(1000);
  });

  it('answers a non-envelope with an id, or an unknown method, with bad_request and keeps the socket', async () => {
    const c = await connect('env', 'u');
    expect(await c.callWithId(7, { id: 7, method: 'join' })).toMatchObject({ id: 7, ok: false, error: { code: 'bad_request' } });
    expect(await c.callWithId(8, { id: 8, method: 'join', data: {}, extra: 1 })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await c.call('teleport', {})).toMatchObject({ ok: false, error: { code: 'bad_request', message: 'unknown method "teleport"' } });
    expect(await c.call('createTransport', { direction: 'send' })).toMatchObject({ ok: false, error: { code: 'conflict', message: 'join first' } });
    expect((await c.call('join')).ok).toBe(true);
    expect(c.malformed).toEqual([]);
    c.close();
  });
});

describe('every method validates its data', () => {
  let peer: Awaited<ReturnType<typeof joinFully>>;
  let producerId: string;
  let consumerId: string;
  let other: Awaited<ReturnType<typeof joinFully>>;

  beforeAll(async () => {
    peer = await joinFully('validate', 'alice');
    other = await joinFully('validate', 'bob');
    producerId = (await peer.c.ok<{ producerId: string }>('produce', { transportId: peer.sendId, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(1111) })).producerId;
    await waitFor(() => other.c.serverRequests.find((r) => r.method === 'newConsumer'), 5000, 'newConsumer');
    consumerId = String(other.c.serverRequests.find((r) => r.method === 'newConsumer')!.data.id);
  });
  afterAll(() => {
    peer.c.close();
    other.c.close();
  });

  const valid = (): Record<ClientMethod, Record<string, unknown>> => ({
    join: {},
    setRtpCapabilities: { rtpCapabilities: { codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }], headerExtensions: [] } },
    createTransport: { direction: 'recv' },
    connectTransport: { transportId: peer.sendId, dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AA' }], role: 'client' } },
    restartIce: { transportId: peer.sendId },
    closeTransport: { transportId: peer.sendId },
    produce: { transportId: peer.sendId, kind: 'video', source: 'cam', rtpParameters: opusRtpParameters(2) },
    closeProducer: { producerId },
    pauseProducer: { producerId },
    resumeProducer: { producerId },
    pauseConsumer: { consumerId },
    resumeConsumer: { consumerId },
    setConsumerPreferredLayers: { consumerId, spatialLayer: 1 },
    setConsumerPriority: { consumerId, priority: 2 },
    setView: { videos: [{ consumerId, width: 160, height: 90 }], audioOnly: false },
    getTransportStats: { transportId: peer.sendId },
    leave: {},
    refreshToken: { token: 'not.a.jwt' },
    startRecording: {},
    stopRecording: {},
    raiseHand: {},
    // Every field optional: only the extra-field and not-an-object cases apply.
    lowerHand: {},
    setRoomPolicy: {},
    setVideoLimits: {},
    sendChat: { text: 'hello' },
    mutePeer: { peerId: other.peerId },
    muteAll: {},
    stopPeerSource: { peerId: other.peerId, source: 'cam' },
    allowSpeak: { peerId: other.peerId, allowed: true },
    removePeer: { peerId: other.peerId },
    endClass: {},
    // lossPct first: the wrong-typed case puts 12345 in the first field, a valid round trip.
    reportNetwork: { lossPct: 0, rttMs: 20, bandwidthLimitedPct: 0, availableOutgoingBitrate: 1e6, jitterMs: 3 },
  });

  it.each(Object.keys(clientRequests) as ClientMethod[])('%s: missing, extra and wrong-typed fields give bad_request', async (method) => {
    const data = valid()[method];
    const keys = Object.keys(data);
    const cases: unknown[] = [{ ...data, bogus: 1 }, 'not an object', [1, 2]];
    if (keys.length > 0) {
      const [first, ...rest] = keys;
      cases.push(Object.fromEntries(rest.map((k) => [k, data[k]]))); // missing
      cases.push({ ...data, [first!]: { nested: true } }); // wrong type
      cases.push({ ...data, [first!]: 12345 }); // wrong type
    }
    for (const bad of cases) {
      for (const c of [peer.c, other.c]) {
        const r = await c.call(method, bad);
        expect(r, `${method} ${JSON.stringify(bad).slice(0, 60)}`).toMatchObject({ ok: false, error: { code: 'bad_request' } });
      }
    }
    // The socket still works and nothing changed.
    expect((await peer.c.call('getTransportStats', { transportId: peer.sendId })).ok).toBe(true);
    const room = server.rooms.get('validate')!;
    expect(room.peers.get(peer.peerId)!.producers.size).toBe(1);
    expect(room.peers.get(peer.peerId)!.transports.size).toBe(2);
  });

  it("answers not_found for another peer's transports, producers and consumers", async () => {
    const foreign: [string, Record<string, unknown>][] = [
      ['connectTransport', { transportId: other.recvId, dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] } }],
      ['restartIce', { transportId: other.sendId }],
      ['closeTransport', { transportId: other.recvId }],
      ['getTransportStats', { transportId: other.recvId }],
      ['produce', { transportId: other.sendId, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(3) }],
      ['pauseConsumer', { consumerId }],
      ['resumeConsumer', { consumerId }],
      ['setConsumerPriority', { consumerId, priority: 3 }],
      ['setConsumerPreferredLayers', { consumerId, spatialLayer: 0 }],
    ];
    for (const [method, data] of foreign) {
      expect(await peer.c.call(method, data), method).toMatchObject({ ok: false, error: { code: 'not_found' } });
    }
    for (const method of ['closeProducer', 'pauseProducer', 'resumeProducer']) {
      expect(await other.c.call(method, { producerId }), method).toMatchObject({ ok: false, error: { code: 'not_found' } });
    }
    // Still all there.
    const room = server.rooms.get('validate')!;
    expect(room.peers.get(other.peerId)!.transports.size).toBe(2);
    expect(room.peers.get(other.peerId)!.consumers.has(consumerId)).toBe(true);
    expect(room.peers.get(peer.peerId)!.producers.get(producerId)!.paused).toBe(false);
  });

  it('refuses nonsense sequences with the right code', async () => {
    expect(await peer.c.call('join')).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await peer.c.call('produce', { transportId: peer.recvId, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(4) })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await peer.c.call('produce', { transportId: peer.sendId, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(5) })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await peer.c.call('produce', { transportId: peer.sendId, kind: 'audio', source: 'cam', rtpParameters: opusRtpParameters(6) })).toMatchObject({ ok: false, error: { code: 'bad_request' } });
    expect(await other.c.call('setConsumerPreferredLayers', { consumerId, spatialLayer: 1 })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(await peer.c.call('createTransport', { direction: 'send' })).toMatchObject({ ok: true });
    expect(await peer.c.call('createTransport', { direction: 'send' })).toMatchObject({ ok: false, error: { code: 'conflict' } });
    expect(peer.c.malformed).toEqual([]);
  });

  it('pauses and resumes producers and consumers, notifying the other side', async () => {
    await peer.c.ok('pauseProducer', { producerId });
    await waitFor(() => other.c.notifications.find((n) => n.method === 'producerPaused'), 3000, 'producerPaused');
    await waitFor(() => other.c.notifications.find((n) => n.method === 'consumerPaused'), 3000, 'consumerPaused');
    await peer.c.ok('resumeProducer', { producerId });
    await waitFor(() => other.c.notifications.find((n) => n.method === 'consumerResumed'), 3000, 'consumerResumed');
    await other.c.ok('pauseConsumer', { consumerId });
    expect(server.rooms.get('validate')!.peers.get(other.peerId)!.consumers.get(consumerId)!.paused).toBe(true);
    await other.c.ok('resumeConsumer', { consumerId });
    expect(server.rooms.get('validate')!.peers.get(other.peerId)!.consumers.get(consumerId)!.paused).toBe(false);
    await other.c.ok('setConsumerPriority', { consumerId, priority: 10 });
  });
});

describe('rooms and limits', () => {
  it('answers room_full beyond the room maximum', async () => {
    const peers = await Promise.all(['a', 'b', 'c'].map((u) => connect('full', u)));
    for (const p of peers) await p.ok('join');
    const late = await connect('full', 'd');
    expect(await late.call('join')).toMatchObject({ ok: false, error: { code: 'room_full' } });
    for (const p of [...peers, late]) p.close();
  });

  it('leave releases every mediasoup object of the peer and tells the others', async () => {
    const a = await joinFully('leave', 'a');
    const b = await joinFully('leave', 'b');
    const { producerId } = await a.c.ok<{ producerId: string }>('produce', { transportId: a.sendId, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(7777) });
    await waitFor(() => b.c.serverRequests.find((r) => r.method === 'newConsumer'), 5000, 'newConsumer');
    const room = server.rooms.get('leave')!;
    await a.c.ok('leave');
    await waitFor(() => b.c.notifications.find((n) => n.method === 'peerLeft'), 3000, 'peerLeft');
    expect(b.c.notifications).toContainEqual({ method: 'peerLeft', data: { peerId: a.peerId } });
    // The worker reports the consumer's end asynchronously.
    await waitFor(() => b.c.notifications.some((n) => n.method === 'consumerClosed'), 3000, 'consumerClosed');
    const dump = await room.router.dump();
    expect(dump.transportIds).not.toContain(a.sendId);
    expect(dump.transportIds).not.toContain(a.recvId);
    expect(dump.transportIds.sort()).toEqual([b.sendId, b.recvId].sort());
    expect(dump.mapProducerIdConsumerIds.map((e) => e.key)).not.toContain(producerId);
    expect(room.peers.get(b.peerId)!.consumers.size).toBe(0);
    // The last one out closes the room and frees its router.
    await b.c.ok('leave');
    expect(server.rooms.get('leave')).toBeUndefined();
    expect(room.router.closed).toBe(true);
    a.c.close();
    b.c.close();
  });

  it('resumes a session on a new socket with the same peer id, unseen by the others', async () => {
    const a = await joinFully('resume', 'a');
    const b = await joinFully('resume', 'b');
    const session = server.rooms.get('resume')!.peers.get(a.peerId)!.sessionToken;
    for (const conn of server.signaling.connections) if (conn.session.peer?.id === a.peerId) conn.terminate();
    await a.c.closed;
    const again = await connect('resume', 'a');
    // A stolen peer id without the session secret resumes nothing.
    expect(await again.call('join', { resume: { peerId: a.peerId, sessionToken: 'x'.repeat(32) } })).toMatchObject({ ok: false, error: { code: 'not_found' } });
    const r = await again.ok<{ peerId: string; resumed: boolean }>('join', { resume: { peerId: a.peerId, sessionToken: session } });
    expect(r).toMatchObject({ peerId: a.peerId, resumed: true });
    expect(await again.call('getTransportStats', { transportId: a.sendId })).toMatchObject({ ok: true });
    // b joined after a, so a is in b's join answer: b sees neither a leave nor a join.
    expect(b.c.notifications.filter((n) => n.method === 'peerLeft' || n.method === 'peerJoined')).toEqual([]);
    again.close();
    b.c.close();
  });
  it('rate limits a flooding socket while another peer stays served', async () => {
    const limited = await startTestServer({ SFU_RATE_LIMIT_PER_SEC: '20', SFU_RATE_LIMIT_BURST: '40' });
    const url = `${limited.wsUrl}?token=`;
    const connectLimited = async (user: string) => {
      const c = await WsClient.connect(url + (await limited.tokens.sign({ room: 'flood', sub: user, name: user, role: 'student' }, 600)));
      await c.ok('join');
      return { c, sendId: (await c.ok<{ id: string }>('createTransport', { direction: 'send' })).id };
    };
    const flooder = await connectLimited('flooder');
    const calm = await connectLimited('calm');
    const burst = Array.from({ length: 120 }, () => flooder.c.call('getTransportStats', { transportId: flooder.sendId }));
    const t0 = performance.now();
    const calmReply = await calm.c.call('getTransportStats', { transportId: calm.sendId });
    const calmMs = performance.now() - t0;
    const replies = await Promise.all(burst);
    const refused = replies.filter((r) => !r.ok && r.error?.code === 'rate_limited').length;
    expect(refused).toBeGreaterThan(50);
    expect(replies.filter((r) => r.ok).length).toBeGreaterThan(0);
    expect(calmReply.ok).toBe(true);
    expect(calmMs).toBeLessThan(2000);
    flooder.c.close();
    calm.c.close();
    await limited.close();
  });

});
