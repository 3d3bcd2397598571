import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { closeCodes, subprotocol, tokenProtocolPrefix } from '../../protocol/schema.js';
import { isParticipant, type TokenClaims, type TokenService } from '../auth/tokens.js';
import { AppError } from '../errors.js';
import type { Logger } from '../logging/logger.js';
import { AddressLimit, clientAddress } from './addressLimit.js';
import { Connection, type ConnectionOptions } from './connection.js';

export interface SignalingOptions extends Omit<ConnectionOptions, 'logger'> {
  tokens: TokenService;
  maxMessageBytes: number;
  heartbeatMs: number;
  allowedOrigins: string[];
  /** Open sockets per client address (0: no limit), and the proxies whose X-Forwarded-For counts. */
  maxConnectionsPerIp: number;
  trustedProxies: string[];
  /** Cluster mode: the Origins of the other live nodes (a page served by one opens sockets to another). */
  clusterOrigins?: (() => string[]) | undefined;
  logger: Logger;
}

export interface Signaling {
  readonly connections: Set<Connection>;
  /** Refuse new sockets (503) from now on; open ones stay until close(). */
  stopAccepting(): void;
  close(): void;
}

const localHosts = new Set(['localhost', '127.0.0.1', '[::1]']);

/** Origins allowed to open the socket: the configured list, the server's own, and localhost. */
export function originAllowed(origin: string | undefined, host: string | undefined, allowed: string[]): boolean {
  if (!origin) return true; // not a browser: browsers always send Origin on WebSocket upgrades
  if (allowed.includes(origin)) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  return url.host === host || localHosts.has(url.hostname);
}

/** The WebSocket endpoint `/ws?token=...` on the given HTTP server. */
export function attachSignaling(server: http.Server, opts: SignalingOptions): Signaling {
  const log = opts.logger.child({ component: 'signaling' });
  // ws closes a socket whose frame exceeds maxPayload with 1009 itself.
  // The answer names our protocol only: never the token a client offered beside it.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: opts.maxMessageBytes,
    handleProtocols: (offered) => (offered.has(subprotocol) ? subprotocol : false),
  });
  const connections = new Set<Connection>();
  const missedPongs = new WeakMap<WebSocket, number>();
  let accepting = true;
  const perAddress = new AddressLimit(opts.maxConnectionsPerIp);
  const trustedProxies = new Set(opts.trustedProxies);

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // The client may reset the connection while its token is checked: without a listener that
    // error would be thrown out of the process. ws installs its own once it takes the socket over.
    const onEarlyError = (err: Error) => log.debug({ err }, 'connection reset during the WebSocket upgrade');
    socket.on('error', onEarlyError);
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/ws') return refuse(socket, 404, 'Not Found');
      if (!accepting) return refuse(socket, 503, 'Service Unavailable');
      // Before the token check, which is the costly part (and answers on an upgraded socket).
      const address = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trustedProxies);
      const admitted = perAddress.admit(address, socket);
      if (admitted !== 'ok') {
        if (admitted === 'first-refusal') log.warn({ address, max: opts.maxConnectionsPerIp }, 'WebSocket refused: too many connections from one address (SFU_MAX_CONNECTIONS_PER_IP)');
        return refuse(socket, 429, 'Too Many Requests');
      }
      const allowed = opts.clusterOrigins ? [...opts.allowedOrigins, ...opts.clusterOrigins()] : opts.allowedOrigins;
      if (!originAllowed(req.headers.origin, req.headers.host, allowed)) {
        log.warn({ origin: req.headers.origin }, 'WebSocket refused: origin not allowed');
        return refuse(socket, 403, 'Forbidden');
      }
      let claims: (TokenClaims & { exp: number }) | undefined;
      let refusal = 'token check failed';
      try {
        const verified = await opts.tokens.verify(offeredToken(req) ?? url.searchParams.get('token'));
        if (isParticipant(verified)) claims = { ...verified, role: verified.role };
        else refusal = 'an admin token reads rooms over HTTP (GET /api/rooms) and cannot join one; use a teacher, student or observer token';
      } catch (err) {
        if (err instanceof AppError) refusal = err.message;
        else log.error({ err }, 'token check failed');
      }
      if (socket.destroyed) return;
      wss.handleUpgrade(req, socket, head, (ws) => {
        socket.off('error', onEarlyError);
        if (!claims) {
          // Upgrade first, so a browser can read why: an error notification, then close 4001.
          ws.send(JSON.stringify({ method: 'error', data: { code: 'unauthorized', message: refusal } }));
          ws.close(closeCodes.unauthorized, 'unauthorized');
          return;
        }
        const conn = new Connection(ws, claims, opts);
        connections.add(conn);
        missedPongs.set(ws, 0);
        ws.on('pong', () => missedPongs.set(ws, 0));
        ws.on('error', (err) => log.debug({ err }, 'socket error'));
        ws.once('close', () => connections.delete(conn));
      });
    })().catch((err: unknown) => {
      log.error({ err }, 'upgrade failed');
      socket.destroy();
    });
  });

  // Heartbeat: a socket that misses two pongs in a row is dead (e.g. a laptop lid closed).
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      const missed = missedPongs.get(ws) ?? 0;
      if (missed >= 2) {
        ws.terminate();
        continue;
      }
      missedPongs.set(ws, missed + 1);
      ws.ping();
    }
  }, opts.heartbeatMs);
  heartbeat.unref();

  return {
    connections,
    stopAccepting() {
      accepting = false;
    },
    close() {
      accepting = false;
      clearInterval(heartbeat);
      for (const ws of wss.clients) ws.close(closeCodes.goingAway, 'server shutting down');
      wss.close();
    },
  };
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** The access token offered as a subprotocol (`access_token.<JWT>`, see protocol/schema.ts), if any. */
function offeredToken(req: http.IncomingMessage): string | undefined {
  const offered = req.headers['sec-websocket-protocol']?.split(',').map((p) => p.trim()) ?? [];
  return offered.find((p) => p.startsWith(tokenProtocolPrefix))?.slice(tokenProtocolPrefix.length) || undefined;
}
