import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordingMeta } from '../../server/recording/recording.js';
import { launchChromium } from '../helpers/browser.js';
import { openClassPage, peerIdOf, videoSamples } from '../helpers/classPage.js';
import { decode, probe } from '../helpers/media.js';
import { waitFor } from '../helpers/serverProcess.js';
import { opusRtpParameters } from '../helpers/rtpParameters.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { WsClient } from '../helpers/wsClient.js';

// Real worker, real ffmpeg, real Chromium: a class recorded to files that ffprobe and a full
// decode accept.
let url: string;
let dir: string;
let server: TestServer;
let browser: Browser;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-rec-'));
  server = await startTestServer({ SFU_RECORDINGS_DIR: dir });
  url = server.url;
  // 30 fps: a 10 s recording must hold at least 200 frames, and Chromium's fake camera defaults to 20.
  browser = await launchChromium([], { fps: 30 });
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (!process.env.KEEP_RECORDINGS) fs.rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function record(page: Page, ms: number, during?: () => Promise<void>): Promise<RecordingMeta> {
  const id = await page.evaluate(() => window.classroom!.startRecording());
  await waitFor(() => server.recordings.get(id).files.length > 0 && server.recordings.activeFor(server.recordings.get(id).room)?.ffmpegPids.length, 10_000, 'ffmpeg running');
  if (during) await during();
  await sleep(ms);
  await page.evaluate(() => window.classroom!.stopRecording());
  return server.recordings.get(id);
}

async function api(method: string, p: string, token: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${url}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('recording a class', () => {
  it('10 s of camera and microphone: one file, one video and one audio stream, 10 ± 1.5 s, decodes cleanly', async () => {
    const teacher = await openClassPage(browser, url, 'rec-a', 'Teacher', 'teacher');
    await sleep(1000); // let the camera run before the recording starts, as in a real class
    const meta = await record(teacher, 10_000);
    expect(meta.state).toBe('stopped');
    expect(meta.files).toHaveLength(1);
    expect(meta.files[0]!.sources.sort()).toEqual(['cam', 'mic']);
    const file = path.join(dir, meta.id, meta.files[0]!.name);
    expect(file.endsWith('.webm')).toBe(true);
    const info = await probe(file);
    expect(info.streams.map((s) => s.type).sort()).toEqual(['audio', 'video']);
    expect(info.streams.map((s) => s.codec).sort()).toEqual(['opus', 'vp8']);
    expect(Math.abs(info.durationSec - 10)).toBeLessThanOrEqual(1.5);
    const decoded = await decode(file);
    expect(decoded.errors).toBe('');
    expect(decoded.videoFrames).toBeGreaterThanOrEqual(200);
    // A few frames may share a millisecond after layer switches (see decode()); not a stream of them.
    expect(decoded.sameTimeFrames).toBeLessThan(decoded.videoFrames / 10);
    expect(meta.files[0]!.sizeBytes).toBe(fs.statSync(file).size);
    expect(meta.durationSec).toBeGreaterThan(9);
    await teacher.context().close();
  });

  it('pausing and resuming the camera mid-recording still gives a file that decodes cleanly', async () => {
    const teacher = await openClassPage(browser, url, 'rec-b', 'Teacher', 'teacher');
    const meta = await record(teacher, 3000, async () => {
      await sleep(3000);
      await teacher.click('#toggle-cam'); // stop camera (pause)
      await sleep(2000);
      await teacher.click('#toggle-cam'); // start camera (resume)
    });
    expect(meta.state).toBe('stopped');
    const file = path.join(dir, meta.id, meta.files[0]!.name);
    const decoded = await decode(file);
    expect(decoded.errors).toBe('');
    expect(decoded.videoFrames).toBeGreaterThan(60);
    await teacher.context().close();
  });

  it('two participants give two files, each with its own participant; a late joiner is recorded and a leaver finalized', async () => {
    const teacher = await openClassPage(browser, url, 'rec-c', 'Teacher', 'teacher');
    const id = await teacher.evaluate(() => window.classroom!.startRecording());
    // The student arrives after the recording started: their producers are recorded too.
    const student = await openClassPage(browser, url, 'rec-c', 'Student', 'student');
    const ids = [await peerIdOf(teacher), await peerIdOf(student)];
    await waitFor(() => server.recordings.activeFor('rec-c')?.ffmpegPids.length === 2, 15_000, 'two ffmpeg processes');
    await sleep(4000);
    // The student leaves: their file is finalized while the teacher's goes on.
    await student.click('#leave');
    const studentFile = await waitFor(() => server.recordings.get(id).files.find((f) => f.peerId === ids[1] && f.endedAt), 10_000, "the student's file finalized");
    expect(server.recordings.get(id).state).toBe('recording');
    expect((await decode(path.join(dir, id, studentFile.name))).errors).toBe('');
    await sleep(1000);
    await teacher.evaluate(() => window.classroom!.stopRecording());
    const meta = server.recordings.get(id);
    expect(meta.files.map((f) => f.peerId).sort()).toEqual([...ids].sort());
    expect(meta.participants.map((p) => p.name).sort()).toEqual(['Student', 'Teacher']);
    for (const f of meta.files) {
      expect(f.name).toContain(f.peerId.slice(0, 8));
      expect(f.sources.sort()).toEqual(['cam', 'mic']);
      const info = await probe(path.join(dir, meta.id, f.name));
      expect(info.streams.map((s) => s.type).sort()).toEqual(['audio', 'video']);
      expect((await decode(path.join(dir, meta.id, f.name))).errors).toBe('');
    }
    await teacher.context().close();
    await student.context().close();
  });

  it('an ffmpeg killed fails its own file only (the teacher is told); the last one killed fails the recording; the class goes on', async () => {
    const teacher = await openClassPage(browser, url, 'rec-d', 'Teacher', 'teacher');
    const student = await openClassPage(browser, url, 'rec-d', 'Student', 'student');
    await teacher.evaluate(() => {
      const w = window as unknown as { recordingEvents: unknown[] };
      w.recordingEvents = [];
      window.classroom!.on('recording', (e) => w.recordingEvents.push(e));
    });
    const events = () => teacher.evaluate(() => (window as unknown as { recordingEvents: { state: string; file?: string; reason?: string }[] }).recordingEvents);
    const id = await teacher.evaluate(() => window.classroom!.startRecording());
    const pids = await waitFor(() => {
      const r = server.recordings.activeFor('rec-d');
      return r && r.ffmpegPids.length === 2 ? r.ffmpegPids : undefined;
    }, 10_000, 'two ffmpeg processes');
    await sleep(1500);
    // One participant's ffmpeg dies: that file fails, the teacher hears which, the other goes on.
    process.kill(pids[0]!, 'SIGKILL');
    await waitFor(async () => (await events()).some((e) => e.state === 'fileFailed'), 10_000, 'the teacher told of the failed file');
    const fileFailed = (await events()).find((e) => e.state === 'fileFailed')!;
    expect(fileFailed.reason).toMatch(/ffmpeg for .* ended unexpectedly \(signal SIGKILL\)/);
    expect(server.recordings.get(id).state).toBe('recording');
    expect(server.recordings.get(id).files.find((f) => f.name === fileFailed.file)?.error).toMatch(/ended unexpectedly/);
    await sleep(1000);
    expect(() => process.kill(pids[1]!, 0)).not.toThrow(); // the other file is still being written
    // The last one dies too: nothing is recorded any more, so the recording fails.
    process.kill(pids[1]!, 'SIGKILL');
    await waitFor(() => server.recordings.get(id).state === 'failed', 10_000, 'recording failed');
    expect(server.recordings.get(id).reason).toMatch(/ffmpeg for .* ended unexpectedly \(signal SIGKILL\)/);
    await teacher.waitForFunction(
      () => (window as unknown as { recordingEvents: { state: string }[] }).recordingEvents.some((e) => e.state === 'failed'),
      undefined,
      { timeout: 5000 },
    );
    // The class goes on, and the recording can be started again.
    const teacherId = await peerIdOf(teacher);
    const before = (await videoSamples(student)).find((v) => v.peerId === teacherId)!.frames;
    await sleep(2000);
    expect((await videoSamples(student)).find((v) => v.peerId === teacherId)!.frames).toBeGreaterThan(before + 20);
    expect(server.recordings.activeFor('rec-d')).toBeUndefined();
    await teacher.context().close();
    await student.context().close();
  });
});

describe('recording failures that leave the class alone', () => {
  async function teacherWithProducer(srv: TestServer, room: string) {
    const t = await srv.tokens.sign({ room, sub: 't', name: 't', role: 'teacher' }, 600);
    const c = await WsClient.connect(`${srv.wsUrl}?token=${t}`);
    await c.ok('join');
    const send = await c.ok<{ id: string }>('createTransport', { direction: 'send' });
    await c.ok('produce', { transportId: send.id, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(4242) });
    return c;
  }

  it.each([
    ['a missing ffmpeg', { SFU_FFMPEG_PATH: '/nonexistent/ffmpeg' }, /cannot run \/nonexistent\/ffmpeg/],
    ['an unwritable recordings directory', { SFU_RECORDINGS_DIR: 'UNWRITABLE' }, /cannot write to the recordings directory/],
  ])('%s marks the recording failed with the reason and tells the teacher', async (_what, given: Record<string, string>, reason) => {
    let env = given;
    if (env.SFU_RECORDINGS_DIR === 'UNWRITABLE') {
      // A path under a regular file: no directory can ever be made there (as with a read-only disk).
      fs.writeFileSync(path.join(dir, 'a-file'), '');
      env = { SFU_RECORDINGS_DIR: path.join(dir, 'a-file', 'recordings') };
    }
    const srv = await startTestServer({ SFU_RECORDINGS_DIR: dir, ...env });
    try {
      const teacher = await teacherWithProducer(srv, 'broken');
      const { recordingId } = await teacher.ok<{ recordingId: string }>('startRecording');
      const failed = await waitFor(() => teacher.notifications.find((n) => n.method === 'recordingFailed'), 10_000, 'recordingFailed');
      expect(failed.data).toMatchObject({ recordingId, reason: expect.stringMatching(reason) });
      expect(srv.recordings.get(recordingId)).toMatchObject({ state: 'failed', reason: expect.stringMatching(reason) });
      // The class is untouched: the teacher's socket and producer are still there.
      expect((await teacher.call('getTransportStats', { transportId: [...srv.rooms.get('broken')!.peers.values()][0]!.transports.keys().next().value })).ok).toBe(true);
      teacher.close();
    } finally {
      await srv.close();
    }
  });
});

describe('recording control and access', () => {
  it('refuses students, unknown rooms and foreign rooms; lists and serves a teacher’s recordings', async () => {
    const sign = (room: string, role: 'teacher' | 'student') => server.tokens.sign({ room, sub: `${role}-1`, name: role, role }, 600);
    // Over signaling: a student asking to record gets forbidden.
    const student = await WsClient.connect(`${server.wsUrl}?token=${await sign('rec-e', 'student')}`);
    await student.ok('join');
    expect(await student.call('startRecording')).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // Over REST.
    expect((await api('POST', '/api/recordings', await sign('rec-e', 'student'), { room: 'rec-e' })).status).toBe(403);
    expect((await api('POST', '/api/recordings', await sign('no-such-room', 'teacher'), { room: 'no-such-room' }))).toMatchObject({ status: 404, json: { error: { code: 'not_found' } } });
    expect((await api('POST', '/api/recordings', await sign('rec-e', 'teacher'), { room: 'rec-a' })).status).toBe(403);
    expect((await api('POST', '/api/recordings', 'not-a-token', { room: 'rec-e' })).status).toBe(401);
    expect((await api('POST', '/api/recordings', await sign('rec-e', 'teacher'), { room: 'rec-e', extra: 1 })).status).toBe(400);

    const teacherToken = await sign('rec-e', 'teacher');
    const started = await api('POST', '/api/recordings', teacherToken, { room: 'rec-e' });
    expect(started.status).toBe(201);
    const rec = started.json.recording as RecordingMeta;
    expect((await api('POST', '/api/recordings', teacherToken, { room: 'rec-e' })).status).toBe(409);
    await waitFor(() => student.notifications.find((n) => n.method === 'recordingStarted'), 3000, 'recordingStarted');
    const stopped = await api('POST', `/api/recordings/${rec.id}/stop`, teacherToken);
    expect(stopped).toMatchObject({ status: 200, json: { recording: { id: rec.id, state: 'stopped', room: 'rec-e' } } });
    await waitFor(() => student.notifications.find((n) => n.method === 'recordingStopped'), 3000, 'recordingStopped');
    const listed = await api('GET', '/api/recordings', teacherToken);
    expect((listed.json.recordings as RecordingMeta[]).map((r) => r.id)).toEqual([rec.id]);
    // Another room's teacher sees none of it.
    expect(((await api('GET', '/api/recordings', await sign('rec-a', 'teacher'))).json.recordings as RecordingMeta[]).every((r) => r.room === 'rec-a')).toBe(true);
    expect((await api('GET', `/api/recordings/${rec.id}`, await sign('rec-a', 'teacher'))).status).toBe(403);
    student.close();
  });

  it('downloads a recorded file, and nothing outside the recording', async () => {
    const recs = server.recordings.list('rec-a');
    const rec = recs[0]!;
    // The teacher who taught that class (a recording is read by its class session's teachers).
    const token = await server.tokens.sign({ room: 'rec-a', sub: rec.teachers![0]!, name: 't', role: 'teacher' }, 600);
    const res = await fetch(`${url}/api/recordings/${rec.id}/files/${rec.files[0]!.name}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(rec.files[0]!.sizeBytes);
    const sneaky = await fetch(`${url}/api/recordings/${rec.id}/files/..%2Frecording.json`, { headers: { authorization: `Bearer ${token}` } });
    expect(sneaky.status).toBe(404);
  });
});
