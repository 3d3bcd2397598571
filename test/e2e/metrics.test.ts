import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { openClassPage } from '../helpers/classPage.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { WsClient } from '../helpers/wsClient.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ SFU_WORKERS: '2' });
});
afterAll(async () => server?.close());

/** Parses the Prometheus text format into "name{labels}" → value. */
async function scrape(): Promise<Map<string, number>> {
  const res = await fetch(`${server.url}/metrics`);
  expect(res.headers.get('content-type')).toContain('text/plain');
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

describe('GET /metrics', () => {
  it('reports rooms, peers, producers, per-worker load, join latency, errors and media bytes', async () => {
    const browser = await launchChromium();
    try {
      await openClassPage(browser, server.url, 'metrics', 'Ada');
      const token = await server.tokens.sign({ room: 'metrics', sub: 'b', name: 'b', role: 'student' }, 600);
      const c = await WsClient.connect(`${server.wsUrl}?token=${token}`);
      await c.ok('join');
      expect((await c.call('closeProducer', { producerId: 'nope' })).ok).toBe(false);
      expect((await c.call('join', { extra: 1 })).ok).toBe(false);

      const m = await waitFor(async () => {
        const s = await scrape();
        return (s.get('sfu_transport_bytes{direction="in"}') ?? 0) > 10_000 && (s.get('sfu_producer_packets{type="received"}') ?? 0) > 100 ? s : undefined;
      }, 15_000, 'media counted');
      expect(m.get('sfu_rooms')).toBe(1);
      expect(m.get('sfu_peers')).toBe(2);
      expect(m.get('sfu_producers{kind="audio"}')).toBe(1);
      // Nobody consumes Ada's media here (the bare client has no receive transport).
      expect(m.get('sfu_consumer_packets{type="sent"}')).toBe(0);
      expect(m.get('sfu_producers{kind="video"}')).toBe(1);
      const routers = (m.get('sfu_worker_routers{worker="0"}') ?? 0) + (m.get('sfu_worker_routers{worker="1"}') ?? 0);
      expect(routers).toBe(1);
      const transports = (m.get('sfu_worker_transports{worker="0"}') ?? 0) + (m.get('sfu_worker_transports{worker="1"}') ?? 0);
      expect(transports).toBe(2); // the browser's send and receive transports
      expect(m.has('sfu_worker_cpu_ratio{worker="0"}')).toBe(true);
      expect(m.get('sfu_join_duration_seconds_count')).toBe(2);
      expect(m.get('sfu_signaling_errors_total{code="not_found"}')).toBe(1);
      expect(m.get('sfu_signaling_errors_total{code="bad_request"}')).toBe(1);
      // Only the send transport connects: a receive transport connects once it has something to consume.
      expect(m.get('sfu_transports_connected{path="direct"}')).toBe(1);
      expect(m.get('sfu_recordings{state="recording"}')).toBe(0);
      expect(m.has('sfu_node_process_cpu_seconds_total')).toBe(true);
      // Ada's uplink is measured (loopback: good); the bare client sends and receives nothing.
      await waitFor(async () => (await scrape()).get('sfu_peers_by_quality{direction="uplink",level="good"}') === 1, 15_000, 'an uplink rated good');
      expect((await scrape()).get('sfu_peers_by_quality{direction="uplink",level="poor"}')).toBe(0);
      c.close();
    } finally {
      await browser.close();
    }
  });
});
