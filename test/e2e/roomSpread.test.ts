import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../server/app.js';
import type { RoomRouter } from '../../server/rooms/roomRouters.js';
import { launchChromium } from '../helpers/browser.js';
import { audioPackets, openClassPage, peerIdOf, videoSamples } from '../helpers/classPage.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer } from '../helpers/testServer.js';

// A class spread over two workers in real Chromium: with the threshold at 4 consumers per router,
// the third participant is placed on a router in the other worker, and every producer is piped
// across. Each participant must decode everyone else's video and receive their audio; the active
// speaker, detected on the first router, must be the one on the second router (the only one with
// a loud microphone); and leaving must take each publisher's pipes with it.
const port = 3353;
const url = `http://127.0.0.1:${port}`;
const room = 'spread-class';
let dir: string;
let server: RunningServer;
let quietBrowser: Browser;
let loudBrowser: Browser;

async function makeWav(file: string, source: string): Promise<void> {
  await promisify(execFile)('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', source, '-t', '30', '-ac', '1', '-c:a', 'pcm_s16le', file]);
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-spread-'));
  const loud = path.join(dir, 'loud.wav');
  const quiet = path.join(dir, 'silent.wav');
  // Speech-like: loudness swinging four times a second over a faint noise floor (see activeSpeaker.test.ts).
  await makeWav(loud, 'aevalsrc=0.6*sin(2*PI*220*t)*abs(sin(2*PI*2*t))+0.003*(2*random(0)-1):s=48000');
  await makeWav(quiet, 'anullsrc=r=48000:cl=mono');
  server = await startTestServer({ SFU_HTTP_PORT: String(port), SFU_RTC_BASE_PORT: '24100', SFU_WORKERS: '2', SFU_ROOM_ROUTER_MAX_CONSUMERS: '4' });
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

/** Every listed peer's video frames and audio packets advance on `page`, second by second. */
async function expectFlowing(page: Page, peers: string[], seconds: number): Promise<void> {
  await waitFor(async () => {
    const s = await videoSamples(page);
    return peers.every((p) => s.some((v) => v.peerId === p && v.frames > 0));
  }, 20_000, `videos of ${peers.join(', ')}`);
  let prevVideo = await videoSamples(page);
  let prevAudio = await audioPackets(page);
  for (let i = 0; i < seconds; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    const video = await videoSamples(page);
    const audio = await audioPackets(page);
    for (const p of peers) {
      expect(video.find((v) => v.peerId === p)?.frames ?? 0, `second ${i + 1}: frames of ${p}`).toBeGreaterThan(prevVideo.find((v) => v.peerId === p)?.frames ?? 0);
      expect(audio[p] ?? 0, `second ${i + 1}: audio packets of ${p}`).toBeGreaterThan(prevAudio[p] ?? 0);
    }
    prevVideo = video;
    prevAudio = audio;
  }
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
      expectFlowing(ada, [benId, cyId], 3),
      expectFlowing(ben, [adaId, cyId], 3),
      expectFlowing(cy, [adaId, benId], 3),
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
});
