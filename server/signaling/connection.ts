import type { RawData, WebSocket } from 'ws';
import {
  anyMessage,
  clientRequests,
  closeCodes,
  isClientMethod,
  type NotificationData,
  type NotificationMethod,
  type ServerMethod,
  type ServerRequestData,
} from '../../protocol/schema.js';
import type { TokenClaims, TokenService } from '../auth/tokens.js';
import { AppError, rateLimited, toWireError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import type { PeerSink } from '../rooms/peer.js';
import type { RoomRegistry } from '../rooms/roomRegistry.js';
import type { Metrics } from '../observability/metrics.js';
import { handlers, type HandlerContext } from './handlers.js';
import { TokenLifetime } from './tokenLifetime.js';
import { describeIssues } from '../util/issues.js';
import { RateLimiter } from '../util/rateLimiter.js';

export interface ConnectionOptions {
  tokens: TokenService;
  rooms: RoomRegistry;
  recordings: HandlerContext['recordings'];
  quality: HandlerContext['quality'];
  iceServersFor: HandlerContext['iceServersFor'];
  cluster?: HandlerContext['cluster'];
  admission?: HandlerContext['admission'];
  rateLimitPerSec: number;
  rateLimitBurst: number;
  joinTimeoutMs: number;
  /** How long the client has to answer a server request. */
  requestTimeoutMs: number;
  metrics?: Metrics | undefined;
  logger: Logger;
}

/** Requests queued on one socket beyond this are refused rather than buffered without bound. */
const maxQueued = 64;

/**
 * One client socket: parses and validates every frame, rate-limits, runs requests one at a time
 * (so a client cannot race its own state), and answers each with a well-formed envelope.
 */
export class Connection {
  private readonly limiter: RateLimiter;
  private readonly pending = new Map<number, { resolve: (d: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private nextId = 1;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private readonly joinTimer: NodeJS.Timeout;
  /** The session ends when its token does, unless the client sends a fresh one (refreshToken). */
  private readonly lifetime: TokenLifetime;
  private readonly log: Logger;
  readonly session: HandlerContext['session'] = {};
  readonly sink: PeerSink;

  constructor(
    private readonly ws: WebSocket,
    private readonly claims: TokenClaims & { exp: number },
    private readonly opts: ConnectionOptions,
  ) {
    this.log = opts.logger.child({ room: claims.room, user: claims.sub });
    this.limiter = new RateLimiter(opts.rateLimitPerSec, opts.rateLimitBurst);
    this.sink = {
      notify: (method, data) => this.notify(method, data),
      request: (method, data) => this.request(method, data),
      close: (code, reason) => this.ws.close(code, reason),
    };
    this.joinTimer = setTimeout(() => {
      if (!this.session.peer) ws.close(closeCodes.joinTimeout, 'no join within the join timeout');
    }, opts.joinTimeoutMs);
    this.lifetime = new TokenLifetime(claims.exp, {
      expiring: (expiresAt) => this.notify('tokenExpiring', { expiresAt }),
      expired: () => {
        this.log.info('access token expired: closing the session');
        this.notify('error', { code: 'unauthorized', message: 'access token expired; reconnect with a fresh one' });
        this.ws.close(closeCodes.unauthorized, 'access token expired');
      },
    });
    ws.on('message', (raw, isBinary) => this.onFrame(raw, isBinary));
    ws.once('close', () => this.onClose());
  }

  notify<M extends NotificationMethod>(method: M, data: NotificationData<M>): void {
    this.send({ method, data });
  }

  /** Drops the socket without a closing handshake, as a dead network would. */
  terminate(): void {
    this.ws.terminate();
  }

  request<M extends ServerMethod>(method: M, data: ServerRequestData<M>): Promise<unknown> {
    if (this.ws.readyState !== this.ws.OPEN) return Promise.reject(new Error('socket closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to ${method} within ${this.opts.requestTimeoutMs} ms`));
      }, this.opts.requestTimeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.send({ id, method, data });
    });
  }

  private send(msg: unknown): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private onFrame(raw: RawData, isBinary: boolean): void {
    // Closing (replaced, removed, timed out...): a client that ignores the close frame gets no more.
    if (this.ws.readyState !== this.ws.OPEN) return;
    let parsed: unknown;
    try {
      if (isBinary) throw new Error('binary frame');
      parsed = JSON.parse(raw.toString());
    } catch {
      this.ws.close(closeCodes.invalidData, 'frames must be JSON text');
      return;
    }
    const msg = anyMessage.safeParse(parsed);
    // Every frame counts against the socket's rate limit, but for answers to our own requests
    // (the server bounds those itself): garbage and unasked-for answers cost work too.
    const answersUs = msg.success && 'ok' in msg.data && this.pending.has(msg.data.id);
    const allowed = answersUs || this.limiter.take();
    if (!msg.success) {
      // Answer what can be answered: an object with a usable id gets bad_request; the rest is noise.
      const id = (parsed as { id?: unknown } | null)?.id;
      if (Number.isSafeInteger(id) && (id as number) >= 0) {
        if (allowed) this.reply(id as number, new AppError('bad_request', 'not a protocol envelope: expected { id, method, data }'));
      } else {
        this.ws.close(closeCodes.invalidData, 'not a protocol envelope');
      }
      return;
    }
    const m = msg.data;
    if ('ok' in m) {
      const waiter = this.pending.get(m.id);
      if (!waiter) return; // late or unknown answer: ignore
      this.pending.delete(m.id);
      clearTimeout(waiter.timer);
      if (m.ok) waiter.resolve(m.data);
      else waiter.reject(new Error(`client refused: ${m.error.code}: ${m.error.message}`));
      return;
    }
    if (!('id' in m)) return; // clients have no notifications to send; ignore
    if (!allowed || this.queued >= maxQueued) {
      this.reply(m.id, rateLimited('too many requests; slow down'));
      return;
    }
    this.queued++;
    this.queue = this.queue.then(() => this.handle(m.id, m.method, m.data)).finally(() => this.queued--);
  }

  private async handle(id: number, method: string, data: unknown): Promise<void> {
    if (!isClientMethod(method)) {
      this.reply(id, new AppError('bad_request', `unknown method "${method}"`));
      return;
    }
    const input = clientRequests[method][0].safeParse(data);
    if (!input.success) {
      this.reply(id, new AppError('bad_request', `${method}: ${describeIssues(input.error, '(data)')}`));
      return;
    }
    const after: (() => void)[] = [];
    const ctx: HandlerContext = {
      claims: this.claims,
      sink: this.sink,
      rooms: this.opts.rooms,
      recordings: this.opts.recordings,
      quality: this.opts.quality,
      iceServersFor: this.opts.iceServersFor,
      cluster: this.opts.cluster,
      admission: this.opts.admission,
      tokens: this.opts.tokens,
      renewToken: (expSec) => {
        this.claims.exp = expSec;
        this.lifetime.renew(expSec);
      },
      session: this.session,
      afterReply: (fn) => after.push(fn),
    };
    const started = performance.now();
    try {
      const result = await (handlers[method] as (c: HandlerContext, d: unknown) => Promise<unknown>)(ctx, input.data);
      if (method === 'join') this.opts.metrics?.joinSeconds.observe((performance.now() - started) / 1000);
      this.send({ id, ok: true, data: result });
      if (method === 'join') clearTimeout(this.joinTimer);
      for (const fn of after) fn();
    } catch (err) {
      this.reply(id, err, method);
    }
  }

  private reply(id: number, err: unknown, method?: string): void {
    const wire = toWireError(err);
    this.opts.metrics?.signalingErrors.inc({ code: wire.code });
    if (wire.internal) this.log.error({ err, method }, 'request failed');
    else this.log.debug({ method, code: wire.code, message: wire.message }, 'request refused');
    this.send({ id, ok: false, error: { code: wire.code, message: wire.message, ...(wire.redirect ? { redirect: wire.redirect } : {}) } });
  }

  private onClose(): void {
    clearTimeout(this.joinTimer);
    this.lifetime.stop();
    for (const w of this.pending.values()) {
      clearTimeout(w.timer);
      w.reject(new Error('socket closed'));
    }
    this.pending.clear();
    const { room, peer } = this.session;
    if (room && peer) room.detachPeer(peer, this.sink);
  }
}
