import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Room } from '../../server/rooms/room.js';
import type { RoomRouter } from '../../server/rooms/roomRouters.js';
import { consumerFor, notified as notifiedWhere, peerKitFor, produceMic, produceSimulcast, produceVideo, type Joined } from '../helpers/peers.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// A room spread over two workers, spoken to over the protocol against the real server: with the
// threshold at 4 consumers (each participant counted for at least a camera and a microphone), the
// third participant lands on a router in the other worker, and the room's producers are piped
// between them. Media through the pipes in real browsers is in
// test/e2e/roomSpread.test.ts.
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    SFU_WORKERS: '2',
    SFU_ROOM_ROUTER_MAX_CONSUMERS: '4',
    SFU_RATE_LIMIT_PER_SEC: '10000',
    SFU_RATE_LIMIT_BURST: '10000',
  });
});
afterAll(async () => server?.close());

// Joins with capabilities, a receive transport, then a send transport.
const { joinFully, closeAll } = peerKitFor(() => server);
afterAll(closeAll);

/** Publishes a microphone or a camera; resolves with the producer id. */
const produce = (p: Joined, kind: 'audio' | 'video') => (kind === 'audio' ? produceMic(p) : produceVideo(p)).then((r) => r.producerId);
const notified = (p: Joined, method: string, consumerId: string) => notifiedWhere(p.c, method, (d) => d.consumerId === consumerId);
const homeOf = (room: Room, p: Joined) => room.peers.get(p.peerId)!.home!;
/** The producers (own and piped) a router holds, from the worker's own dump. */
const producersOn = async (rr: RoomRouter) => (await rr.router.dump()).mapProducerIdConsumerIds.map((e) => e.key).sort();

/** Teacher and student A on the first router; student B overflows to the second worker. */
async function spreadRoom(name: string) {
  const t = await joinFully(name, 't', 'teacher');
  const mic = await produce(t, 'audio');
  const cam = await produce(t, 'video');
  const a = await joinFully(name, 'a');
  await consumerFor(a, cam);
  const b = await joinFully(name, 'b');
  const room = server.rooms.get(name)!;
  return { room, t, a, b, mic, cam };
}

describe('a room spread over two workers', () => {
  it('places participants past the threshold on another worker and pipes every producer both ways', async () => {
    const { room, t, a, b, mic, cam } = await spreadRoom('spread');
    const [first, second] = room.routers.all;
    expect(room.routers.all).toHaveLength(2);
    expect(first!.host.index).not.toBe(second!.host.index);
    expect(homeOf(room, t)).toBe(first);
    expect(homeOf(room, a)).toBe(first);
    expect(homeOf(room, b)).toBe(second);
    // Both routers were made from the same codecs: the capabilities every client got hold.
    expect(second!.router.rtpCapabilities).toEqual(first!.router.rtpCapabilities);

    // B consumes the teacher's producers through pipes on its own router.
    const bMic = await consumerFor(b, mic);
    const bCam = await consumerFor(b, cam);
    expect(await producersOn(second!)).toEqual([mic, cam].sort());
    const bRecv = await room.peers.get(b.peerId)!.transports.get(b.recvId)!.dump();
    expect(bRecv.consumerIds.sort()).toEqual([bMic, bCam].sort());

    // B's own microphone reaches the teacher and A on the first router.
    const bAudio = await produce(b, 'audio');
    await consumerFor(t, bAudio);
    await consumerFor(a, bAudio);
    expect(await producersOn(first!)).toContain(bAudio);

    // Pausing and resuming the teacher's camera reaches B across the pipe.
    await t.c.ok('pauseProducer', { producerId: cam });
    await notified(b, 'consumerPaused', bCam);
    await t.c.ok('resumeProducer', { producerId: cam });
    await notified(b, 'consumerResumed', bCam);

    // Closing the camera closes its pipe: B's consumer ends and the second router no longer has it.
    await t.c.ok('closeProducer', { producerId: cam });
    await notified(b, 'consumerClosed', bCam);
    await waitFor(async () => !(await producersOn(second!)).includes(cam), 3000, 'pipe producer closed');

    // B, the only one on the second router, leaves: its producer's pipe goes, the others hear it,
    // and the router (with its pipe transports on both sides) closes.
    const tConsumerOfB = await consumerFor(t, bAudio);
    await b.c.ok('leave');
    await notified(t, 'consumerClosed', tConsumerOfB);
    expect(room.routers.all).toEqual([first]);
    expect(second!.router.closed).toBe(true);
    const dump = await first!.router.dump();
    expect(await producersOn(first!)).toEqual([mic]);
    // Only the four WebRTC transports of T and A remain: the pipe transport went with its pair.
    expect(dump.transportIds.sort()).toEqual([t.sendId, t.recvId, a.sendId, a.recvId].sort());
    expect(dump.mapProducerIdConsumerIds.find((e) => e.key === mic)?.values).toHaveLength(1);
    expect(first!.consumers).toBe(1); // A's consumer of the teacher's microphone

    // A newcomer: the first router is full again by projection (T and A, each counted for at
    // least a camera and a microphone), so a router opens on the other worker again.
    const c = await joinFully('spread', 'c');
    const third = homeOf(room, c);
    expect(third).not.toBe(first);
    await consumerFor(c, mic);
    for (const p of [t, a, c]) await p.c.ok('leave');
    expect(server.rooms.get('spread')).toBeUndefined();
    expect(third.router.closed && first!.router.closed).toBe(true);
  });

  it('students who arrive before anything is published are spread by head count', async () => {
    const early = [];
    for (const u of ['s1', 's2', 's3']) early.push(await joinFully('early', u));
    const room = server.rooms.get('early')!;
    const [s1, s2, s3] = early.map((p) => homeOf(room, p));
    expect(s1).toBe(room.routers.primary);
    expect(s2).toBe(room.routers.primary);
    expect(s3).not.toBe(room.routers.primary);
    // The teacher publishes afterwards: everyone receives, whichever router they are on.
    const t = await joinFully('early', 't', 'teacher');
    const mic = await produce(t, 'audio');
    for (const p of early) await consumerFor(p, mic);
    for (const p of [...early, t]) await p.c.ok('leave');
  });

  it("views and dynacast hold across routers: a hidden video is paused on the other worker, and the publisher hears the layer a receiver there wants", async () => {
    const t = await joinFully('spread-views', 't', 'teacher');
    const cam = (await produceSimulcast(t)).producerId;
    const a = await joinFully('spread-views', 'a');
    const b = await joinFully('spread-views', 'b');
    const room = server.rooms.get('spread-views')!;
    expect(homeOf(room, b)).toBe(room.routers.all[1]);
    const [aCam, bCam] = [await consumerFor(a, cam), await consumerFor(b, cam)];
    await waitFor(() => room.peers.get(b.peerId)!.consumers.get(bCam)?.appData.acked, 5000, "B's consumer confirmed");
    const wanted = () => t.c.notifications.filter((n) => n.method === 'layersWanted').map((n) => (n.data as { spatialLayer: number | null }).spatialLayer);
    await a.c.request('setView', { videos: [], audioOnly: false });
    await b.c.request('setView', { videos: [{ consumerId: bCam, width: 160, height: 90 }], audioOnly: false });
    expect(room.peers.get(a.peerId)!.consumers.get(aCam)!.paused).toBe(true);
    expect(room.peers.get(b.peerId)!.consumers.get(bCam)!.paused).toBe(false);
    await waitFor(() => wanted().length === 1, 5000, 'layersWanted');
    expect(wanted()).toEqual([0]);
    await b.c.request('setView', { videos: [], audioOnly: false });
    expect((await room.peers.get(b.peerId)!.consumers.get(bCam)!.dump()).paused).toBe(true);
    await waitFor(() => wanted().length === 2, 5000, 'layersWanted');
    expect(wanted()).toEqual([0, null]);
  });

  it('a worker of the second router dying drops only the peers on it; the room goes on', async () => {
    const { room, t, a, b, mic } = await spreadRoom('spread-death');
    const second = homeOf(room, b);
    await consumerFor(b, mic);
    process.kill(second.host.worker.pid, 'SIGKILL');
    // B is told to reconnect (1001: the SDK rejoins afresh); the others stay.
    expect((await b.c.closed).code).toBe(1001);
    await waitFor(() => t.c.notifications.some((n) => n.method === 'peerLeft' && (n.data as { peerId: string }).peerId === b.peerId), 5000, 'peerLeft');
    expect(room.closed).toBe(false);
    expect(room.routers.all).toHaveLength(1);
    expect(room.peers.has(t.peerId) && room.peers.has(a.peerId)).toBe(true);
    // The pool replaces the worker; a newcomer is placed on it and receives the teacher's audio.
    await waitFor(() => server.pool.workers.every((w) => !w.worker.died), 10_000, 'replacement worker');
    const d = await joinFully('spread-death', 'd');
    await consumerFor(d, mic);
    expect(room.routers.all).toHaveLength(2);
    for (const p of [t, a, d]) await p.c.ok('leave');
  });
});
