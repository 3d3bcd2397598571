import WebSocket, { WebSocketServer } from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SignalingError, SignalingSocket } from '../../protocol/client.js';
import { freePort } from '../helpers/ports.js';
import { waitFor } from '../helpers/serverProcess.js';

// The protocol client (protocol/client.ts) against a scripted peer: a plain `ws` server that sends
// what each test needs, well formed or not, and records what the client answers.
let wss: WebSocketServer;
let url: string;
/** What the scripted server does with each frame the client sends (parsed JSON). */
let onFrame: (msg: Record<string, unknown>, ws: WebSocket) => void = () => undefined;
/** Frames the server received, in order. */
const received: Record<string, unknown>[] = [];
let serverSide: WebSocket | undefined;
const clients: SignalingSocket[] = [];

beforeAll(async () => {
  const port = await freePort();
  wss = new WebSocketServer({ host: '127.0.0.1', port, verifyClient: (info: { req: { url?: string } }) => !info.req.url?.includes('refuse') });
  await new Promise((resolve) => wss.once('listening', resolve));
  url = `ws://127.0.0.1:${port}/ws`;
  wss.on('connection', (ws) => {
    serverSide = ws;
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as Record<string, unknown>;
      received.push(msg);
      onFrame(msg, ws);
    });
  });
});
afterEach(() => {
  clients.splice(0).forEach((c) => c.close());
  received.length = 0;
  onFrame = () => undefined;
});
afterAll(() => new Promise((resolve) => wss.close(resolve)));

async function open(opts: { requestTimeoutMs?: number } = {}) {
  const c = new SignalingSocket({ ...opts, socket: (u) => new WebSocket(u) });
  clients.push(c);
  const malformed: string[] = [];
  c.onMalformed = (_m, reason) => malformed.push(reason);
  await c.connect(url);
  await waitFor(() => serverSide?.readyState === WebSocket.OPEN, 2000, 'the server side');
  return { c, malformed, server: serverSide! };
}

const answer = (ws: WebSocket, msg: unknown) => ws.send(JSON.stringify(msg));

describe('the protocol client', () => {
  it('request: checks the answer against the schema; a refusal throws its code and redirect; call returns the envelope', async () => {
    const { c } = await open();
    onFrame = (m, ws) => {
      if (m.method === 'raiseHand') answer(ws, { id: m.id, ok: true, data: {} });
      else if (m.method === 'muteAll') answer(ws, { id: m.id, ok: true, data: { muted: 'many' } });
      else answer(ws, { id: m.id, ok: false, error: { code: 'redirect', message: 'elsewhere', redirect: { url: 'ws://127.0.0.9:1/ws', nodeId: 'n9' } } });
    };
    await expect(c.request('raiseHand', {})).resolves.toEqual({});
    await expect(c.request('muteAll', {})).rejects.toMatchObject({ code: 'internal', message: 'muteAll: malformed answer from server' });
    const refused = await c.request('join', {}).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SignalingError);
    expect(refused).toMatchObject({ code: 'redirect', redirect: { url: 'ws://127.0.0.9:1/ws', nodeId: 'n9' } });
    expect(await c.call('teleport', { x: 1 })).toEqual({ id: 4, ok: false, error: { code: 'redirect', message: 'elsewhere', redirect: { url: 'ws://127.0.0.9:1/ws', nodeId: 'n9' } } });
    expect(received.map((m) => m.method)).toEqual(['raiseHand', 'muteAll', 'join', 'teleport']);
  });

  it('callWithId and sendRaw send frames as they are', async () => {
    const { c } = await open();
    onFrame = (m, ws) => answer(ws, { id: m.id, ok: false, error: { code: 'bad_request', message: 'no data' } });
    expect(await c.callWithId(7, { id: 7, method: 'join' })).toMatchObject({ id: 7, ok: false });
    c.sendRaw({ id: 8, method: 'x', data: {}, extra: true });
    await waitFor(() => received.length === 2, 2000, 'the raw frame');
    expect(received).toEqual([{ id: 7, method: 'join' }, { id: 8, method: 'x', data: {}, extra: true }]);
  });

  it('times out a request by its own timeout or the default', async () => {
    const { c } = await open({ requestTimeoutMs: 1000 });
    const t0 = Date.now();
    await expect(c.request('raiseHand', {}, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'timeout', message: 'raiseHand: no answer' });
    expect(Date.now() - t0).toBeLessThan(900);
    await expect(c.call('raiseHand')).rejects.toMatchObject({ code: 'timeout' });
  });

  it('emits valid notifications and reports everything that fails the schema instead', async () => {
    const { c, malformed, server } = await open();
    const seen: unknown[] = [];
    c.on('peerLeft', (d) => seen.push(d));
    server.send('{not json');
    answer(server, { method: 'peerLeft' }); // no data
    answer(server, { method: 'peerLeft', data: { peerId: 42 } });
    answer(server, { method: 'teleported', data: {} });
    answer(server, { id: 3, method: 'newConsumer', data: { id: 'c' } });
    answer(server, { method: 'peerLeft', data: { peerId: 'p1' } });
    await waitFor(() => seen.length === 1, 2000, 'the valid notification');
    expect(seen).toEqual([{ peerId: 'p1' }]);
    expect(malformed).toEqual(['not JSON', 'not a protocol envelope', 'peerLeft: data does not match the schema', 'unknown notification teleported', 'newConsumer: data does not match the schema']);
    await waitFor(() => received.length === 1, 2000, 'the answer to the malformed request');
    expect(received[0]).toMatchObject({ id: 3, ok: false, error: { code: 'bad_request' } });
  });

  it("answers the server's requests: ok, a refusal with the handler's code, or internal", async () => {
    const { c, server } = await open();
    const newConsumer = (id: number) => ({ id, method: 'newConsumer', data: { id: `c${id}`, producerId: 'p', peerId: 'x', kind: 'audio', source: 'mic', rtpParameters: { codecs: [{}] }, type: 'simple', producerPaused: false } });
    const seen: [string, string, number][] = [];
    c.onServerRequest = async (method, data, id) => {
      seen.push([method, data.id, id]);
      if (id === 2) throw new SignalingError('conflict', 'not now');
      if (id === 3) throw new Error('boom');
    };
    for (const id of [1, 2, 3]) answer(server, newConsumer(id));
    await waitFor(() => received.length === 3, 2000, 'three answers');
    expect(seen).toEqual([['newConsumer', 'c1', 1], ['newConsumer', 'c2', 2], ['newConsumer', 'c3', 3]]);
    expect(received).toEqual([
      { id: 1, ok: true, data: {} },
      { id: 2, ok: false, error: { code: 'conflict', message: 'not now' } },
      { id: 3, ok: false, error: { code: 'internal', message: 'boom' } },
    ]);
  });

  it('fails pending requests when the socket closes, and says why in the close event', async () => {
    const { c, server } = await open();
    const closed = new Promise((resolve) => c.on('close', resolve));
    const pending = c.request('raiseHand', {});
    await waitFor(() => received.length === 1, 2000, 'the request');
    server.close(4005, 'removed');
    await expect(pending).rejects.toMatchObject({ code: 'disconnected' });
    expect(await closed).toEqual({ code: 4005, reason: 'removed' });
    expect(c.connected).toBe(false);
    await expect(c.request('raiseHand', {})).rejects.toMatchObject({ code: 'disconnected', message: 'cannot raiseHand: not connected' });
  });

  it('switchTo moves to another URL without a close event; a refused upgrade rejects connect', async () => {
    const { c } = await open();
    let closes = 0;
    c.on('close', () => closes++);
    await c.switchTo(`${url}?second`);
    expect(c.connected).toBe(true);
    expect(closes).toBe(0);
    const refused = new SignalingSocket({ socket: (u) => new WebSocket(u) });
    await expect(refused.connect(`${url}?refuse`)).rejects.toMatchObject({ code: 'disconnected' });
  });
});
