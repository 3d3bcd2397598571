import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenService, type AccessClaims } from '../../server/auth/tokens.js';
import { notified } from '../helpers/peers.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';
import { WsClient } from '../helpers/wsClient.js';

// A session lasts as long as its access token, unless the client hands in a fresh one; tokens may
// be required to carry an issuer and an audience. Real server, real sockets.
const secret = 'session-tokens-secret-0123456789abcdef';
let server: TestServer;
const clients: WsClient[] = [];

beforeAll(async () => {
  server = await startTestServer({ SFU_JWT_SECRET: secret, SFU_JWT_ISSUER: 'https://lms.school.example', SFU_JWT_AUDIENCE: 'classroom-sfu' });
});
afterAll(async () => {
  clients.forEach((c) => c.close());
  await server?.close();
});

const claims = (sub: string, extra: Partial<AccessClaims> = {}): AccessClaims => ({ room: 'tokens', sub, name: sub, role: 'student', ...extra });
async function joined(sub: string, ttlSec: number): Promise<WsClient> {
  const c = await WsClient.connect(`${server.wsUrl}?token=${await server.tokens.sign(claims(sub), ttlSec)}`);
  clients.push(c);
  await c.ok('join');
  return c;
}

describe('a session and its token', () => {
  it('is told before the token expires, and closed with 4001 after it unless it sends a fresh one', async () => {
    const [keeps, lapses] = await Promise.all([joined('keeps', 4), joined('lapses', 4)]);
    // Halfway through a short-lived token: both are told when it expires.
    const notice = await notified(keeps, 'tokenExpiring');
    expect((notice.data as { expiresAt: number }).expiresAt).toBeGreaterThan(Date.now());
    await notified(lapses, 'tokenExpiring');
    const renewed = await keeps.ok<{ expiresAt: number }>('refreshToken', { token: await server.tokens.sign(claims('keeps'), 600) });
    expect(renewed.expiresAt).toBeGreaterThan(Date.now() + 590_000);
    // 4 s of token and 5 s of grace later, the one that did not renew is closed; the other goes on.
    const closed = await lapses.closed;
    expect(closed.code).toBe(4001);
    expect(lapses.notifications.find((n) => n.method === 'error')?.data).toMatchObject({ code: 'unauthorized', message: expect.stringContaining('expired') });
    expect(keeps.ws.readyState).toBe(keeps.ws.OPEN);
    expect((await keeps.call('raiseHand')).ok).toBe(true);
  }, 20_000);

  it('takes a fresh token only for the same room, user and role, and only a valid one', async () => {
    const c = await joined('strict', 600);
    const refusal = async (token: string) => (await c.call('refreshToken', { token })).error?.code;
    expect(await refusal(await server.tokens.sign(claims('someone-else'), 600))).toBe('forbidden');
    expect(await refusal(await server.tokens.sign(claims('strict', { room: 'another' }), 600))).toBe('forbidden');
    expect(await refusal(await server.tokens.sign(claims('strict', { role: 'teacher' }), 600))).toBe('forbidden');
    expect(await refusal(await server.tokens.sign(claims('strict', { role: 'admin' }), 600))).toBe('forbidden');
    expect(await refusal(await server.tokens.sign(claims('strict'), -10))).toBe('unauthorized');
    expect(await refusal('not.a.jwt')).toBe('unauthorized');
    expect(c.ws.readyState).toBe(c.ws.OPEN);
  });

  it('refuses tokens without the configured issuer or audience', async () => {
    const bare = new TokenService(secret); // signs with the right secret, but no iss / aud
    const wrongAudience = new TokenService(secret, { issuer: 'https://lms.school.example', audience: 'another-service' });
    for (const tokens of [bare, wrongAudience]) {
      const c = await WsClient.connect(`${server.wsUrl}?token=${await tokens.sign(claims('outsider'), 600)}`);
      expect((await c.closed).code).toBe(4001);
      expect(c.notifications[0]).toMatchObject({ method: 'error', data: { code: 'unauthorized' } });
    }
  });
});
