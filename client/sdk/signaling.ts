import {
  anyMessage,
  clientRequests,
  notifications,
  serverRequests,
  type ClientMethod,
  type ClientRequestData,
  type ClientResponseData,
  type ErrorCode,
  type NotificationData,
  type NotificationMethod,
  type RedirectTarget,
  type ServerMethod,
  type ServerRequestData,
} from '../../protocol/schema.js';
import { Emitter } from './emitter.js';

/** A request the server refused: `code` is one of the protocol's error codes. */
export class SignalingError extends Error {
  constructor(
    readonly code: ErrorCode | 'disconnected' | 'timeout' | 'relay_unavailable',
    message: string,
    /** Cluster: with code `redirect`, the node the room lives on. */
    readonly redirect?: RedirectTarget,
  ) {
    super(message);
    this.name = 'SignalingError';
  }
}

type NotificationEvents = { [M in NotificationMethod]: [NotificationData<M>] };
export type SignalingEvents = NotificationEvents & {
  open: [];
  close: [{ code: number; reason: string }];
};

export type ServerRequestHandler = <M extends ServerMethod>(method: M, data: ServerRequestData<M>) => Promise<void>;

/**
 * One WebSocket to the server: requests with answers, notifications, and the server's own requests.
 * Every incoming message is validated against the shared protocol schema. Reconnection is the
 * caller's business (see Classroom), since it needs a fresh token-bearing URL and a resume.
 */
export class SignalingSocket extends Emitter<SignalingEvents> {
  private ws: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  onServerRequest: ServerRequestHandler = async () => {
    throw new SignalingError('bad_request', 'no handler');
  };

  constructor(
    private readonly requestTimeoutMs = 15_000,
    /** A node that does not answer the connection by then counts as down (e.g. a dead machine). */
    private readonly connectTimeoutMs = 10_000,
  ) {
    super();
  }

  get connected(): boolean {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  connect(url: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      this.ws = ws;
      let opened = false;
      const timer = setTimeout(() => ws.close(), this.connectTimeoutMs);
      ws.onopen = () => {
        opened = true;
        clearTimeout(timer);
        this.emit('open');
        resolve();
      };
      ws.onmessage = (ev) => this.onMessage(ev.data);
      ws.onclose = (ev) => {
        clearTimeout(timer);
        if (this.ws === ws) this.ws = undefined;
        this.failPending(new SignalingError('disconnected', `socket closed (${ev.code} ${ev.reason})`));
        if (!opened) reject(new SignalingError('disconnected', `could not connect (${ev.code})`));
        this.emit('close', { code: ev.code, reason: ev.reason });
      };
    });
  }

  close(code = 1000, reason = 'bye'): void {
    this.ws?.close(code, reason);
  }

  /**
   * Moves to another server (a cluster's redirect): the current socket is closed without a `close`
   * event (this is no dropped connection), then the new one is opened.
   */
  async switchTo(url: string): Promise<void> {
    const old = this.ws;
    if (old) {
      old.onclose = null;
      old.onmessage = null;
      old.close(1000, 'redirected');
      if (this.ws === old) this.ws = undefined;
      this.failPending(new SignalingError('disconnected', 'socket moved to another server'));
    }
    await this.connect(url);
  }

  async request<M extends ClientMethod>(method: M, data: ClientRequestData<M>): Promise<ClientResponseData<M>> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new SignalingError('disconnected', `cannot ${method}: not connected`);
    const id = this.nextId++;
    const answer = await new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SignalingError('timeout', `${method}: no answer`));
      }, this.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ id, method, data }));
    });
    const parsed = clientRequests[method][1].safeParse(answer);
    if (!parsed.success) throw new SignalingError('internal', `${method}: malformed answer from server`);
    return parsed.data as ClientResponseData<M>;
  }

  private onMessage(raw: unknown): void {
    let json: unknown;
    try {
      json = JSON.parse(String(raw));
    } catch {
      return;
    }
    const msg = anyMessage.safeParse(json);
    if (!msg.success) return;
    const m = msg.data;
    if ('ok' in m) {
      const waiter = this.pending.get(m.id);
      if (!waiter) return;
      this.pending.delete(m.id);
      clearTimeout(waiter.timer);
      if (m.ok) waiter.resolve(m.data);
      else waiter.reject(new SignalingError(m.error.code, m.error.message, m.error.redirect));
    } else if ('id' in m) {
      void this.answerServerRequest(m.id, m.method, m.data);
    } else if (Object.hasOwn(notifications, m.method)) {
      const method = m.method as NotificationMethod;
      const data = notifications[method].safeParse(m.data);
      if (data.success) this.emit(method, data.data as never);
    }
  }

  private async answerServerRequest(id: number, method: string, data: unknown): Promise<void> {
    const send = (msg: unknown) => this.ws?.readyState === WebSocket.OPEN && this.ws.send(JSON.stringify(msg));
    if (!Object.hasOwn(serverRequests, method)) {
      send({ id, ok: false, error: { code: 'bad_request', message: `unknown method ${method}` } });
      return;
    }
    const parsed = serverRequests[method as ServerMethod][0].safeParse(data);
    if (!parsed.success) {
      send({ id, ok: false, error: { code: 'bad_request', message: 'malformed request' } });
      return;
    }
    try {
      await this.onServerRequest(method as ServerMethod, parsed.data as never);
      send({ id, ok: true, data: {} });
    } catch (err) {
      send({ id, ok: false, error: { code: 'internal', message: err instanceof Error ? err.message : String(err) } });
    }
  }

  private failPending(err: Error): void {
    for (const w of this.pending.values()) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.pending.clear();
  }
}
