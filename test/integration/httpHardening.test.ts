import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// What the HTTP side gives away and what its scrapes cost, against a real server (issue: hardening).
let server: TestServer;
const metricsToken = 'metrics-token-0123456789';

beforeAll(async () => {
  // The product's defaults for the demo page and the scrape cache (the test defaults turn both off).
  server = await startTestServer({ SFU_DEMO_AUTOJOIN: 'false', SFU_METRICS_CACHE_MS: '5000', SFU_METRICS_TOKEN: metricsToken });
});
afterAll(async () => server?.close());

const postToken = (body: unknown) =>
  fetch(`${server.url}/api/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const collections = (text: string) => Number(/^sfu_metrics_collections_total (\d+)/m.exec(text)?.[1] ?? NaN);
const scrape = () => fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });

describe('development tokens', () => {
  it('are issued for a participant role, never for admin (which reads every room)', async () => {
    const admin = await postToken({ room: 'r', name: 'mallory', role: 'admin' });
    expect(admin.status).toBe(400);
    expect(((await admin.json()) as { token?: string }).token).toBeUndefined();
    const student = await postToken({ room: 'r', name: 'ana', role: 'student' });
    expect(student.status).toBe(200);
    const { token } = (await student.json()) as { token: string };
    expect((await server.tokens.verify(token)).role).toBe('student');
  });
});

describe('security headers', () => {
  it('the demo page may load only its own code, talk only to WebSocket servers, and never be framed', async () => {
    const res = await fetch(`${server.url}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("object-src 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    // Plain HTTP: no HSTS (test/integration/https.test.ts checks it is sent over HTTPS).
    expect(res.headers.get('strict-transport-security')).toBeNull();
    // The API answers carry them too.
    expect((await fetch(`${server.url}/healthz`)).headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('the demo page is told not to join by itself from a link', async () => {
    expect(await (await fetch(`${server.url}/demo-settings.json`)).json()).toEqual({ autojoin: false });
  });
});

describe('GET /metrics', () => {
  it('needs the bearer token when SFU_METRICS_TOKEN is set', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const ok = await scrape();
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('sfu_rooms');
  });

  it('a hundred concurrent scrapes, and more within the cache time, cost one collection from the workers', async () => {
    await new Promise((r) => setTimeout(r, 5100)); // past the previous test's collection
    const texts = await Promise.all(Array.from({ length: 100 }, async () => (await scrape()).text()));
    const seen = new Set(texts.map(collections));
    expect(seen.size).toBe(1);
    const first = [...seen][0]!;
    for (let i = 0; i < 20; i++) expect(collections(await (await scrape()).text())).toBe(first);
  });
});

describe('GET /healthz', () => {
  it('two hundred concurrent checks are answered from one look at the workers', async () => {
    // Count the looks: each asks every worker for a dump.
    const pool = server.pool;
    const health = pool.health.bind(pool);
    let looks = 0;
    pool.health = (...args) => (looks++, health(...args));
    try {
      await new Promise((r) => setTimeout(r, 1100)); // past any earlier check's answer
      const answers = await Promise.all(Array.from({ length: 200 }, async () => (await fetch(`${server.url}/healthz`)).json()));
      expect(answers.every((a) => (a as { status: string }).status === 'ok')).toBe(true);
      expect(looks).toBe(1);
    } finally {
      pool.health = health;
    }
  });
});
