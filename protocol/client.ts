/**
 * The one client of the signaling protocol, shared by the browser SDK, the tests and the benchmark's
 * participants. It only needs a WebSocket with the browser's property API (`onopen`, `onmessage`,
 * `onclose`, `onerror`, `readyState`), which `ws` also offers: Node callers pass a factory. Nothing
 * here may import Node modules, since the SDK bundles it for the browser.
 */
import {
  anyMessage,
  clientRequests,
  errorCodes,
  notifications,
  serverRequests,
  type ClientMethod,
  type ClientRequestData,
  type ClientResponseData,
  type ErrorCode,
  type ErrorResponse,
  type NotificationData,
  type NotificationMethod,
  type OkResponse,
  type RedirectTarget,
  type ServerMethod,
  type ServerRequestData,
  tokenProtocols,
} from './schema.js';
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

/**
 * Answers one of the server's requests: resolving answers ok; throwing a SignalingError with a
 * protocol error code refuses with that code, any other error with `internal`.
 */
export type ServerRequestHandler = <M extends ServerMethod>(method: M, data: ServerRequestData<M>, id: number) => Promise<void>;

/** A reply envelope as it came, ok or not; its data is not checked against the method's schema. */
export type Reply = OkResponse | ErrorResponse;

/** Handler properties are checked bivariantly, so that both the DOM's and `ws`'s sockets fit. */
type Handler<E> = { bivarianceHack(ev: E): void }['bivarianceHack'] | null;

/** What the client uses of a WebSocket: the browser's, or one from the `ws` package. */
export interface SocketLike {
  readonly readyState: number;
  onopen: Handler<unknown>;
  onmessage: Handler<{ data: unknown }>;
  onclose: Handler<{ code: number; reason: string }>;
  onerror: Handler<unknown>;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
/** Opens a WebSocket to `url` offering `protocols` (the access token travels there, see tokenProtocols). */
export type SocketFactory = (url: string, protocols?: string[]) => SocketLike;

export interface SignalingSocketOptions {
  /** How long request() and call() wait for an answer, unless the request says otherwise. */
  requestTimeoutMs?: number;
  /** A node that does not answer the connection by then counts as down (e.g. a dead machine). */
  connectTimeoutMs?: number;
  /** Opens the WebSocket. Default: the global WebSocket (browsers; Node 20 has none: pass one from `ws`). */
  socket?: SocketFactory;
}

export interface RequestOptions {
  /** Overrides the client's request timeout for this request. */
  timeoutMs?: number;
}

/** readyState of an open socket, the same in browsers and in `ws` (Node 20 has no global WebSocket to read it from). */
const OPEN = 1;

const defaultSocket: SocketFactory = (url, protocols) => {
  const Ctor = (globalThis as { WebSocket?: new (url: string, protocols?: string[]) => SocketLike }).WebSocket;
  if (!Ctor) throw new Error('no global WebSocket here: pass the `socket` option (in Node, e.g. (url, protocols) => new WebSocket(url, protocols) from ws)');
  return new Ctor(url, protocols);
};

const isErrorCode = (code: string): code is ErrorCode => (errorCodes as readonly string[]).includes(code);

interface Waiter {
  resolve: (reply: Reply) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One WebSocket to the server: requests with answers, notifications, and the server's own requests.
 * Every incoming message is validated against the shared protocol schema; what fails it is
 * dropped and reported to `onMalformed`. Reconnection is the caller's business (see the SDK's
 * Classroom), since it needs a fresh token-bearing URL and a resume.
 */
export class SignalingSocket extends Emitter<SignalingEvents> {
  private ws: SocketLike | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Waiter>();
  private readonly requestTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly makeSocket: SocketFactory;
  onServerRequest: ServerRequestHandler = async () => {
    throw new SignalingError('bad_request', 'no handler');
  };
  /** Called with each incoming message that fails the protocol schema (it is dropped), and why. */
  onMalformed: (message: unknown, reason: string) => void = () => undefined;

  /** Options, or (as before) the request and connect timeouts in ms. */
  constructor(options: SignalingSocketOptions | number = {}, connectTimeoutMs?: number) {
    super();
    const o = typeof options === 'number' ? { requestTimeoutMs: options, connectTimeoutMs } : options;
    this.requestTimeoutMs = o.requestTimeoutMs ?? 15_000;
    this.connectTimeoutMs = o.connectTimeoutMs ?? 10_000;
    this.makeSocket = o.socket ?? defaultSocket;
  }

  get connected(): boolean {
    return this.ws?.readyState === OPEN;
  }

  /** Opens the socket; `token` (an access token) is presented as a subprotocol, not in the URL. */
  connect(url: string, token?: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = this.makeSocket(url, token === undefined ? undefined : tokenProtocols(token));
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
      // The close that follows tells the caller; `ws` in Node would throw an error nobody listens to.
      ws.onerror = () => undefined;
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
  async switchTo(url: string, token?: string): Promise<void> {
    const old = this.ws;
    if (old) {
      old.onclose = null;
      old.onmessage = null;
      old.close(1000, 'redirected');
      if (this.ws === old) this.ws = undefined;
      this.failPending(new SignalingError('disconnected', 'socket moved to another server'));
    }
    await this.connect(url, token);
  }

  /** Sends a request; resolves with the answer's data checked against the method's schema, or throws the refusal. */
  async request<M extends ClientMethod>(method: M, data: ClientRequestData<M>, opts: RequestOptions = {}): Promise<ClientResponseData<M>> {
    const reply = await this.call(method, data, opts);
    if (!reply.ok) throw new SignalingError(reply.error.code, reply.error.message, reply.error.redirect);
    const parsed = clientRequests[method][1].safeParse(reply.data);
    if (!parsed.success) throw new SignalingError('internal', `${method}: malformed answer from server`);
    return parsed.data as ClientResponseData<M>;
  }

  /** Sends any method with any data; resolves with the reply envelope as it came, ok or not (for tests of refusals). */
  call(method: string, data: unknown = {}, opts: RequestOptions = {}): Promise<Reply> {
    const id = this.nextId++;
    return this.callWithId(id, { id, method, data }, opts, method);
  }

  /** Sends `envelope` as it is (well formed or not) and resolves with the reply carrying `id`. */
  callWithId(id: number, envelope: unknown, opts: RequestOptions = {}, what = `request ${id}`): Promise<Reply> {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) return Promise.reject(new SignalingError('disconnected', `cannot ${what}: not connected`));
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SignalingError('timeout', `${what}: no answer`));
      }, opts.timeoutMs ?? this.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      try {
        ws.send(JSON.stringify(envelope));
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Sends a frame as it is: a string unchanged, anything else as JSON. */
  sendRaw(msg: unknown): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== OPEN) throw new SignalingError('disconnected', 'cannot send: not connected');
    ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  private onMessage(raw: unknown): void {
    let json: unknown;
    try {
      json = JSON.parse(String(raw));
    } catch {
      this.onMalformed(raw, 'not JSON');
      return;
    }
    const msg = anyMessage.safeParse(json);
    if (!msg.success) {
      this.onMalformed(json, 'not a protocol envelope');
      return;
    }
    const m = msg.data;
    if ('ok' in m) {
      const waiter = this.pending.get(m.id);
      if (!waiter) return;
      this.pending.delete(m.id);
      clearTimeout(waiter.timer);
      waiter.resolve(m);
    } else if ('id' in m) {
      void this.answerServerRequest(m.id, m.method, m.data, json);
    } else if (Object.hasOwn(notifications, m.method)) {
      const method = m.method as NotificationMethod;
      const data = notifications[method].safeParse(m.data);
      if (data.success) this.emit(method, data.data as never);
      else this.onMalformed(json, `${method}: data does not match the schema`);
    } else {
      this.onMalformed(json, `unknown notification ${m.method}`);
    }
  }

  private async answerServerRequest(id: number, method: string, data: unknown, json: unknown): Promise<void> {
    const send = (msg: unknown) => this.ws?.readyState === OPEN && this.ws.send(JSON.stringify(msg));
    if (!Object.hasOwn(serverRequests, method)) {
      this.onMalformed(json, `unknown server request ${method}`);
      send({ id, ok: false, error: { code: 'bad_request', message: `unknown method ${method}` } });
      return;
    }
    const parsed = serverRequests[method as ServerMethod][0].safeParse(data);
    if (!parsed.success) {
      this.onMalformed(json, `${method}: data does not match the schema`);
      send({ id, ok: false, error: { code: 'bad_request', message: 'malformed request' } });
      return;
    }
    try {
      await this.onServerRequest(method as ServerMethod, parsed.data as never, id);
      send({ id, ok: true, data: {} });
    } catch (err) {
      const code = err instanceof SignalingError && isErrorCode(err.code) ? err.code : 'internal';
      send({ id, ok: false, error: { code, message: err instanceof Error ? err.message : String(err) } });
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
