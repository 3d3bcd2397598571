import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openClass, type ClassFleet, type ClassMode } from '../../bench/lib/classroom.js';
import { measure, type Sample } from '../../bench/lib/fleet.js';
import { Loadgen, type LoadgenStats } from '../../bench/lib/loadgen.js';
import { audioRate, defaultLayers, mutedAudioRate, type Publisher, type Subscriber } from '../../bench/lib/participants.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// The `class` benchmark's machinery (bench/class.ts), small: a teacher and 3 students through the
// same code, each showing 2 videos. What a view hides gets no packets, what it shows arrives at the
// layer its size asks, muted microphones are not expected, and a student nobody shows stops
// sending video at the generator (layersWanted followed); without views everyone gets everything.
const secret = 'class-scenario-test-secret-0123456789-ab';
let server: TestServer;
let loadgen: Loadgen;
const fleets: ClassFleet[] = [];

beforeAll(async () => {
  server = await startTestServer({ SFU_JWT_SECRET: secret });
  loadgen = await Loadgen.start();
}, 120_000);
afterAll(async () => {
  for (const f of fleets) await f.close().catch(() => undefined);
  await loadgen?.stop();
  await server?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const [top, mid] = [defaultLayers[2]!.rate, defaultLayers[1]!.rate];

async function open(mode: ClassMode): Promise<ClassFleet> {
  const fleet = await openClass({ wsUrl: server.wsUrl, secret }, loadgen, {
    room: `class-test-${mode}`,
    students: 3,
    mode,
    tiles: 2,
    stage: { width: 1280, height: 720 },
    tile: { width: 320, height: 180 },
    openMics: 1,
    followLayersWanted: true,
  });
  fleets.push(fleet);
  return fleet;
}

/** Two samples `ms` apart, as a measurement window takes them (no CPU: the server runs in this process). */
async function window(ms: number): Promise<[Sample, Sample]> {
  const at = async (): Promise<Sample> => ({ stats: await loadgen.stats(), workerMs: [], workerSysMs: [], nodeMs: 0, at: performance.now() });
  const a = await at();
  await sleep(ms);
  return [a, await at()];
}

/** Packets per second `sub` got of `pub`'s video and audio over the window. */
function ratesOf(w: [Sample, Sample], sub: Subscriber, pub: Publisher): { video: number; audio: number } {
  const secs = (w[1].stats.t - w[0].stats.t) / 1000;
  const got = (s: LoadgenStats, ssrc: number) => s.sessions.find((x) => x.id === sub.sessionId)?.ssrcs.find(([x]) => x === ssrc)?.[1] ?? 0;
  const rate = (producerId: string | undefined) => {
    const c = [...sub.consumers.values()].find((x) => x.producerId === producerId)!;
    return (got(w[1].stats, c.ssrc) - got(w[0].stats, c.ssrc)) / secs;
  };
  return { video: rate(pub.videoProducerId), audio: rate(pub.audioProducerId) };
}

/** What a publisher's generator session sent per second over the window. */
function sentRate(w: [Sample, Sample], pub: Publisher): number {
  const sent = (s: LoadgenStats) => s.sessions.find((x) => x.id === pub.sessionId)!.sent;
  return (sent(w[1].stats) - sent(w[0].stats)) / ((w[1].stats.t - w[0].stats.t) / 1000);
}

describe('the class benchmark, small', () => {
  it('shown: each member gets the videos its gallery shows, at their sizes, and nothing of the others; a student nobody shows sends no video', async () => {
    const f = await open('shown');
    const [t, s0, s1, s2] = [f.teacher, ...f.students];
    // Galleries of 2: the teacher shows s0 and s1; s0 shows the teacher (stage) and s1; s1 and s2
    // show the teacher and s0. Nobody shows s2.
    await waitFor(() => s2!.publisher.sendingLayers === 0, 10_000, "s2's video stopped (layersWanted null)");
    expect(s2!.publisher.layersWanted.at(-1)?.spatialLayer).toBeNull();
    expect([t.publisher.sendingLayers, s0!.publisher.sendingLayers, s1!.publisher.sendingLayers]).toEqual([3, 2, 2]);
    await sleep(2000); // layers settle
    const w = await window(3000);

    const shown: [Subscriber, Publisher, number][] = [
      [t.subscriber, s0!.publisher, mid],
      [t.subscriber, s1!.publisher, mid],
      [s0!.subscriber, t.publisher, top],
      [s0!.subscriber, s1!.publisher, mid],
      [s1!.subscriber, t.publisher, top],
      [s1!.subscriber, s0!.publisher, mid],
      [s2!.subscriber, t.publisher, top],
      [s2!.subscriber, s0!.publisher, mid],
    ];
    for (const [sub, pub, rate] of shown) {
      const r = ratesOf(w, sub, pub).video;
      expect(r, `${sub.sessionId} gets ${pub.sessionId}'s video`).toBeGreaterThan(0.8 * rate);
      expect(r).toBeLessThan(1.2 * rate);
    }
    const hidden: [Subscriber, Publisher][] = [
      [t.subscriber, s2!.publisher],
      [s0!.subscriber, s2!.publisher],
      [s1!.subscriber, s2!.publisher],
      [s2!.subscriber, s1!.publisher],
    ];
    for (const [sub, pub] of hidden) expect(ratesOf(w, sub, pub).video, `${sub.sessionId} gets none of ${pub.sessionId}'s video`).toBe(0);

    // Microphones: the teacher's and s0's are open, s1's and s2's stay muted (the class's policy).
    expect(ratesOf(w, s1!.subscriber, t.publisher).audio).toBeGreaterThan(0.9 * audioRate);
    expect(ratesOf(w, s1!.subscriber, s0!.publisher).audio).toBeGreaterThan(0.9 * audioRate);
    expect(ratesOf(w, t.subscriber, s1!.publisher).audio).toBe(0);
    expect(ratesOf(w, t.subscriber, s2!.publisher).audio).toBe(0);

    // At the generator: s2 sends only its muted microphone's DTX packets, the teacher all three layers.
    expect(sentRate(w, s2!.publisher)).toBeLessThan(mutedAudioRate + 2);
    expect(sentRate(w, t.publisher)).toBeGreaterThan(0.9 * (audioRate + defaultLayers.reduce((n, l) => n + l.rate, 0)));

    // The scenario's own arithmetic: what arrived against what the layers and pauses say should.
    const m = measure(w[0], w[1], [f]);
    expect(m.expectedPps).toBeGreaterThan(0);
    expect(m.lossPct).toBeLessThan(3);
  });

  it('all: without views everyone receives every video at its top layer and every publisher sends every layer', async () => {
    const f = await open('all');
    const members = [f.teacher, ...f.students];
    await sleep(3000);
    const w = await window(3000);
    for (const sub of members) {
      for (const pub of members) {
        if (sub === pub) continue;
        const r = ratesOf(w, sub.subscriber, pub.publisher).video;
        expect(r, `${sub.name} gets ${pub.name}'s video at the top layer`).toBeGreaterThan(0.8 * top);
      }
    }
    for (const m of members) expect(m.publisher.sendingLayers).toBe(3);
    expect(measure(w[0], w[1], [f]).lossPct).toBeLessThan(3);
  });
});
