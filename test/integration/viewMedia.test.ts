import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Loadgen, type LoadgenStats } from '../../bench/lib/loadgen.js';
import { audioRate, defaultLayers, signToken, startPublisher, startSubscriber, type Publisher, type PublisherOptions, type Subscriber } from '../../bench/lib/participants.js';
import { peerKitFor } from '../helpers/peers.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// Receive what is shown, in packets: the load generator's publishers send audio and 3-layer
// simulcast, its subscribers count what arrives per SSRC. A video a subscriber's view hides gets
// nothing, one shown again is back within a bound, sizes pick layers, audio only keeps the screen
// share. (A screen share's sound in the recording: test/e2e/pictureQuality.test.ts, with real VP8:
// ffmpeg cannot write the load generator's synthetic frames into a file.)
const secret = 'view-media-test-secret-0123456789-abcdef';
let server: TestServer;
let loadgen: Loadgen;
let dir: string;
const people: (Publisher | Subscriber)[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-view-media-'));
  server = await startTestServer({ SFU_JWT_SECRET: secret, SFU_RECORDINGS_DIR: dir, SFU_RATE_LIMIT_PER_SEC: '10000', SFU_RATE_LIMIT_BURST: '10000' });
  loadgen = await Loadgen.start();
}, 120_000);
afterAll(async () => {
  kit.closeAll();
  for (const p of people) await p.close().catch(() => undefined);
  await loadgen?.stop();
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});
const kit = peerKitFor(() => server);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Role = 'teacher' | 'student';
async function publisher(room: string, name: string, role: Role, more: Partial<PublisherOptions> = {}): Promise<Publisher> {
  const token = await signToken(secret, { room, sub: name, name, role }, 600);
  // Key frames only when the server asks: video that comes back shows the server asked at once.
  const p = await startPublisher({ wsUrl: server.wsUrl, token, loadgen, name, keyFrameIntervalMs: 0, ...more });
  people.push(p);
  return p;
}
async function subscriber(room: string, name: string, consumers: number): Promise<Subscriber> {
  const sub = await startSubscriber({ wsUrl: server.wsUrl, token: await signToken(secret, { room, sub: name, name, role: 'student' }, 600), loadgen, name });
  people.push(sub);
  await waitFor(() => sub.consumers.size === consumers, 10_000, `${consumers} consumers for ${name}`);
  return sub;
}

/** The subscriber's consumer of `producerId`. */
const consumerOf = (sub: Subscriber, producerId: string | undefined) => [...sub.consumers.values()].find((c) => c.producerId === producerId)!;
/** Packets the subscriber's session got on `ssrc` so far. */
const packets = (s: LoadgenStats, sub: Subscriber, ssrc: number) => s.sessions.find((x) => x.id === sub.sessionId)?.ssrcs.find(([x]) => x === ssrc)?.[1] ?? 0;

/** Packets per second each of `producers` arrives with at `sub`, over `ms`. */
async function rates(sub: Subscriber, producers: Record<string, string | undefined>, ms = 2000): Promise<Record<string, number>> {
  const s0 = await loadgen.stats();
  await sleep(ms);
  const s1 = await loadgen.stats();
  const secs = (s1.t - s0.t) / 1000;
  return Object.fromEntries(
    Object.entries(producers).map(([name, id]) => {
      const { ssrc } = consumerOf(sub, id);
      return [name, (packets(s1, sub, ssrc) - packets(s0, sub, ssrc)) / secs];
    }),
  );
}

/** The server's consumer object (paused state, layers). */
const serverConsumer = (room: string, sub: Subscriber, producerId: string | undefined) => server.rooms.get(room)!.peers.get(sub.peerId)!.consumers.get(consumerOf(sub, producerId).id)!;

describe('a subscriber that says what it shows', () => {
  const room = 'view-media';
  let t: Publisher, a: Publisher, b: Publisher, v: Subscriber;

  beforeAll(async () => {
    t = await publisher(room, 't', 'teacher');
    a = await publisher(room, 'a', 'student');
    b = await publisher(room, 'b', 'student');
    v = await subscriber(room, 'v', 6);
    // Silent so far: everything is forwarded.
    await waitFor(async () => Object.values(await rates(v, { t: t.videoProducerId, a: a.videoProducerId, b: b.videoProducerId }, 500)).every((r) => r > 0), 10_000, 'every video arriving');
  });

  it('gets no packets for the videos it hides while the shown one and every audio arrive; a video shown again is back within a second', async () => {
    const receiving = await v.setView([{ consumerId: consumerOf(v, a.videoProducerId).id, width: 1280 }]);
    expect(receiving).toEqual([consumerOf(v, a.videoProducerId).id]);
    await sleep(300); // what was in flight
    const r = await rates(v, { tCam: t.videoProducerId, aCam: a.videoProducerId, bCam: b.videoProducerId, tMic: t.audioProducerId, aMic: a.audioProducerId, bMic: b.audioProducerId });
    expect(r.tCam, 'hidden teacher camera').toBe(0);
    expect(r.bCam, 'hidden student camera').toBe(0);
    expect(r.aCam, 'shown camera').toBeGreaterThan(0.8 * defaultLayers[2]!.rate);
    for (const mic of [r.tMic, r.aMic, r.bMic]) expect(mic).toBeGreaterThan(0.9 * audioRate);
    expect(serverConsumer(room, v, b.videoProducerId).paused).toBe(true);

    // Shown again: B's publisher sends key frames only when asked, so packets arriving means the
    // server asked for one as it resumed.
    const bSsrc = consumerOf(v, b.videoProducerId).ssrc;
    const before = packets(await loadgen.stats(), v, bSsrc);
    const t0 = Date.now();
    await v.setView([a, b].map((p) => ({ consumerId: consumerOf(v, p.videoProducerId).id, width: 1280 })));
    await waitFor(async () => packets(await loadgen.stats(), v, bSsrc) > before, 3000, "B's video arriving again");
    expect(Date.now() - t0, 'ms until the video shown again arrives').toBeLessThan(1000);
  });

  it('receives the layer that fits the size it shows a video at', async () => {
    const aCam = () => serverConsumer(room, v, a.videoProducerId);
    await v.setView([{ consumerId: aCam().id, width: 160 }]);
    await waitFor(() => aCam().currentLayers?.spatialLayer === 0 && consumerOf(v, a.videoProducerId).spatialLayer === 0, 5000, 'layer 0 for a 160 px tile');
    await sleep(300);
    const small = (await rates(v, { a: a.videoProducerId })).a;
    expect(small).toBeGreaterThan(0.8 * defaultLayers[0]!.rate);
    expect(small).toBeLessThan(1.3 * defaultLayers[0]!.rate);

    await v.setView([{ consumerId: aCam().id, width: 1280 }]);
    await waitFor(() => aCam().currentLayers?.spatialLayer === 2 && consumerOf(v, a.videoProducerId).spatialLayer === 2, 5000, 'the top layer for the stage');
    await sleep(300);
    expect((await rates(v, { a: a.videoProducerId })).a).toBeGreaterThan(0.8 * defaultLayers[2]!.rate);
  });

  it('audio only: no video but the screen share; its sound and every microphone go on', async () => {
    const s = await publisher(room, 's', 'student', { videoSource: 'screen', audioSource: 'screenAudio' });
    await waitFor(() => v.consumers.size === 8, 10_000, "the share's consumers");
    const receiving = await v.setView([], true);
    expect(receiving).toEqual([consumerOf(v, s.videoProducerId).id]);
    await sleep(300);
    const r = await rates(v, { tCam: t.videoProducerId, aCam: a.videoProducerId, share: s.videoProducerId, sound: s.audioProducerId, tMic: t.audioProducerId, aMic: a.audioProducerId });
    expect([r.tCam, r.aCam]).toEqual([0, 0]);
    expect(r.share).toBeGreaterThan(0);
    for (const audio of [r.sound, r.tMic, r.aMic]) expect(audio).toBeGreaterThan(0.9 * audioRate);
  });
});
