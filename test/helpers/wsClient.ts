import WebSocket from 'ws';
import { SignalingError, SignalingSocket, type RequestOptions } from '../../protocol/client.js';
import { notifications, type ClientMethod, type ClientRequestData, type ClientResponseData, type NotificationMethod } from '../../protocol/schema.js';

/** A reply envelope, ok or not, as tests read it. */
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
 * The protocol client (protocol/client.ts) over `ws`, for tests that speak the protocol directly:
 * it logs what the server sends, answers its requests, and returns whole reply envelopes so that
 * refusals can be asserted on. A message that fails the protocol schema lands in `malformed`.
 */
export class WsClient {
  readonly notifications: { method: string; data: unknown }[] = [];
  readonly serverRequests: { id: number; method: string; data: Record<string, unknown> }[] = [];
  readonly malformed: unknown[] = [];
  /** Answer the server's newConsumer requests with ok (default) or refuse them. */
  ackServerRequests = true;
  readonly closed: Promise<{ code: number; reason: string }>;
  /** The socket underneath, for what only `ws` does (binary frames, readyState). */
  ws!: WebSocket;
  private closeCode = 0;

  private constructor(readonly client: SignalingSocket) {
    this.closed = new Promise((resolve) =>
      client.on('close', (ev) => {
        this.closeCode = ev.code;
        resolve(ev);
      }),
    );
    for (const method of Object.keys(notifications) as NotificationMethod[]) client.on(method, (data) => this.notifications.push({ method, data }));
    client.onMalformed = (message) => this.malformed.push(message);
    client.onServerRequest = async (method, data, id) => {
      this.serverRequests.push({ id, method, data });
      if (!this.ackServerRequests) throw new SignalingError('conflict', 'not now');
    };
  }

  /**
   * Opens a socket; rejects with `HTTP <status>` when the server refuses the upgrade. `token` is
   * presented as a subprotocol (the SDK's way); tests that put it in the URL use the older form.
   */
  static async connect(url: string, headers: Record<string, string> = {}, options: { autoPong?: boolean; token?: string } = {}): Promise<WsClient> {
    const { token, ...wsOptions } = options;
    let refused: number | undefined;
    const client = new SignalingSocket({
      requestTimeoutMs: 10_000,
      socket: (u, protocols) => {
        const ws = new WebSocket(u, protocols ?? [], { headers, ...wsOptions });
        ws.once('unexpected-response', (_req, res) => {
          refused = res.statusCode;
          ws.terminate();
        });
        c.ws = ws;
        return ws;
      },
    });
    const c = new WsClient(client);
    try {
      await client.connect(url, token);
    } catch (err) {
      throw refused === undefined ? err : new Error(`HTTP ${refused}`);
    }
    return c;
  }

  sendRaw(msg: unknown): void {
    this.client.sendRaw(msg);
  }

  /** Sends a request and resolves with the whole reply envelope, ok or not. */
  call(method: string, data: unknown = {}): Promise<Reply> {
    return this.closedAsSocketClosed(this.client.call(method, data));
  }

  /** Resolves with the reply; rejects with SocketClosed if the socket closes first. */
  callWithId(id: number, envelope: unknown): Promise<Reply> {
    return this.closedAsSocketClosed(this.client.callWithId(id, envelope));
  }

  /** Like call, but throws unless ok, and returns the data. */
  async ok<T = Record<string, unknown>>(method: string, data: unknown = {}): Promise<T> {
    const r = await this.call(method, data);
    if (!r.ok) throw new Error(`${method} failed: ${r.error?.code} ${r.error?.message}`);
    return r.data as T;
  }

  /** A typed request: the answer is checked against the protocol schema; a refusal throws a SignalingError. */
  request<M extends ClientMethod>(method: M, data: ClientRequestData<M>, opts?: RequestOptions): Promise<ClientResponseData<M>> {
    return this.client.request(method, data, opts);
  }

  close(): void {
    this.client.close();
  }

  private async closedAsSocketClosed(reply: Promise<Reply>): Promise<Reply> {
    try {
      return await reply;
    } catch (err) {
      // The close event has run by now (the client fails its requests from its close handler).
      if (err instanceof SignalingError && err.code === 'disconnected') throw new SocketClosed(this.closeCode);
      throw err;
    }
  }
}
