import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, nextSsrc, notified, peerKitFor, produceMic, produceVideo } from '../helpers/peers.js';
import { opusRtpParameters, vp8RtpParameters } from '../helpers/rtpParameters.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { WsClient } from '../helpers/wsClient.js';

// Roles, the room's policy, moderation, hands and chat, spoken directly over the protocol against
// the real server and worker. Media stopping in real browsers is in test/e2e/moderation.test.ts.
let server: TestServer;

beforeAll(async () => {
  server = await startTestServer({
    SFU_ROOM_MAX_PEERS: '4',
    SFU_ROOM_MAX_PUBLISHERS: '2',
    SFU_REMOVE_BAN_SEC: '2',
    SFU_STUDENTS_JOIN_MUTED: 'true',
    SFU_CHAT_HISTORY: '5',
    SFU_CHAT_MAX_LENGTH: '100',
    SFU_CHAT_RATE_PER_SEC: '1',
    SFU_CHAT_BURST: '3',
    SFU_RATE_LIMIT_PER_SEC: '10000',
    SFU_RATE_LIMIT_BURST: '10000',
    SFU_RECORDINGS_DIR: path.join(os.tmpdir(), 'sfu-class-controls-recordings'),
  });
});
afterAll(async () => server?.close());

// Joins as a browser would: capabilities, a receive transport, and a send transport unless observing.
const { connect, joinFully, closeAll } = peerKitFor(() => server);
afterAll(closeAll);

describe('roles', () => {
  it('every teacher-only request answers forbidden to a student and an observer, and changes nothing', async () => {
    const teacher = await joinFully('roles', 't', 'teacher');
    const student = await joinFully('roles', 's');
    const observer = await joinFully('roles', 'o', 'observer');
    const mic = await produceMic(teacher);
    const cam = await produceVideo(student);
    const room = server.rooms.get('roles')!;
    const before = JSON.stringify({ policy: room.policy, peers: [...room.peers.values()].map((p) => p.info()) });
    for (const actor of [student, observer]) {
      const them = actor === student ? observer.peerId : student.peerId;
      const requests: [string, unknown][] = [
        ['setRoomPolicy', { locked: true }],
        ['mutePeer', { peerId: them }],
        ['muteAll', {}],
        ['stopPeerSource', { peerId: student.peerId, source: 'cam' }],
        ['allowSpeak', { peerId: them, allowed: true }],
        ['removePeer', { peerId: them }],
        ['lowerHand', { peerId: them }],
        ['endClass', {}],
        ['startRecording', {}],
        ['stopRecording', {}],
      ];
      for (const [method, data] of requests) expect(await errorOf(actor.c, method, data), `${method} by ${actor === student ? 'student' : 'observer'}`).toBe('forbidden');
    }
    // A teacher does not moderate another teacher either.
    const coTeacher = await joinFully('roles', 't2', 'teacher');
    expect(await errorOf(coTeacher.c, 'mutePeer', { peerId: teacher.peerId })).toBe('forbidden');
    expect(await errorOf(coTeacher.c, 'removePeer', { peerId: teacher.peerId })).toBe('forbidden');
    expect(await errorOf(teacher.c, 'mutePeer', { peerId: 'no-such-peer' })).toBe('not_found');
    expect(await errorOf(teacher.c, 'stopPeerSource', { peerId: observer.peerId, source: 'cam' })).toBe('not_found');
    await coTeacher.c.ok('leave');
    expect(JSON.stringify({ policy: room.policy, peers: [...room.peers.values()].map((p) => p.info()) })).toBe(before);
    expect(room.peers.get(teacher.peerId)!.producers.get(mic.producerId)!.paused).toBe(false);
    expect(room.peers.get(student.peerId)!.producers.has(cam.producerId)).toBe(true);
  });

  it('an observer can neither open a send transport nor produce', async () => {
    const observer = await joinFully('observe', 'o', 'observer');
    expect(await errorOf(observer.c, 'createTransport', { direction: 'send' })).toBe('forbidden');
    expect(await errorOf(observer.c, 'produce', { transportId: 'any', kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(1) })).toBe('forbidden');
    expect(server.rooms.get('observe')!.peers.get(observer.peerId)!.transports.size).toBe(1);
  });
});

describe('the room policy', () => {
  it("a student's first microphone starts muted; unmuting follows the policy and the teacher's permission", async () => {
    const teacher = await joinFully('policy', 't', 'teacher');
    const student = await joinFully('policy', 's');
    expect(student.join.policy).toEqual({ locked: false, joinMuted: true, studentsMayUnmute: true, maxScreenShares: 1 });
    // The teacher's own microphone is not muted by the policy.
    expect((await produceMic(teacher)).paused).toBe(false);
    const mic = await produceMic(student);
    expect(mic.paused).toBe(true);
    const peer = () => server.rooms.get('policy')!.peers.get(student.peerId)!;
    expect(peer().producers.get(mic.producerId)!.paused).toBe(true);
    await student.c.ok('resumeProducer', { producerId: mic.producerId });
    expect(peer().producers.get(mic.producerId)!.paused).toBe(false);
    // Only the first microphone joins muted: the same user publishing again is not muted again.
    await student.c.ok('closeProducer', { producerId: mic.producerId });
    const again = await produceMic(student);
    expect(again.paused).toBe(false);

    const { policy } = await teacher.c.ok<{ policy: unknown }>('setRoomPolicy', { studentsMayUnmute: false });
    expect(policy).toMatchObject({ studentsMayUnmute: false, joinMuted: true });
    await notified(student.c, 'roomPolicy');
    expect(await errorOf(teacher.c, 'setRoomPolicy', { maxScreenShares: 0 })).toBe('bad_request');
    await teacher.c.ok('mutePeer', { peerId: student.peerId });
    expect(await errorOf(student.c, 'resumeProducer', { producerId: again.producerId })).toBe('forbidden');
    expect(peer().producers.get(again.producerId)!.paused).toBe(true);

    await teacher.c.ok('allowSpeak', { peerId: student.peerId, allowed: true });
    await notified(student.c, 'moderated', (d) => d.action === 'speakAllowed');
    await notified(teacher.c, 'peerUpdated', (d) => (d.peer as { speakAllowed: boolean }).speakAllowed);
    await student.c.ok('resumeProducer', { producerId: again.producerId });
    expect(peer().producers.get(again.producerId)!.paused).toBe(false);
    // Taking the permission back mutes the microphone at once.
    await teacher.c.ok('allowSpeak', { peerId: student.peerId, allowed: false });
    await notified(student.c, 'moderated', (d) => d.action === 'speakRevoked');
    expect(peer().producers.get(again.producerId)!.paused).toBe(true);
    expect(await errorOf(student.c, 'resumeProducer', { producerId: again.producerId })).toBe('forbidden');
  });

  it('a locked room refuses new students with forbidden, but lets the teacher and resumed sessions in', async () => {
    const teacher = await joinFully('lock', 't', 'teacher');
    const inside = await joinFully('lock', 'in');
    await teacher.c.ok('setRoomPolicy', { locked: true });
    const late = await connect('lock', 'late');
    expect(await late.call('join')).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringContaining('locked') } });
    expect(await (await connect('lock', 't2', 'teacher')).call('join')).toMatchObject({ ok: true });
    // The student inside drops its socket and comes back into the locked room.
    const room = server.rooms.get('lock')!;
    const sessionToken = room.peers.get(inside.peerId)!.sessionToken;
    for (const conn of server.signaling.connections) if (conn.session.peer?.id === inside.peerId) conn.terminate();
    await inside.c.closed;
    expect(await (await connect('lock', 'in')).call('join', { resume: { peerId: inside.peerId, sessionToken } })).toMatchObject({ ok: true });
    await teacher.c.ok('setRoomPolicy', { locked: false });
    expect(await (await connect('lock', 'late')).call('join')).toMatchObject({ ok: true });
  });

  it('room_full beyond the maximum of participants (teachers excepted) and of publishers', async () => {
    const peers = [await joinFully('sizes', 'a'), await joinFully('sizes', 'b'), await joinFully('sizes', 'c'), await joinFully('sizes', 'd')];
    expect(await (await connect('sizes', 'e')).call('join')).toMatchObject({ ok: false, error: { code: 'room_full' } });
    const teacher = await joinFully('sizes', 't', 'teacher');
    // Two publishers at most: a third student's first producer is refused, more sources of a
    // publisher are not, and the teacher publishes regardless.
    await produceMic(peers[0]!);
    await produceMic(peers[1]!);
    expect(await errorOf(peers[2]!.c, 'produce', { transportId: peers[2]!.sendId, kind: 'audio', source: 'mic', rtpParameters: opusRtpParameters(nextSsrc()) })).toBe('room_full');
    await produceVideo(peers[1]!);
    await produceMic(teacher);
    expect(server.rooms.get('sizes')!.peers.get(peers[2]!.peerId)!.producers.size).toBe(0);
  });

  it('one screen share at a time until the teacher allows more', async () => {
    const teacher = await joinFully('screens', 't', 'teacher');
    const a = await joinFully('screens', 'a');
    const b = await joinFully('screens', 'b');
    await produceVideo(a, 'screen');
    expect(await errorOf(b.c, 'produce', { transportId: b.sendId, kind: 'video', source: 'screen', rtpParameters: vp8RtpParameters(nextSsrc()) })).toBe('conflict');
    await teacher.c.ok('setRoomPolicy', { maxScreenShares: 2 });
    await produceVideo(b, 'screen');
  });
});

describe('moderation over the protocol', () => {
  it('mute pauses the microphone for everyone and tells the student; stop closes the camera everywhere', async () => {
    const teacher = await joinFully('moderate', 't', 'teacher');
    const student = await joinFully('moderate', 's');
    const watcher = await joinFully('moderate', 'w');
    const mic = await produceMic(student);
    await student.c.ok('resumeProducer', { producerId: mic.producerId });
    const cam = await produceVideo(student);
    await waitFor(() => watcher.c.serverRequests.filter((r) => r.method === 'newConsumer').length === 2, 5000, 'two consumers');
    const camConsumer = watcher.c.serverRequests.find((r) => r.data.producerId === cam.producerId)!.data.id;

    await teacher.c.ok('mutePeer', { peerId: student.peerId });
    await notified(student.c, 'moderated', (d) => d.action === 'muted' && d.source === 'mic');
    await notified(watcher.c, 'producerPaused', (d) => d.producerId === mic.producerId);
    const room = server.rooms.get('moderate')!;
    expect(room.peers.get(student.peerId)!.producers.get(mic.producerId)!.paused).toBe(true);
    // The default policy lets the student unmute again.
    await student.c.ok('resumeProducer', { producerId: mic.producerId });

    await teacher.c.ok('stopPeerSource', { peerId: student.peerId, source: 'cam' });
    await notified(student.c, 'moderated', (d) => d.action === 'stopped' && d.producerId === cam.producerId);
    await notified(watcher.c, 'consumerClosed', (d) => d.consumerId === camConsumer);
    const dump = await room.router.dump();
    expect(dump.mapProducerIdConsumerIds.map((e) => e.key)).not.toContain(cam.producerId);

    expect(await teacher.c.ok('muteAll')).toEqual({ muted: 1 });
    await waitFor(() => student.c.notifications.filter((n) => n.method === 'moderated' && (n.data as { action: string }).action === 'muted').length === 2, 5000, 'second mute');
  });

  it('remove: the peer is told, closed with 4005, released, and cannot rejoin with the same user id until the ban ends', async () => {
    const teacher = await joinFully('remove', 't', 'teacher');
    const student = await joinFully('remove', 'troll');
    const other = await joinFully('remove', 'nice');
    await produceMic(student);
    const room = server.rooms.get('remove')!;
    const transports = [...room.peers.get(student.peerId)!.transports.keys()];
    await teacher.c.ok('removePeer', { peerId: student.peerId, reason: 'spamming the chat' });
    expect(await student.c.closed).toMatchObject({ code: 4005 });
    expect(student.c.notifications).toContainEqual({ method: 'removed', data: { reason: 'spamming the chat', banSeconds: 2 } });
    await notified(other.c, 'peerLeft', (d) => d.peerId === student.peerId);
    const dump = await room.router.dump();
    for (const t of transports) expect(dump.transportIds).not.toContain(t);
    expect(room.peers.has(student.peerId)).toBe(false);

    const back = await connect('remove', 'troll');
    expect(await back.call('join')).toMatchObject({ ok: false, error: { code: 'forbidden', message: expect.stringContaining('removed') } });
    expect(await (await connect('remove', 'someone-else')).call('join')).toMatchObject({ ok: true });
    await new Promise((r) => setTimeout(r, 2100));
    expect(await (await connect('remove', 'troll')).call('join')).toMatchObject({ ok: true });
  });

  it('end class: everyone hears roomClosed (ended) and is closed with 4004; the room and its router are gone', async () => {
    const teacher = await joinFully('end', 't', 'teacher');
    const students = [await joinFully('end', 'a'), await joinFully('end', 'b')];
    await produceMic(students[0]!);
    const room = server.rooms.get('end')!;
    expect(await teacher.c.call('endClass')).toMatchObject({ ok: true });
    for (const p of [teacher, ...students]) {
      expect(await p.c.closed).toMatchObject({ code: 4004 });
      expect(p.c.notifications).toContainEqual({ method: 'roomClosed', data: { reason: expect.stringContaining('ended'), ended: true } });
    }
    expect(server.rooms.get('end')).toBeUndefined();
    expect(room.router.closed).toBe(true);
  });

  it('ending the class during a recording finalizes it (stopped, not failed), and the recording lets go of the room', async () => {
    const teacher = await joinFully('end-rec', 't', 'teacher');
    const room = server.rooms.get('end-rec')!;
    const { recordingId } = await teacher.c.ok<{ recordingId: string }>('startRecording');
    expect(room.observer.listenerCount('close')).toBe(1);
    expect(await teacher.c.call('endClass')).toMatchObject({ ok: true });
    await waitFor(() => server.recordings.get(recordingId).state === 'stopped', 5000, 'the recording stopped');
    expect(server.recordings.activeFor('end-rec')).toBeUndefined();
    expect(room.observer.listenerCount('close') + room.observer.listenerCount('newproducer')).toBe(0);
  });

  it('the room survives its teacher leaving, and a late joiner is offered every current producer', async () => {
    const teacher = await joinFully('stay', 't', 'teacher');
    const a = await joinFully('stay', 'a');
    await produceMic(teacher);
    await produceMic(a);
    await produceVideo(a);
    await teacher.c.ok('leave');
    const late = await joinFully('stay', 'late');
    await waitFor(() => late.c.serverRequests.filter((r) => r.method === 'newConsumer').length === 2, 5000, 'both of a’s producers');
    expect(late.join.peers).toHaveLength(1);
    expect(late.join).toHaveProperty('activeSpeaker');
  });
});

describe('hands', () => {
  it('queue in the order raised; a student lowers only its own; the teacher lowers anyone; late joiners see them', async () => {
    const teacher = await joinFully('hands', 't', 'teacher');
    const a = await joinFully('hands', 'a');
    const b = await joinFully('hands', 'b');
    await b.c.ok('raiseHand');
    await new Promise((r) => setTimeout(r, 5));
    await a.c.ok('raiseHand');
    const firstB = server.rooms.get('hands')!.peers.get(b.peerId)!.handRaisedAt!;
    await b.c.ok('raiseHand'); // again: keeps its place
    expect(server.rooms.get('hands')!.peers.get(b.peerId)!.handRaisedAt).toBe(firstB);
    await waitFor(() => teacher.c.notifications.filter((n) => n.method === 'peerUpdated').length >= 2, 5000, 'hand updates');
    const late = await joinFully('hands', 'late');
    const queue = (late.join.peers as { id: string; handRaisedAt: number | null }[])
      .filter((p) => p.handRaisedAt !== null)
      .sort((x, y) => x.handRaisedAt! - y.handRaisedAt!)
      .map((p) => p.id);
    expect(queue).toEqual([b.peerId, a.peerId]);
    expect(await errorOf(a.c, 'lowerHand', { peerId: b.peerId })).toBe('forbidden');
    await teacher.c.ok('lowerHand', { peerId: b.peerId });
    await notified(a.c, 'peerUpdated', (d) => (d.peer as { id: string; handRaisedAt: unknown }).id === b.peerId && (d.peer as { handRaisedAt: unknown }).handRaisedAt === null);
    await a.c.ok('lowerHand', {});
    expect(server.rooms.get('hands')!.peers.get(a.peerId)!.handRaisedAt).toBeNull();
  });
});

describe('chat', () => {
  it('orders messages, sends them to the others, and gives late joiners the last N', async () => {
    const a = await joinFully('chat', 'a');
    const b = await joinFully('chat', 'b', 'observer');
    const sent: number[] = [];
    for (let i = 0; i < 3; i++) {
      sent.push((await a.c.ok<{ message: { seq: number } }>('sendChat', { text: `a${i}` })).message.seq);
      sent.push((await b.c.ok<{ message: { seq: number } }>('sendChat', { text: `b${i}` })).message.seq);
    }
    expect(sent).toEqual([...sent].sort((x, y) => x - y));
    await waitFor(() => a.c.notifications.filter((n) => n.method === 'chat').length === 3, 5000, 'b’s messages at a');
    // Nobody is sent their own message back; each gets the other's, in order.
    const atA = a.c.notifications.filter((n) => n.method === 'chat').map((n) => (n.data as { message: { text: string } }).message.text);
    expect(atA).toEqual(['b0', 'b1', 'b2']);
    const late = await joinFully('chat', 'late');
    const history = late.join.chat as { seq: number; text: string; name: string }[];
    expect(history.map((m) => m.text)).toEqual(['b0', 'a1', 'b1', 'a2', 'b2']);
    expect(history[0]).toMatchObject({ name: 'b', role: 'observer' });
  });

  it('refuses empty, oversize and flooding messages, strips control characters, and stores nothing refused', async () => {
    const a = await joinFully('chat2', 'a');
    const b = await joinFully('chat2', 'b');
    expect(await errorOf(a.c, 'sendChat', { text: '   ' })).toBe('bad_request');
    expect(await errorOf(a.c, 'sendChat', { text: 'x'.repeat(101) })).toBe('bad_request');
    expect(await errorOf(a.c, 'sendChat', { text: 'x'.repeat(4001) })).toBe('bad_request');
    const { message } = await a.c.ok<{ message: { text: string } }>('sendChat', { text: 'hi\u202e there\u0007' });
    expect(message.text).toBe('hi there');
    // Burst of 3 at 1 a second: two more pass, then rate_limited; b is not affected.
    await a.c.ok('sendChat', { text: '2' });
    await a.c.ok('sendChat', { text: '3' });
    expect(await errorOf(a.c, 'sendChat', { text: '4' })).toBe('rate_limited');
    await b.c.ok('sendChat', { text: 'b still talks' });
    expect(server.rooms.get('chat2')!.chat.history().map((m) => m.text)).toEqual(['hi there', '2', '3', 'b still talks']);
  });

  it('drops what can fake or hide text: bidi marks, separators and invisible characters, in chat and in names', async () => {
    const a = await joinFully('chat3', 'a');
    const { message } = await a.c.ok<{ message: { text: string } }>('sendChat', { text: '\u061cone\u2028two\u2029three\u200bfour' });
    expect(message.text).toBe('onetwothreefour');
    // A name from the token, as every other participant sees it.
    const token = await server.tokens.sign({ room: 'chat3', sub: 'mallory', name: '\u202eTea\u200dcher\u200b', role: 'student' }, 600);
    const m = await WsClient.connect(`${server.wsUrl}?token=${token}`);
    await m.ok('join');
    const joined = await notified(a.c, 'peerJoined');
    expect((joined.data as { peer: { name: string } }).peer.name).toBe('Teacher');
    m.close();
  });
});
