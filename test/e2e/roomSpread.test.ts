import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoomRouter } from '../../server/rooms/roomRouters.js';
import { launchChromium } from '../helpers/browser.js';
import { expectFlowing, openClassPage, peerIdOf, waitForVideosOf } from '../helpers/classPage.js';
import { decode, makeWav, probe, speechLikeSignal } from '../helpers/media.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// A class spread over two workers in real Chromium: with the threshold at 4 consumers per router,
// the third participant is placed on a router in the other worker, and every producer is piped
// across. Each participant must decode everyone else's video and receive their audio; the active
// speaker, detected on the first router, must be the one on the second router (the only one with
// a loud microphone); and leaving must take each publisher's pipes with it. A recording of such a
// class consumes on the first router: the participant on the second is recorded through the pipe.
let url: string;
const room = 'spread-class';
let dir: string;
let recordings: string;
let server: TestServer;
let quietBrowser: Browser;
let loudBrowser: Browser;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-spread-'));
  const loud = path.join(dir, 'loud.wav');
  const quiet = path.join(dir, 'silent.wav');
  await makeWav(loud, `aevalsrc=${speechLikeSignal}:s=48000`);
  await makeWav(quiet, 'anullsrc=r=48000:cl=mono');
  recordings = path.join(dir, 'recordings');
  server = await startTestServer({
    SFU_WORKERS: '2',
    SFU_ROOM_ROUTER_MAX_CONSUMERS: '4',
    SFU_RECORDINGS_DIR: recordings,
  });
  url = server.url;
  [quietBrowser, loudBrowser] = await Promise.all([
    launchChromium(['--autoplay-policy=no-user-gesture-required', `--use-file-for-fake-audio-capture=${quiet}`]),
    launchChromium(['--autoplay-policy=no-user-gesture-required', `--use-file-for-fake-audio-capture=${loud}`]),
  ]);
});
afterAll(async () => {
  await quietBrowser?.close();
  await loudBrowser?.close();
  await server?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Every listed peer's video appears on `page`, then its frames and audio packets advance, second by second. */
async function videosFlowing(page: Page, peers: string[], seconds: number): Promise<void> {
  await waitForVideosOf(page, peers);
  await expectFlowing(page, peers, seconds);
}

/** The producers, own and piped, a router holds (from the worker's dump). */
const producersOn = async (rr: RoomRouter) => (await rr.router.dump()).mapProducerIdConsumerIds.map((e) => e.key).sort();
const producersOf = (peerId: string) => [...server.rooms.get(room)!.peers.get(peerId)!.producers.keys()];

describe('a class spread over two workers, in real Chromium', () => {
  it('everyone sees and hears everyone across the pipes, the active speaker is found across them, and leaving closes the pipes', async () => {
    // Teachers publish unmuted whatever the policy; the loud one joins last, so it overflows.
    const ada = await openClassPage(quietBrowser, url, room, 'Ada', 'teacher');
    const ben = await openClassPage(quietBrowser, url, room, 'Ben', 'teacher');
    const cy = await openClassPage(loudBrowser, url, room, 'Cy', 'teacher');
    const [adaId, benId, cyId] = (await Promise.all([ada, ben, cy].map(peerIdOf))) as [string, string, string];
    const r = server.rooms.get(room)!;
    const [first, second] = r.routers.all;
    expect(r.routers.all).toHaveLength(2);
    expect(r.peers.get(adaId)!.home).toBe(first);
    expect(r.peers.get(benId)!.home).toBe(first);
    expect(r.peers.get(cyId)!.home).toBe(second);
    expect(first!.host.index).not.toBe(second!.host.index);

    // Media across the pipes, both ways, for 3 s on every page.
    await Promise.all([
      videosFlowing(ada, [benId, cyId], 3),
      videosFlowing(ben, [adaId, cyId], 3),
      videosFlowing(cy, [adaId, benId], 3),
    ]);

    // The speaker observer lives on the first router and hears Cy through the pipe.
    await waitFor(() => r.activeSpeaker === cyId, 15_000, 'Cy named active speaker');
    expect(await ada.evaluate(() => [...document.querySelectorAll<HTMLElement>('figure.tile.speaking')].map((t) => t.dataset.peerId))).toEqual([cyId]);

    // Ada (first router) leaves: her producers' pipes close on the second router too.
    const adaProducers = producersOf(adaId);
    expect(adaProducers).toHaveLength(2);
    await ada.evaluate(() => window.classroom!.leave());
    await waitFor(async () => (await producersOn(second!)).every((id) => !adaProducers.includes(id)), 5000, "Ada's pipes closed");
    // Each router holds Ben's and Cy's producers: its own peer's, and the other's through a pipe.
    const left = [...producersOf(benId), ...producersOf(cyId)].sort();
    expect(await producersOn(second!)).toEqual(left);
    expect(await producersOn(first!)).toEqual(left);

    // Cy, the last one on the second router, leaves: that router closes, and with it the pipe
    // transports; the first router holds Ben's own transports and producers only.
    await cy.evaluate(() => window.classroom!.leave());
    await waitFor(() => second!.router.closed, 5000, 'second router closed');
    expect(r.routers.all).toEqual([first]);
    await waitFor(async () => (await first!.router.dump()).transportIds.length === 2, 5000, "only Ben's transports left");
    expect(await producersOn(first!)).toEqual(producersOf(benId).sort());
    expect(first!.consumers).toBe(0);
    await ben.evaluate(() => window.classroom!.leave());
    await waitFor(() => server.rooms.get(room) === undefined, 5000, 'room closed');
    expect(first!.router.closed).toBe(true);
  });

  it('a recording of the spread class holds everyone, the participant on the second router included, and decodes cleanly', async () => {
    const recRoom = 'spread-recorded';
    const ada = await openClassPage(quietBrowser, url, recRoom, 'Ada', 'teacher');
    const ben = await openClassPage(quietBrowser, url, recRoom, 'Ben', 'teacher');
    const cy = await openClassPage(loudBrowser, url, recRoom, 'Cy', 'teacher');
    const ids = (await Promise.all([ada, ben, cy].map(peerIdOf))) as [string, string, string];
    const r = server.rooms.get(recRoom)!;
    const [first, second] = r.routers.all;
    expect(r.peers.get(ids[2])!.home).toBe(second);
    await waitForVideosOf(ada, [ids[1], ids[2]]);

    const id = await ada.evaluate(() => window.classroom!.startRecording());
    await waitFor(() => server.recordings.activeFor(recRoom)?.ffmpegPids.length === 3, 15_000, 'an ffmpeg per participant');
    // The recorder's PlainTransports are on the first router; Cy's producers reach it through the pipe.
    expect((await first!.router.dump()).transportIds.length).toBeGreaterThan((await second!.router.dump()).transportIds.length);
    await new Promise((res) => setTimeout(res, 6000));
    await ada.evaluate(() => window.classroom!.stopRecording());
    const meta = await waitFor(() => {
      const m = server.recordings.get(id);
      return m.state === 'stopped' ? m : undefined;
    }, 15_000, 'recording stopped');

    expect(meta.files.map((f) => f.peerId).sort()).toEqual([...ids].sort());
    for (const f of meta.files) {
      expect(f.sources.sort()).toEqual(['cam', 'mic']);
      const file = path.join(recordings, meta.id, f.name);
      const info = await probe(file);
      expect(info.streams.map((st) => st.type).sort(), f.peerId).toEqual(['audio', 'video']);
      const decoded = await decode(file);
      expect(decoded.errors, f.peerId).toBe('');
      // 6 s of a 20 fps camera: well over 60 frames, whichever router the participant is on.
      expect(decoded.videoFrames, f.peerId).toBeGreaterThan(60);
    }
    for (const page of [ada, ben, cy]) await page.evaluate(() => window.classroom!.leave());
    await waitFor(() => server.rooms.get(recRoom) === undefined, 5000, 'room closed');
  });
});
