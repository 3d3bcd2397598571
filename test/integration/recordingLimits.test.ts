import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peerKitFor, produceMic, produceVideo, type Joined } from '../helpers/peers.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// What participants can do to a recording over the protocol, against the real worker and real
// ffmpeg: publish and close in a loop while it runs, and a disk that fails as it finishes.
let server: TestServer;
let dir: string;
const maxFfmpeg = 3;
const maxPerPeer = 3;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-rec-limits-'));
  server = await startTestServer({
    SFU_RECORDINGS_DIR: dir,
    SFU_RECORDING_MAX_FFMPEG: String(maxFfmpeg),
    SFU_RECORDING_MAX_SESSIONS_PER_PEER: String(maxPerPeer),
    SFU_MAX_SCREEN_SHARES: '8',
    SFU_RATE_LIMIT_PER_SEC: '10000',
    SFU_RATE_LIMIT_BURST: '10000',
  });
});
afterAll(async () => {
  closeAll();
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const { joinFully, closeAll } = peerKitFor(() => server);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** ffmpeg processes this test process runs (the server is in it), from the kernel's process table. */
function ffmpegChildren(): number {
  let n = 0;
  for (const pid of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      // pid (comm) state ppid ...
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (comm === 'ffmpeg' && ppid === process.pid) n++;
    } catch {
      // the process ended meanwhile
    }
  }
  return n;
}

const usageIs = (ffmpeg: number, portPairs: number) =>
  waitFor(() => {
    const u = server.recordings.usage();
    return u.ffmpeg === ffmpeg && u.portPairs === portPairs && ffmpegChildren() === ffmpeg;
  }, 15_000, `${ffmpeg} ffmpeg and ${portPairs} port pairs in use`);

/** Publishes `source`, waits `holdMs`, closes it. */
async function publishAndClose(p: Joined, source: 'screen' | 'cam', holdMs: number): Promise<void> {
  const { producerId: id } = await produceVideo(p, source);
  if (holdMs > 0) await sleep(holdMs);
  await p.c.request('closeProducer', { producerId: id });
}

describe('a recording and the participants who publish in a loop', () => {
  it('producers closing while their files start fail no one; ffmpeg stays under its cap, ports come back, and a participant gets at most its files', async () => {
    const teacher = await joinFully('churn', 'teacher', 'teacher');
    const watcher = await joinFully('churn', 'watcher');
    await produceMic(teacher);
    const { recordingId } = await teacher.c.request('startRecording', {});
    await usageIs(1, 1);

    // Four students publish and close, each closing at another moment of its file's start: as it
    // starts, while the worker makes the transport and consumer, while ffmpeg starts, and just
    // after that. A file starts once the 1.5 s grouping window is over (a camera waits for its
    // microphone, a screen share for its sound): the holds count from the publish.
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, ffmpegChildren())), 25);
    try {
      const churners = await Promise.all([0, 1, 2, 3].map((i) => joinFully('churn', `churner-${i}`)));
      await Promise.all(
        churners.map(async (p, i) => {
          for (const hold of i < 2 ? [1500, 1530, 1620] : [1500, 1560, 1700]) await publishAndClose(p, i < 2 ? 'screen' : 'cam', hold);
        }),
      );
      await usageIs(1, 1); // the teacher's file only: every other ffmpeg ended, every port pair is back
    } finally {
      clearInterval(sampler);
    }
    expect(most).toBeLessThanOrEqual(maxFfmpeg);

    // The class's recording went on through all of it, and nobody heard of a failure.
    expect(server.recordings.get(recordingId).state).toBe('recording');
    for (const c of [teacher.c, watcher.c]) expect(c.notifications.filter((n) => n.method === 'recordingFailed')).toEqual([]);

    // One participant re-publishing in a loop: each time a file (and an ffmpeg) until its cap, then none.
    const looper = await joinFully('churn', 'looper');
    for (let i = 0; i < maxPerPeer; i++) {
      const { producerId: id } = await produceVideo(looper, 'screen');
      await usageIs(2, 2);
      await looper.c.request('closeProducer', { producerId: id });
      await usageIs(1, 1);
    }
    await produceVideo(looper, 'screen');
    await sleep(2500);
    expect(server.recordings.usage()).toEqual({ ffmpeg: 1, portPairs: 1 });
    // (A file whose producer closed before it started is dropped, so at most that many are listed.)
    expect(server.recordings.get(recordingId).files.filter((f) => f.peerId === looper.peerId).length).toBeLessThanOrEqual(maxPerPeer);

    await teacher.c.request('stopRecording', {});
    expect(server.recordings.get(recordingId).state).toBe('stopped');
    await usageIs(0, 0);
  });
});

describe('a disk that fails while a recording finishes', () => {
  it('the recording still stops, everyone is told, and the room records again', async () => {
    const teacher = await joinFully('disk', 'teacher', 'teacher');
    await produceMic(teacher);
    const { recordingId } = await teacher.c.request('startRecording', {});
    await usageIs(1, 1);
    // The recording's folder goes, and a file takes its place: every write into it fails (ENOTDIR),
    // as on a disk that was unmounted or turned read-only under the recorder.
    const folder = path.join(server.recordings.dir, recordingId);
    fs.rmSync(folder, { recursive: true, force: true });
    fs.writeFileSync(folder, 'not a folder');

    const stopped = await teacher.c.call('stopRecording', {});
    expect(stopped.ok).toBe(true);
    await waitFor(() => teacher.c.notifications.find((n) => n.method === 'recordingStopped'), 5000, 'recordingStopped');
    expect(server.recordings.get(recordingId).state).toBe('stopped');
    await usageIs(0, 0);

    // Not stuck "already being recorded": a new recording starts and stops.
    const again = await teacher.c.call('startRecording', {});
    expect(again.ok).toBe(true);
    const second = (again.data as { recordingId: string }).recordingId;
    expect(second).not.toBe(recordingId);
    await usageIs(1, 1);
    expect((await teacher.c.call('stopRecording', {})).ok).toBe(true);
    expect(server.recordings.get(second).state).toBe('stopped');
    await usageIs(0, 0);
  });
});
