import WebSocket from 'ws';
import { anyMessage } from '../../protocol/schema.js';

export interface Reply {
  id: number;
  ok: boolean;
  data?: unknown;
  error?: { code: string; message: string; redirect?: { url: string; nodeId: string } };
}

export class SocketClosed extends Error {
  constructor(readonly code: number) {
    super(`socket closed (${code}) before the reply`);
  }
}

/**
 * A bare protocol client over `ws`, for tests that speak the protocol directly. Every message it
 * receives is checked against the protocol schema (a malformed envelope fails the test).
 */
export class WsClient {
  readonly notifications: { method: string; data: unknown }[] = [];
  readonly serverRequests: { id: number; method: string; data: Record<string, unknown> }[] = [];
  readonly malformed: unknown[] = [];
  /** Answer the server's newConsumer requests with ok (default) or refuse them. */
  ackServerRequests = true;
  private nextId = 1;
  private readonly waiters = new Map<number, (r: Reply) => void>();
  closed: Promise<{ code: number; reason: string }>;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    ws.on('message', (raw) => {
      const json = JSON.parse(raw.toString()) as unknown;
      const parsed = anyMessage.safeParse(json);
      if (!parsed.success) {
        this.malformed.push(json);
        return;
      }
      const m = parsed.data;
      if ('ok' in m) this.waiters.get(m.id)?.(m as Reply);
      else if ('id' in m) {
        this.serverRequests.push(m as never);
        if (this.ackServerRequests) this.sendRaw({ id: m.id, ok: true, data: {} });
        else this.sendRaw({ id: m.id, ok: false, error: { code: 'conflict', message: 'not now' } });
      } else this.notifications.push(m);
    });
  }

  static connect(url: string, headers: Record<string, string> = {}, options: { autoPong?: boolean } = {}): Promise<WsClient> {
    const ws = new WebSocket(url, { headers, ...options });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
  }

  sendRaw(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Sends a request and resolves with the whole reply envelope, ok or not. */
  call(method: string, data: unknown = {}): Promise<Reply> {
    const id = this.nextId++;
    return this.callWithId(id, { id, method, data });
  }

  /** Resolves with the reply; rejects with SocketClosed if the socket closes first. */
  callWithId(id: number, envelope: unknown): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${JSON.stringify(envelope).slice(0, 80)}`)), 10_000);
      const onClose = (code: number) => {
        clearTimeout(timer);
        reject(new SocketClosed(code));
      };
      this.ws.once('close', onClose);
      this.waiters.set(id, (r) => {
        clearTimeout(timer);
        this.ws.off('close', onClose);
        this.waiters.delete(id);
        resolve(r);
      });
      this.sendRaw(envelope);
    });
  }

  /** Like call, but throws unless ok, and returns the data. */
  async ok<T = Record<string, unknown>>(method: string, data: unknown = {}): Promise<T> {
    const r = await this.call(method, data);
    if (!r.ok) throw new Error(`${method} failed: ${r.error?.code} ${r.error?.message}`);
    return r.data as T;
  }

  close(): void {
    this.ws.close();
  }
}

/** A valid Opus producer's RTP parameters, as a browser would send them. */
export function opusRtpParameters(ssrc: number) {
  return {
    codecs: [{ mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 } }],
    headerExtensions: [],
    encodings: [{ ssrc }],
    rtcp: { cname: `c${ssrc}`, reducedSize: true },
  };
}

/** A valid VP8 producer's RTP parameters (one encoding). */
export function vp8RtpParameters(ssrc: number) {
  return {
    codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, parameters: {}, rtcpFeedback: [] }],
    headerExtensions: [],
    encodings: [{ ssrc }],
    rtcp: { cname: `v${ssrc}`, reducedSize: true },
  };
}
