import fc from 'fast-check';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientRequests, errorCodes, errorResponse, okResponse } from '../../protocol/schema.js';
import { launchChromium } from '../helpers/browser.js';
import { openClassPage, waitForVideoFrom } from '../helpers/classPage.js';
import { opusRtpParameters } from '../helpers/rtpParameters.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { SocketClosed, WsClient } from '../helpers/wsClient.js';

// Property-based fuzzing of the whole protocol against a live server with two real browsers in the
// room: random methods, payloads and orders, valid messages in nonsense sequences, ids of other
// peers' and of closed objects. 10,000 messages; bounded; loopback only.
const total = 10_000;
const ID = '$ID';
let server: TestServer;
let browser: Browser;
let pages: Page[];
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled);
  server = await startTestServer({ SFU_RATE_LIMIT_PER_SEC: '100000', SFU_RATE_LIMIT_BURST: '100000' });
  browser = await launchChromium();
  pages = [await openClassPage(browser, server.url, 'fuzz', 'Ada'), await openClassPage(browser, server.url, 'fuzz', 'Ben')];
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await browser?.close();
  await server?.close();
});

/** Every id the server knows right now, live or not, plus ones that were closed. */
const seenIds = new Set<string>();
function idPool(): string[] {
  for (const room of server.rooms.all()) {
    for (const peer of room.peers.values()) {
      seenIds.add(peer.id);
      for (const m of [peer.transports, peer.producers, peer.consumers]) for (const id of m.keys()) seenIds.add(id);
    }
  }
  return [...seenIds];
}

const fieldNames = ['transportId', 'producerId', 'consumerId', 'direction', 'kind', 'source', 'rtpParameters', 'dtlsParameters', 'rtpCapabilities', 'spatialLayer', 'temporalLayer', 'priority', 'resume', 'paused', 'peerId', 'text', 'allowed', 'locked', 'reason', 'x'];
const fieldValue = fc.oneof(
  { weight: 6, arbitrary: fc.constant(ID) },
  { weight: 2, arbitrary: fc.constantFrom('send', 'recv', 'audio', 'video', 'mic', 'cam', 'screen') },
  { weight: 1, arbitrary: fc.constant(opusRtpParameters(7)) },
  { weight: 1, arbitrary: fc.constant({ fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }], role: 'client' }) },
  { weight: 1, arbitrary: fc.constant({ codecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] }) },
  { weight: 1, arbitrary: fc.integer({ min: -5, max: 300 }) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.anything({ maxDepth: 2 }) },
);
const message = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.record({
      method: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...Object.keys(clientRequests)) }, { weight: 1, arbitrary: fc.string() }),
      data: fc.dictionary(fc.constantFrom(...fieldNames), fieldValue, { maxKeys: 4 }),
      socket: fc.nat(3),
    }).map((m) => ({ ...m, kind: 'request' as const })),
  },
  { weight: 1, arbitrary: fc.record({ raw: fc.jsonValue({ maxDepth: 3 }), socket: fc.nat(3) }).map((m) => ({ ...m, kind: 'raw' as const })) },
  { weight: 1, arbitrary: fc.record({ ok: fc.boolean(), socket: fc.nat(3) }).map((m) => ({ ...m, kind: 'response' as const })) },
  { weight: 1, arbitrary: fc.record({ socket: fc.nat(3) }).map((m) => ({ ...m, kind: 'garbage' as const })) },
);

describe('fuzzing the protocol', () => {
  it(`${total} random messages: no crash, every reply well formed, and the browsers still decode`, async () => {
    const rooms = ['fuzz', 'fuzz', 'other', 'fuzz'];
    const tokens = await Promise.all(rooms.map((room, i) => server.tokens.sign({ room, sub: `fuzzer-${i}`, name: `f${i}`, role: i === 3 ? 'observer' : 'student' }, 3600)));
    const sockets: WsClient[] = await Promise.all(tokens.map((t) => WsClient.connect(`${server.wsUrl}?token=${t}`)));
    const samples = fc.sample(message, { numRuns: total, seed: 20261126 });
    let replies = 0;
    let reconnects = 0;
    const codes = new Set<string>();
    for (const [i, m] of samples.entries()) {
      let client = sockets[m.socket]!;
      if (client.ws.readyState !== client.ws.OPEN) {
        client = sockets[m.socket] = await WsClient.connect(`${server.wsUrl}?token=${tokens[m.socket]}`);
        reconnects++;
      }
      if (m.kind === 'request') {
        const pool = idPool();
        let pick = i;
        // Deterministic choice of ids, so that a failing run can be replayed from the seed.
        const data = JSON.parse(JSON.stringify(m.data), (_k, v) => (v === ID ? pool[(pick++ * 7919) % Math.max(1, pool.length)] ?? 'none' : v));
        let reply;
        try {
          reply = await client.call(m.method, data);
        } catch (err) {
          // Only a garbage frame just before (1007, 1009) or an idle socket (4002) may close it.
          expect(err).toBeInstanceOf(SocketClosed);
          expect([1007, 1009, 4002]).toContain((err as SocketClosed).code);
          continue;
        }
        replies++;
        expect(okResponse.safeParse(reply).success || errorResponse.safeParse(reply).success, JSON.stringify(reply)).toBe(true);
        if (!reply.ok) {
          expect(errorCodes).toContain(reply.error!.code);
          codes.add(reply.error!.code);
          expect(reply.error!.code, `${m.method} ${JSON.stringify(data).slice(0, 200)}: ${reply.error!.message}`).not.toBe('internal');
        }
      } else if (m.kind === 'raw') {
        client.sendRaw(JSON.stringify(m.raw));
      } else if (m.kind === 'response') {
        client.sendRaw(m.ok ? { id: 999_999, ok: true, data: {} } : { id: 999_999, ok: false, error: { code: 'conflict', message: 'x' } });
      } else {
        client.sendRaw('\u0000{not json');
      }
    }
    for (const s of sockets) expect(s.malformed).toEqual([]);
    expect(replies).toBeGreaterThan(total * 0.8);
    expect(codes.has('bad_request') && codes.has('not_found') && codes.has('conflict')).toBe(true);
    expect(reconnects).toBeGreaterThan(0); // garbage frames did close sockets (1007)
    expect(unhandled).toEqual([]);

    // The server is healthy and the class still works: each browser decodes the other's video.
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const [a, b] = pages as [Page, Page];
    await waitForVideoFrom(a, b, 10_000);
    await waitForVideoFrom(b, a, 10_000);
    for (const s of sockets) s.close();
  });
});
