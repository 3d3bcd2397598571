import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { openClassPage, peerIdOf } from '../helpers/classPage.js';
import { makeWav, speechLikeSignal } from '../helpers/media.js';
import { consumerFor, peerKitFor, produceVideo } from '../helpers/peers.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// Active-speaker detection end to end: two real Chromium publishers, one sending loud speech-like
// audio and one digital silence (each browser reads its microphone from a WAV file), and the
// room's ActiveSpeakerObserver, fed by the ssrc-audio-level header extension Chromium sends, must
// name the loud one.
let url: string;
const room = 'speakers';
let dir: string;
let server: TestServer;
let loudBrowser: Browser;
let quietBrowser: Browser;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-speakers-'));
  const loud = path.join(dir, 'loud.wav');
  const quiet = path.join(dir, 'silent.wav');
  await makeWav(loud, `aevalsrc=${speechLikeSignal}:s=48000`);
  await makeWav(quiet, 'anullsrc=r=48000:cl=mono');
  server = await startTestServer();
  url = server.url;
  // The fake-capture file is a browser-wide flag: one browser per microphone.
  [loudBrowser, quietBrowser] = await Promise.all([launchChromium([`--use-file-for-fake-audio-capture=${loud}`]), launchChromium([`--use-file-for-fake-audio-capture=${quiet}`])]);
});
const kit = peerKitFor(() => server);
afterAll(async () => {
  kit.closeAll();
  await loudBrowser?.close();
  await quietBrowser?.close();
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts recording every `activeSpeaker` event the page's SDK emits, with the time it came. */
async function recordSpeakers(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { speakers: { peerId: string | null; at: number }[] };
    w.speakers = [];
    window.classroom!.on('activeSpeaker', (peerId) => w.speakers.push({ peerId, at: Date.now() }));
  });
}

const speakersSeen = (page: Page) => page.evaluate(() => (window as unknown as { speakers: { peerId: string | null; at: number }[] }).speakers);

/** The peer ids of the tiles the demo page highlights as speaking. */
const speakingTiles = (page: Page) => page.evaluate(() => [...document.querySelectorAll<HTMLElement>('figure.tile.speaking')].map((t) => t.dataset.peerId));

describe('active speaker in real Chromium', () => {
  it('of a silent and a loud publisher, the loud one becomes dominant within seconds and stays so', async () => {
    // A listen-only observer joins first and hears every notification of the room.
    const observer = await openClassPage(quietBrowser, url, room, 'Watcher', 'observer');
    await recordSpeakers(observer);

    // Publishers are teachers, so that no room policy (such as students joining muted) pauses
    // their microphones: the observer ignores paused producers.
    const quiet = await openClassPage(quietBrowser, url, room, 'Quiet', 'teacher');
    const quietId = await peerIdOf(quiet);
    await recordSpeakers(quiet);
    // Alone, the silent publisher is dominant by default: the loud one must take over from it,
    // which only its audio levels can make happen.
    await waitFor(async () => (await speakersSeen(observer)).length > 0, 10_000, 'the first activeSpeaker');
    expect((await speakersSeen(observer)).map((s) => s.peerId)).toEqual([quietId]);

    const loud = await openClassPage(loudBrowser, url, room, 'Loud', 'teacher');
    const loudId = await peerIdOf(loud);
    await waitFor(async () => (await speakersSeen(observer)).some((s) => s.peerId === loudId), 10_000, 'the loud publisher named dominant');

    // It stays dominant: over 5 s, nobody else is named, on any page.
    await recordSpeakers(loud);
    await sleep(5000);
    const seen = await speakersSeen(observer);
    expect(seen.map((s) => s.peerId), `the observer saw ${JSON.stringify(seen)}`).toEqual([quietId, loudId]);
    const onQuiet = (await speakersSeen(quiet)).map((s) => s.peerId);
    expect(onQuiet.at(-1)).toBe(loudId);
    expect(onQuiet.slice(onQuiet.indexOf(loudId))).toEqual([loudId]);
    expect((await speakersSeen(loud)).map((s) => s.peerId)).not.toContain(quietId);

    // The demo page highlights the loud publisher's tile, and only it, for the others.
    expect(await speakingTiles(quiet)).toEqual([loudId]);
    expect(await speakingTiles(observer)).toEqual([loudId]);
  });

  it("a client that never says what it shows gets the teacher's camera, then the recent speaker's, within the cap", async () => {
    const fallbackRoom = 'speakers-fallback';
    // A protocol teacher, camera on, and a cap of one student camera per student.
    const teacher = await kit.joinFully(fallbackRoom, 'teacher', 'teacher');
    await teacher.c.request('setVideoLimits', { maxVideosPerStudent: 1 });
    const teacherCam = await produceVideo(teacher);
    // Students in real Chromium, camera and microphone on: the quiet one joins first, so join order
    // alone would pick its camera; only the loud one's speaking puts it first.
    const quietId = await peerIdOf(await openClassPage(quietBrowser, url, fallbackRoom, 'Quiet', 'student'));
    const loudId = await peerIdOf(await openClassPage(loudBrowser, url, fallbackRoom, 'Loud', 'student'));
    const classRoom = server.rooms.get(fallbackRoom)!;
    await waitFor(() => classRoom.activeSpeaker === loudId, 15_000, 'the loud student dominant');

    // A silent protocol student (no setView): the server chooses for it.
    const silent = await kit.joinFully(fallbackRoom, 'silent', 'student');
    const camOf = (peerId: string) => classRoom.peers.get(peerId)!.producerBySource('cam')!.id;
    const consumers = {
      teacher: await consumerFor(silent, teacherCam.producerId),
      loud: await consumerFor(silent, camOf(loudId)),
      quiet: await consumerFor(silent, camOf(quietId)),
    };
    const forwarded = () => {
      const mine = classRoom.peers.get(silent.peerId)!.consumers;
      return Object.entries(consumers)
        .filter(([, id]) => mine.get(id)?.appData.acked && !mine.get(id)!.paused)
        .map(([who]) => who)
        .sort();
    };
    await waitFor(() => forwarded().join() === 'loud,teacher', 5000, "the teacher's and the loud student's cameras").catch(() => {
      throw new Error(`forwarded: ${forwarded().join()}`);
    });
    expect(classRoom.peers.get(silent.peerId)!.consumers.get(consumers.quiet)!.paused).toBe(true);
  });
});
