import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Source } from '../../protocol/schema.js';
import { launchChromium } from '../helpers/browser.js';
import { openClassPage, peerIdOf, videoSamples } from '../helpers/classPage.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// What a Chromium publisher sends, seen at the server and by the others: the camera at 1280x720
// in three simulcast layers, a screen share at its native size, and the share's sound as a
// source of its own (getDisplayMedia's audio: headless Chromium's fake devices give one).
let server: TestServer;
let browser: Browser;
let teacher: Page;
let student: Page;
let viewer: Page;
let teacherId: string;
let studentId: string;

beforeAll(async () => {
  server = await startTestServer();
  browser = await launchChromium(['--autoplay-policy=no-user-gesture-required'], { fps: 30 });
  teacher = await openClassPage(browser, server.url, 'hd', 'Tess', 'teacher', { hd: true });
  student = await openClassPage(browser, server.url, 'hd', 'Stu');
  // Only the teacher's camera in the room: the machine encodes one 720p picture, not two.
  await student.evaluate(() => window.classroom!.unpublish('cam'));
  viewer = await openClassPage(browser, server.url, 'hd', 'Vi', 'observer');
  [teacherId, studentId] = await Promise.all([peerIdOf(teacher), peerIdOf(student)]);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const producerOf = (peerId: string, source: Source) => server.rooms.get('hd')!.peers.get(peerId)!.producerBySource(source);

/** The server's receive stats of one producer: bytes so far per simulcast stream (rid). */
async function bytesByStream(peerId: string, source: Source): Promise<Map<string, number>> {
  const stats = (await producerOf(peerId, source)?.getStats()) ?? [];
  return new Map(stats.map((s) => [s.rid ?? String(s.ssrc), s.byteCount]));
}

/** Audio RTP packets `page` received so far of one peer's source (undefined: no such track). */
const packetsOf = (page: Page, peerId: string, source: Source) =>
  page.evaluate(
    async ({ peerId, source }) => {
      const t = window.classroom!.remoteTracks.find((r) => r.peerId === peerId && r.source === source);
      if (!t) return undefined;
      let packets = 0;
      (await window.classroom!.getRemoteStats(t.consumerId)).forEach((s: { type: string; packetsReceived?: number }) => {
        if (s.type === 'inbound-rtp') packets = s.packetsReceived ?? 0;
      });
      return packets;
    },
    { peerId, source },
  );

const hasTrack = (page: Page, peerId: string, source: Source) =>
  page.evaluate(({ peerId, source }) => window.classroom!.remoteTracks.some((r) => r.peerId === peerId && r.source === source), { peerId, source });

describe('a Chromium publisher', () => {
  it("a teacher's 1280x720 camera arrives in three layers at the server", async () => {
    const settings = await teacher.evaluate(() => window.classroom!.localTrack('cam')!.getSettings());
    expect([settings.width, settings.height]).toEqual([1280, 720]);
    const encodings = producerOf(teacherId, 'cam')!.rtpParameters.encodings!;
    expect(encodings.map((e) => e.scaleResolutionDownBy)).toEqual([8, 2, 1]);
    // Every layer's bytes grow over one second. On loopback bandwidth is no limit (the SDK starts
    // at 1 Mbit/s and the estimate passes the 1.3 Mbit/s that turns the top layer on within a
    // second); but on a loaded machine the first round trips can take a few hundred ms, the
    // server rates the uplink poor, and the SDK sends the lowest layer only until the uplink has
    // been good for a few rounds again: hence the long wait.
    await waitFor(async () => {
      const before = await bytesByStream(teacherId, 'cam');
      await new Promise((r) => setTimeout(r, 1000));
      const after = await bytesByStream(teacherId, 'cam');
      return [...after].filter(([stream, bytes]) => bytes > (before.get(stream) ?? 0)).length === 3;
    }, 40_000, 'three layers flowing into the server');
    // The top layer is the whole picture: a viewer given the best layer decodes 1280 px.
    await waitFor(async () => (await videoSamples(viewer)).find((v) => v.peerId === teacherId)?.width === 1280, 20_000, 'the 1280 px layer at the viewer');
  });

  it('a screen share goes at its native size, as one layer for detail with a bitrate cap', async () => {
    await teacher.evaluate(() => window.classroom!.publishScreen({ audio: true }));
    const track = await teacher.evaluate(() => {
      const t = window.classroom!.localTrack('screen')!;
      return { hint: t.contentHint, constraints: t.getConstraints() };
    });
    expect(track.hint).toBe('detail');
    expect(track.constraints).toEqual({});
    const encodings = producerOf(teacherId, 'screen')!.rtpParameters.encodings!;
    expect(encodings).toHaveLength(1);
    expect(encodings[0]!.maxBitrate).toBe(2_500_000);
    const screenAtViewer = () =>
      viewer.evaluate((id) => {
        const v = document.querySelector<HTMLVideoElement>(`video[data-peer-id="${id}"][data-source="screen"]`);
        return v ? { frames: v.getVideoPlaybackQuality().totalVideoFrames, width: v.videoWidth } : undefined;
      }, teacherId);
    // Headless Chromium's fake screen is 1280x720: it arrives whole.
    await waitFor(async () => ((await screenAtViewer())?.frames ?? 0) > 0, 20_000, 'the screen at the viewer');
    expect((await screenAtViewer())!.width).toBe(1280);
  });

  it('screen share with audio: its audio reaches the others', async () => {
    expect(producerOf(teacherId, 'screenAudio')?.kind).toBe('audio');
    for (const page of [student, viewer]) {
      const first = await waitFor(() => packetsOf(page, teacherId, 'screenAudio'), 10_000, 'the screen audio track');
      await waitFor(async () => ((await packetsOf(page, teacherId, 'screenAudio')) ?? 0) > first + 20, 10_000, 'screen audio packets arriving');
    }
    // Its own element on the demo page, as any remote audio.
    expect(await viewer.locator(`audio[data-peer-id="${teacherId}"][data-source="screenAudio"]`).count()).toBe(1);
  });

  it('the sound ends with the share: when the browser ends it, and when the teacher stops it', async () => {
    // The user pressed the browser's own "Stop sharing": the screen track ends.
    await teacher.evaluate(() => window.classroom!.localTrack('screen')!.dispatchEvent(new Event('ended')));
    await waitFor(() => !producerOf(teacherId, 'screen') && !producerOf(teacherId, 'screenAudio'), 5000, "the teacher's share and its sound gone at the server");
    await waitFor(async () => !(await hasTrack(viewer, teacherId, 'screenAudio')) && !(await hasTrack(viewer, teacherId, 'screen')), 5000, 'both gone at the viewer');

    // A student shares with sound; the teacher stops the share.
    await student.evaluate(() => window.classroom!.publishScreen({ audio: true }));
    await waitFor(() => hasTrack(viewer, studentId, 'screenAudio'), 10_000, "the student's screen audio at the viewer");
    await teacher.evaluate((id) => window.classroom!.stopPeerSource(id, 'screen'), studentId);
    await waitFor(() => !producerOf(studentId, 'screen') && !producerOf(studentId, 'screenAudio'), 5000, "the student's share and its sound gone at the server");
    await waitFor(async () => !(await hasTrack(viewer, studentId, 'screenAudio')), 5000, 'the sound gone at the viewer');
    expect(await student.evaluate(() => [window.classroom!.localTrack('screen'), window.classroom!.localTrack('screenAudio')])).toEqual([null, null]);
  });
});
