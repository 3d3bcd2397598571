import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consumerFor, errorOf, notified, peerKitFor, produceAudio, produceMic, produceSimulcast, produceVideo, type Joined } from '../helpers/peers.js';
import { vp8RtpParameters } from '../helpers/rtpParameters.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// Receive what is shown, over the protocol against the real server and worker: views (setView)
// pause hidden videos at the server and pick layers by size, the class's video limits, the
// fallback for clients that say nothing, dynacast (layersWanted), and the screen share's sound.
// Packets are in viewMedia.test.ts.
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    SFU_RATE_LIMIT_PER_SEC: '10000',
    SFU_RATE_LIMIT_BURST: '10000',
    SFU_MAX_SCREEN_SHARES: '2',
    SFU_RECORDINGS_DIR: path.join(os.tmpdir(), 'sfu-views-recordings'),
  });
});
afterAll(async () => server?.close());

const { joinFully, closeAll } = peerKitFor(() => server);
afterAll(closeAll);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The server's consumer of `viewer` for `producerId` (once it exists and its client confirmed it). */
async function serverConsumer(room: string, viewer: Joined, producerId: string) {
  const id = await consumerFor(viewer, producerId);
  const peer = () => server.rooms.get(room)!.peers.get(viewer.peerId)!;
  await waitFor(() => peer().consumers.get(id)?.appData.acked, 5000, `consumer ${id} confirmed`);
  return peer().consumers.get(id)!;
}

/** Waits until exactly these of `consumers` (by name) are forwarded, the others paused at the server. */
async function forwarded(consumers: Record<string, { paused: boolean; closed: boolean }>, names: string[]): Promise<void> {
  const now = () =>
    Object.entries(consumers)
      .filter(([, c]) => !c.paused && !c.closed)
      .map(([n]) => n)
      .sort();
  await waitFor(() => JSON.stringify(now()) === JSON.stringify([...names].sort()), 5000, `forwarded: ${names.join(', ')}`).catch(() => {
    throw new Error(`forwarded ${JSON.stringify(now())}, expected ${JSON.stringify([...names].sort())}`);
  });
}

const layersWanted = (p: Joined, producerId: string) =>
  p.c.notifications.filter((n) => n.method === 'layersWanted' && (n.data as { producerId: string }).producerId === producerId).map((n) => (n.data as { spatialLayer: number | null }).spatialLayer);

describe('a view', () => {
  it('pauses the videos it hides at the server, leaves audio alone, and resumes a video shown again', async () => {
    const room = 'view-basic';
    const teacher = await joinFully(room, 't', 'teacher');
    const [a, b] = [await joinFully(room, 'a'), await joinFully(room, 'b')];
    const tCam = await produceSimulcast(teacher);
    const tMic = await produceMic(teacher);
    const aCam = await produceVideo(a);
    const bCam = await produceVideo(b);
    const viewer = await joinFully(room, 'v');
    const c = {
      tCam: await serverConsumer(room, viewer, tCam.producerId),
      tMic: await serverConsumer(room, viewer, tMic.producerId),
      aCam: await serverConsumer(room, viewer, aCam.producerId),
      bCam: await serverConsumer(room, viewer, bCam.producerId),
    };
    // Silent so far: the server's choice for a class this small is everything.
    await forwarded(c, ['tCam', 'tMic', 'aCam', 'bCam']);

    const shown = await viewer.c.request('setView', { videos: [{ consumerId: c.aCam.id, width: 640, height: 360 }], audioOnly: false });
    expect(shown.receiving).toEqual([c.aCam.id]);
    // Applied by the time the answer comes.
    expect([c.tCam.paused, c.aCam.paused, c.bCam.paused, c.tMic.paused]).toEqual([true, false, true, false]);
    // The worker's own view, not only the Node object's.
    expect((await c.bCam.dump()).paused).toBe(true);
    expect((await c.aCam.dump()).paused).toBe(false);

    const all = await viewer.c.request('setView', {
      videos: [c.bCam, c.tCam, c.aCam].map((x) => ({ consumerId: x.id, width: 320, height: 180 })),
      audioOnly: false,
    });
    expect(all.receiving).toEqual([c.bCam.id, c.tCam.id, c.aCam.id]);
    await forwarded(c, ['tCam', 'tMic', 'aCam', 'bCam']);
    // Unknown ids and audio consumers listed are ignored.
    const odd = await viewer.c.request('setView', { videos: [{ consumerId: 'nope', width: 1, height: 1 }, { consumerId: c.tMic.id, width: 1, height: 1 }], audioOnly: false });
    expect(odd.receiving).toEqual([]);
    await forwarded(c, ['tMic']);
  });

  it("a client's own pause holds whatever its view shows; receiving leaves it out", async () => {
    const room = 'view-pause';
    const a = await joinFully(room, 'a');
    const aCam = await produceVideo(a);
    const viewer = await joinFully(room, 'v');
    const cam = await serverConsumer(room, viewer, aCam.producerId);
    await viewer.c.request('pauseConsumer', { consumerId: cam.id });
    expect(cam.paused).toBe(true);
    const shown = await viewer.c.request('setView', { videos: [{ consumerId: cam.id, width: 640, height: 360 }], audioOnly: false });
    expect(shown.receiving).toEqual([]);
    expect(cam.paused).toBe(true);
    await viewer.c.request('resumeConsumer', { consumerId: cam.id });
    expect(cam.paused).toBe(false);
    // Hidden: the client's resume does not override its view.
    await viewer.c.request('setView', { videos: [], audioOnly: false });
    await viewer.c.request('resumeConsumer', { consumerId: cam.id });
    expect(cam.paused).toBe(true);
  });

  it('gives a video the layer that fits its size; a later setConsumerPreferredLayers holds until the size changes', async () => {
    const room = 'view-layers';
    const a = await joinFully(room, 'a');
    const aCam = await produceSimulcast(a);
    const viewer = await joinFully(room, 'v');
    const cam = await serverConsumer(room, viewer, aCam.producerId);
    const show = (width: number) => viewer.c.request('setView', { videos: [{ consumerId: cam.id, width, height: Math.round((width * 9) / 16) }], audioOnly: false });
    await show(160);
    expect(cam.preferredLayers?.spatialLayer).toBe(0);
    await show(640);
    expect(cam.preferredLayers?.spatialLayer).toBe(1);
    await show(1280);
    expect(cam.preferredLayers?.spatialLayer).toBe(2); // the top of three
    await viewer.c.request('setConsumerPreferredLayers', { consumerId: cam.id, spatialLayer: 0 });
    expect(cam.preferredLayers?.spatialLayer).toBe(0);
    await show(1280);
    expect(cam.preferredLayers?.spatialLayer).toBe(0); // the same view again: the explicit choice stays
    await show(400);
    expect(cam.preferredLayers?.spatialLayer).toBe(1);
  });

  it('audio only: no video but screen shares, listed or not; every audio goes on', async () => {
    const room = 'view-audio-only';
    const teacher = await joinFully(room, 't', 'teacher');
    const s = await joinFully(room, 's');
    const tCam = await produceVideo(teacher);
    const tMic = await produceMic(teacher);
    const share = await produceVideo(s, 'screen');
    const shareSound = await produceAudio(s, 'screenAudio');
    const viewer = await joinFully(room, 'v');
    const c = {
      tCam: await serverConsumer(room, viewer, tCam.producerId),
      tMic: await serverConsumer(room, viewer, tMic.producerId),
      share: await serverConsumer(room, viewer, share.producerId),
      shareSound: await serverConsumer(room, viewer, shareSound.producerId),
    };
    const r = await viewer.c.request('setView', { videos: [{ consumerId: c.tCam.id, width: 1280, height: 720 }], audioOnly: true });
    expect(r.receiving).toEqual([c.share.id]);
    await forwarded(c, ['share', 'tMic', 'shareSound']);
    await viewer.c.request('setView', { videos: [{ consumerId: c.tCam.id, width: 1280, height: 720 }], audioOnly: false });
    await forwarded(c, ['tCam', 'tMic', 'shareSound']);
  });
});

describe("the class's video limits", () => {
  it("cut a student's view after the cap (teachers' cameras and screen shares exempt); the teacher changes them for everyone; students may not", async () => {
    const room = 'limits';
    const teacher = await joinFully(room, 't', 'teacher');
    expect(teacher.join.videoLimits).toEqual({ maxVideosPerStudent: 12, maxStudentCameras: 50 });
    const students = [await joinFully(room, 'a'), await joinFully(room, 'b'), await joinFully(room, 'c')];
    const tCam = await produceVideo(teacher);
    const cams = await Promise.all(students.map((s) => produceVideo(s)));
    const share = await produceVideo(students[2]!, 'screen');
    const viewer = await joinFully(room, 'v');
    const coTeacher = await joinFully(room, 't2', 'teacher');
    const c = {
      a: await serverConsumer(room, viewer, cams[0]!.producerId),
      b: await serverConsumer(room, viewer, cams[1]!.producerId),
      c: await serverConsumer(room, viewer, cams[2]!.producerId),
      t: await serverConsumer(room, viewer, tCam.producerId),
      share: await serverConsumer(room, viewer, share.producerId),
    };

    expect(await errorOf(viewer.c, 'setVideoLimits', { maxVideosPerStudent: 1 })).toBe('forbidden');
    const observer = await joinFully(room, 'o', 'observer');
    expect(await errorOf(observer.c, 'setVideoLimits', { maxStudentCameras: 0 })).toBe('forbidden');
    expect(await errorOf(teacher.c, 'setVideoLimits', { maxVideosPerStudent: 0 })).toBe('bad_request');
    const { videoLimits } = await teacher.c.request('setVideoLimits', { maxVideosPerStudent: 1 });
    expect(videoLimits).toEqual({ maxVideosPerStudent: 1, maxStudentCameras: 50 });
    for (const p of [viewer, observer, coTeacher, teacher, ...students]) {
      expect((await notified(p.c, 'videoLimits')).data).toEqual({ videoLimits });
    }

    const view = [c.b, c.a, c.t, c.c, c.share].map((x) => ({ consumerId: x.id, width: 160, height: 90 }));
    const r = await viewer.c.request('setView', { videos: view, audioOnly: false });
    expect(r.receiving).toEqual([c.b.id, c.t.id, c.share.id]);
    await forwarded(c, ['b', 't', 'share']);

    // A teacher is not capped.
    const tc = {
      a: await serverConsumer(room, coTeacher, cams[0]!.producerId),
      b: await serverConsumer(room, coTeacher, cams[1]!.producerId),
      c: await serverConsumer(room, coTeacher, cams[2]!.producerId),
    };
    const r2 = await coTeacher.c.request('setView', { videos: [tc.a, tc.b, tc.c].map((x) => ({ consumerId: x.id, width: 160, height: 90 })), audioOnly: false });
    expect(r2.receiving).toHaveLength(3);

    // Raised: every view is applied again, without a new setView.
    await teacher.c.request('setVideoLimits', { maxVideosPerStudent: 2 });
    await forwarded(c, ['b', 'a', 't', 'share']);
    // A video that goes leaves its place to the next one in the view.
    await students[1]!.c.request('closeProducer', { producerId: cams[1]!.producerId });
    await forwarded(c, ['a', 'c', 't', 'share']);
    // A peer joining later learns the limits in its join answer.
    expect((await joinFully(room, 'late')).join.videoLimits).toEqual({ maxVideosPerStudent: 2, maxStudentCameras: 50 });
  });

  it('refuse a student camera beyond maxStudentCameras with room_full naming the limit; teachers and screen shares do not count', async () => {
    const room = 'cameras';
    const teacher = await joinFully(room, 't', 'teacher');
    await teacher.c.request('setVideoLimits', { maxStudentCameras: 1 });
    const [a, b] = [await joinFully(room, 'a'), await joinFully(room, 'b')];
    await produceVideo(teacher);
    const aCam = await produceVideo(a);
    const refused = await b.c.call('produce', { transportId: b.sendId, kind: 'video', source: 'cam', rtpParameters: vp8RtpParameters(424242) });
    expect(refused.error?.code).toBe('room_full');
    expect(refused.error?.message).toMatch(/1 student camera.*maxStudentCameras/);
    await produceVideo(b, 'screen');
    await produceMic(b);
    // Room again once the first camera goes.
    await a.c.request('closeProducer', { producerId: aCam.producerId });
    await produceVideo(b);
  });

  it('hold when students turn their cameras on at the same moment', async () => {
    const room = 'cameras-at-once';
    const teacher = await joinFully(room, 't', 'teacher');
    await teacher.c.request('setVideoLimits', { maxStudentCameras: 2 });
    const students = await Promise.all([1, 2, 3, 4, 5].map((i) => joinFully(room, `s${i}`)));
    const answers = await Promise.all(students.map((p, i) => p.c.call('produce', { transportId: p.sendId, kind: 'video', source: 'cam', rtpParameters: vp8RtpParameters(600_000 + i) })));
    expect(answers.filter((r) => r.ok)).toHaveLength(2);
    expect(answers.filter((r) => !r.ok).map((r) => r.error?.code)).toEqual(['room_full', 'room_full', 'room_full']);
    expect([...server.rooms.get(room)!.peers.values()].filter((p) => p.producerBySource('cam')).length).toBe(2);
  });
});

describe('the fallback for a client that says nothing', () => {
  it("takes the teachers' cameras and screen shares, then students by join order up to the cap; a video that goes makes room for the next", async () => {
    const room = 'fallback';
    const teacher = await joinFully(room, 't', 'teacher');
    await teacher.c.request('setVideoLimits', { maxVideosPerStudent: 2 });
    const students = [await joinFully(room, 's1'), await joinFully(room, 's2'), await joinFully(room, 's3'), await joinFully(room, 's4')];
    const tCam = await produceVideo(teacher);
    // Published in reverse: join order counts, not publishing order.
    const cams = [];
    for (const s of [...students.slice(0, 3)].reverse()) cams.unshift(await produceVideo(s));
    const share = await produceVideo(students[3]!, 'screen');
    const silent = await joinFully(room, 'silent');
    const c = {
      t: await serverConsumer(room, silent, tCam.producerId),
      s1: await serverConsumer(room, silent, cams[0]!.producerId),
      s2: await serverConsumer(room, silent, cams[1]!.producerId),
      s3: await serverConsumer(room, silent, cams[2]!.producerId),
      share: await serverConsumer(room, silent, share.producerId),
    };
    await forwarded(c, ['t', 'share', 's1', 's2']);
    await students[0]!.c.request('closeProducer', { producerId: cams[0]!.producerId });
    await forwarded(c, ['t', 'share', 's2', 's3']);
    // A teacher saying nothing gets everything.
    const silentTeacher = await joinFully(room, 't2', 'teacher');
    const tc = [await serverConsumer(room, silentTeacher, cams[1]!.producerId), await serverConsumer(room, silentTeacher, cams[2]!.producerId)];
    await waitFor(() => tc.every((x) => !x.paused), 5000, 'every video for a silent teacher');
  });
});

describe('dynacast', () => {
  it('tells the publisher the highest layer anyone receives, null when nobody does, coalesced; a recording wants it whole', async () => {
    const room = 'dynacast';
    const teacher = await joinFully(room, 't', 'teacher');
    const pub = await joinFully(room, 'pub');
    const cam = await produceSimulcast(pub);
    const wanted = () => layersWanted(pub, cam.producerId);
    // The teacher receives it (the fallback shows it): wanted whole, as it started, so nothing is said.
    await sleep(2500);
    expect(wanted()).toEqual([]);

    const tc = await serverConsumer(room, teacher, cam.producerId);
    await teacher.c.request('setView', { videos: [], audioOnly: false });
    await waitFor(() => wanted().length === 1, 3000, 'layersWanted');
    expect(wanted()).toEqual([null]);

    const viewer = await joinFully(room, 'v');
    const vc = await serverConsumer(room, viewer, cam.producerId);
    await waitFor(() => wanted().length === 2, 3000, 'layersWanted');
    expect(wanted()).toEqual([null, 2]); // the silent viewer's fallback shows it whole
    const show = (p: Joined, consumerId: string, width: number) => p.c.request('setView', { videos: [{ consumerId, width, height: Math.round((width * 9) / 16) }], audioOnly: false });
    await show(viewer, vc.id, 160);
    await waitFor(() => wanted().length === 3, 3000, 'layersWanted');
    expect(wanted()).toEqual([null, 2, 0]);
    // The highest of the receivers counts.
    await show(teacher, tc.id, 640);
    await waitFor(() => wanted().length === 4, 3000, 'layersWanted');
    expect(wanted()).toEqual([null, 2, 0, 1]);

    // Changes within the coalescing window go out as one message, with the last state.
    await show(viewer, vc.id, 1280);
    await show(viewer, vc.id, 160);
    await show(viewer, vc.id, 1920);
    await sleep(600);
    expect(wanted()).toEqual([null, 2, 0, 1, 2]);
    // A flap back and forth within the window says nothing.
    await show(viewer, vc.id, 160);
    await show(viewer, vc.id, 1280);
    await sleep(600);
    expect(wanted()).toHaveLength(5);

    await viewer.c.request('setView', { videos: [], audioOnly: false });
    await teacher.c.request('setView', { videos: [], audioOnly: false });
    await waitFor(() => wanted().length === 6, 3000, 'layersWanted');
    expect(wanted().at(-1)).toBeNull();

    // A recording wants every layer of what it records, whoever watches.
    await teacher.c.request('startRecording', {});
    await waitFor(() => wanted().length === 7, 5000, 'layersWanted for the recording');
    expect(wanted().at(-1)).toBe(2);
    await teacher.c.request('stopRecording', {});
    await waitFor(() => wanted().length === 8, 5000, 'layersWanted after the recording');
    expect(wanted().at(-1)).toBeNull();
    // Audio producers are never the subject of layersWanted.
    const mic = await produceMic(pub);
    await sleep(2000);
    expect(layersWanted(pub, mic.producerId)).toEqual([]);
  });
});

describe('a screen share with its sound', () => {
  it('is an audio source of its own: consumed by others, not a screen share of its own, never the active speaker, and stopped with the screen by the teacher', async () => {
    const room = 'screen-audio';
    const teacher = await joinFully(room, 't', 'teacher');
    const s = await joinFully(room, 's');
    expect(await errorOf(s.c, 'produce', { transportId: s.sendId, kind: 'video', source: 'screenAudio', rtpParameters: vp8RtpParameters(515151) })).toBe('bad_request');
    const share = await produceVideo(s, 'screen');
    const sound = await produceAudio(s, 'screenAudio');
    const mic = await produceMic(s);
    // The active speaker observer hears the microphone, not the shared tab.
    const observed = (await server.rooms.get(room)!.router.dump()).mapProducerIdObserverIds.filter((e) => e.values.length > 0).map((e) => e.key);
    expect(observed).toContain(mic.producerId);
    expect(observed).not.toContain(sound.producerId);
    const offered = await waitFor(() => teacher.c.serverRequests.find((r) => r.method === 'newConsumer' && r.data.producerId === sound.producerId)?.data, 5000, 'newConsumer for the sound');
    expect(offered).toMatchObject({ kind: 'audio', source: 'screenAudio', peerId: s.peerId });
    // A second share (SFU_MAX_SCREEN_SHARES=2) is still allowed: a share's sound is not a share.
    const other = await joinFully(room, 'o');
    const otherShare = await produceVideo(other, 'screen');
    await other.c.request('closeProducer', { producerId: otherShare.producerId });

    await teacher.c.request('stopPeerSource', { peerId: s.peerId, source: 'screen' });
    const peer = server.rooms.get(room)!.peers.get(s.peerId)!;
    expect([...peer.producers.values()].map((p) => p.appData.source)).toEqual(['mic']);
    await notified(s.c, 'moderated', (d) => d.source === 'screen');
    await notified(s.c, 'moderated', (d) => d.source === 'screenAudio' && d.producerId === sound.producerId);
    const gone = [await consumerFor(teacher, share.producerId), await consumerFor(teacher, sound.producerId)];
    for (const consumerId of gone) await notified(teacher.c, 'consumerClosed', (d) => d.consumerId === consumerId);
  });
});
