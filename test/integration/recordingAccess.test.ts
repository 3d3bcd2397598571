import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessClaims } from '../../server/auth/tokens.js';
import type { RecordingMeta } from '../../server/recording/recording.js';
import { peerKitFor, produceMic } from '../helpers/peers.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { WsClient } from '../helpers/wsClient.js';

// Whose recordings a token reads (the class session, the owner claim), the paged list served from
// the index, and the free-space check: real server, worker and ffmpeg, spoken to over REST and the
// protocol.
let server: TestServer;
let dir: string;

/** Recordings an earlier process left: seven of one class session in room `paged`, one it did not finish, and junk. */
const earlier = Array.from({ length: 7 }, (_, i) => ({
  id: `0000000${i}-0000-4000-8000-000000000000`,
  room: 'paged',
  sessionId: 'an-earlier-session',
  teachers: ['paged-teacher'],
  state: i === 3 ? 'recording' : 'stopped',
  startedAt: new Date(Date.UTC(2024, 0, 1 + i)).toISOString(),
  participants: [],
  files: [],
}));

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sfu-rec-access-'));
  for (const meta of earlier) {
    fs.mkdirSync(path.join(dir, meta.id));
    fs.writeFileSync(path.join(dir, meta.id, 'recording.json'), JSON.stringify(meta));
  }
  fs.mkdirSync(path.join(dir, 'not-a-recording'));
  fs.writeFileSync(path.join(dir, 'not-a-recording', 'recording.json'), '{ broken');
  server = await startTestServer({ SFU_RECORDINGS_DIR: dir });
});
afterAll(async () => {
  closeAll();
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const { joinFully, closeAll } = peerKitFor(() => server);
const token = (claims: Partial<AccessClaims> & Pick<AccessClaims, 'room' | 'sub'>) => server.tokens.sign({ name: claims.sub, role: 'teacher', ...claims }, 600);
const admin = () => token({ room: 'any', sub: 'staff', role: 'admin' });

async function api(method: string, p: string, bearer: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown> };
}
const ids = (r: { json: Record<string, unknown> }) => ((r.json.recordings ?? []) as RecordingMeta[]).map((m) => m.id);

/** Every page of GET /api/recordings (`query` without `cursor`), in order. */
async function allPages(bearer: string, query: string): Promise<{ pages: string[][]; last: unknown }> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const res = await api('GET', `/api/recordings?${query}${cursor ? `&cursor=${cursor}` : ''}`, bearer);
    expect(res.status).toBe(200);
    pages.push(ids(res));
    cursor = res.json.nextCursor as string | null;
  } while (cursor && pages.length < 20);
  return { pages, last: cursor };
}

describe('recordings belong to the class session that made them', () => {
  it('a later class under the same room id does not see an earlier class’s recordings; its teacher, and an admin, still do', async () => {
    // Monday: Alice teaches class-1 and records it.
    const alice = await joinFully('class-1', 'alice', 'teacher');
    await produceMic(alice);
    const { recordingId: monday } = await alice.c.request('startRecording', {});
    await waitFor(() => server.recordings.activeFor('class-1')?.ffmpegPids.length === 1, 10_000, 'ffmpeg running');
    await alice.c.request('stopRecording', {});
    const mondayFile = server.recordings.get(monday).files[0]!.name;
    // No media flows from a protocol-only peer, so ffmpeg wrote no file: put bytes where it goes.
    fs.writeFileSync(path.join(dir, monday, mondayFile), 'monday');
    // A co-teacher comes in after the recording ended, and leaves before the class does.
    const dave = await joinFully('class-1', 'dave', 'teacher');
    await dave.c.request('leave', {});
    await alice.c.request('leave', {});
    await waitFor(() => server.rooms.get('class-1') === undefined, 5000, 'Monday’s class closed');

    // Tuesday: Bob's class under the same room id, recorded too.
    const bob = await joinFully('class-1', 'bob', 'teacher');
    const bobToken = await token({ room: 'class-1', sub: 'bob' });
    const listed = await api('GET', '/api/recordings', bobToken);
    expect(listed.status).toBe(200);
    expect(ids(listed)).not.toContain(monday);
    expect((await api('GET', `/api/recordings/${monday}`, bobToken)).status).toBe(403);
    expect((await api('GET', `/api/recordings/${monday}/files/${mondayFile}`, bobToken)).status).toBe(403);
    expect((await api('POST', `/api/recordings/${monday}/stop`, bobToken)).status).toBe(403);
    const tuesday = await api('POST', '/api/recordings', bobToken, { room: 'class-1' });
    expect(tuesday.status).toBe(201);
    const tuesdayId = (tuesday.json.recording as RecordingMeta).id;
    expect(ids(await api('GET', '/api/recordings', bobToken))).toEqual([tuesdayId]);
    expect((await api('POST', `/api/recordings/${tuesdayId}/stop`, bobToken)).status).toBe(200);

    // Alice taught Monday's class: she still reads it (and downloads its file).
    const aliceToken = await token({ room: 'class-1', sub: 'alice' });
    expect(ids(await api('GET', '/api/recordings', aliceToken))).toContain(monday);
    expect((await api('GET', `/api/recordings/${monday}`, aliceToken)).status).toBe(200);
    const download = await fetch(`${server.url}/api/recordings/${monday}/files/${mondayFile}`, { headers: { authorization: `Bearer ${aliceToken}` } });
    expect(download.status).toBe(200);
    expect(await download.text()).toBe('monday');
    // So did Dave, who joined it after the recording: noted when the class ended, also on disk.
    expect((await api('GET', `/api/recordings/${monday}`, await token({ room: 'class-1', sub: 'dave' }))).status).toBe(200);
    expect(JSON.parse(fs.readFileSync(path.join(dir, monday, 'recording.json'), 'utf8')).teachers.sort()).toEqual(['alice', 'dave']);
    // An admin reads every recording, and may not start or stop one.
    const adminToken = await admin();
    expect(ids(await api('GET', '/api/recordings?room=class-1', adminToken)).sort()).toEqual([monday, tuesdayId].sort());
    expect((await api('GET', `/api/recordings/${monday}`, adminToken)).status).toBe(200);
    expect((await api('POST', '/api/recordings', adminToken, { room: 'class-1' })).status).toBe(403);
    // A teacher lists only its own room's: no `room=` for them.
    expect((await api('GET', '/api/recordings?room=paged', bobToken)).status).toBe(403);
    await bob.c.request('leave', {});
  });

  it('a recording started with an owner claim is read only with the same owner', async () => {
    const start = await WsClient.connect(`${server.wsUrl}?token=${await token({ room: 'class-2', sub: 'carol', owner: 'school-a' })}`);
    await start.request('join', {});
    const { recordingId } = await start.request('startRecording', {});
    await start.request('stopRecording', {});
    expect(server.recordings.get(recordingId).owner).toBe('school-a');
    // The class is still open: only the owner claim tells these apart.
    for (const [claims, status] of [
      [{ room: 'class-2', sub: 'carol', owner: 'school-a' }, 200],
      [{ room: 'class-2', sub: 'carol', owner: 'school-b' }, 403],
      [{ room: 'class-2', sub: 'carol' }, 403],
    ] as const) {
      const t = await token(claims);
      expect((await api('GET', `/api/recordings/${recordingId}`, t)).status, JSON.stringify(claims)).toBe(status);
      expect(ids(await api('GET', '/api/recordings', t)).includes(recordingId), JSON.stringify(claims)).toBe(status === 200);
    }
    start.close();
  });
});

describe('the recordings list', () => {
  it('comes in bounded pages, newest first, from the index built at start', async () => {
    const newestFirst = [...earlier].reverse().map((m) => m.id);
    const adminToken = await admin();
    const { pages, last } = await allPages(adminToken, 'room=paged&limit=3');
    expect(pages).toEqual([newestFirst.slice(0, 3), newestFirst.slice(3, 6), newestFirst.slice(6)]);
    expect(last).toBeNull();
    // The teacher of that earlier session pages through it too.
    const teacher = await token({ room: 'paged', sub: 'paged-teacher' });
    expect((await allPages(teacher, 'limit=5')).pages).toEqual([newestFirst.slice(0, 5), newestFirst.slice(5)]);
    // A recording the earlier process never finished is not listed as still running.
    expect((await api('GET', `/api/recordings/${earlier[3]!.id}`, adminToken)).json.recording).toMatchObject({ state: 'failed', reason: expect.stringMatching(/server stopped/) });
    // Served from memory: the folder is not read again per request.
    fs.rmSync(path.join(dir, earlier[0]!.id, 'recording.json'));
    expect(ids(await api('GET', '/api/recordings?room=paged&limit=200', adminToken))).toEqual(newestFirst);
    // Without a limit, a page holds at most the default; junk is refused.
    const all = await api('GET', '/api/recordings', adminToken);
    expect(ids(all).length).toBeLessThanOrEqual(50);
    for (const query of ['limit=0', 'limit=201', 'limit=x', 'cursor=not-a-cursor', 'other=1']) {
      expect((await api('GET', `/api/recordings?${query}`, adminToken)).status, query).toBe(400);
    }
  });
});

describe('free disk space', () => {
  it('a recording is refused with a clear error while the disk has less free space than the minimum', async () => {
    // More free space than any disk has: the real statfs of the folder is below it.
    const short = await startTestServer({ SFU_RECORDINGS_DIR: dir, SFU_RECORDING_MIN_FREE_MB: '100000000' });
    try {
      const c = await WsClient.connect(`${short.wsUrl}?token=${await short.tokens.sign({ room: 'full', sub: 't', name: 't', role: 'teacher' }, 600)}`);
      await c.request('join', {});
      const refused = await c.call('startRecording', {});
      expect(refused.error).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/not enough disk space to record: \d+ MB free .* 100000000 MB needed/) });
      const rest = await fetch(`${short.url}/api/recordings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await short.tokens.sign({ room: 'full', sub: 't', name: 't', role: 'teacher' }, 600)}`, 'content-type': 'application/json' },
        body: JSON.stringify({ room: 'full' }),
      });
      expect(rest.status).toBe(503);
      expect(short.recordings.activeFor('full')).toBeUndefined();
      c.close();
    } finally {
      await short.close();
    }
  });
});
