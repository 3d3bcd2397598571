import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Express } from 'express';

export interface ListenOptions {
  host: string;
  port: number;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  /** A request (an upgrade included) must have sent its headers by then, or it is dropped. */
  headersTimeoutMs: number;
}

/** Starts HTTP, or HTTPS when a certificate is configured; resolves once listening. */
export async function listen(app: Express, opts: ListenOptions): Promise<http.Server> {
  // Slow or half-open requests (slowloris, a stalled WebSocket upgrade) must not pile up: they are
  // closed once the header timeout passes, checked every second rather than Node's default 30 s.
  const limits = {
    headersTimeout: opts.headersTimeoutMs,
    requestTimeout: Math.max(30_000, opts.headersTimeoutMs),
    connectionsCheckingInterval: Math.min(1000, opts.headersTimeoutMs),
  };
  const server =
    opts.tlsCert && opts.tlsKey
      ? https.createServer({ ...limits, cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) }, app)
      : http.createServer(limits, app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `cannot listen on ${opts.host}:${opts.port} (${err.code ?? err.message}); ` +
            'free the port or set SFU_HTTP_PORT / SFU_HTTP_HOST',
        ),
      ),
    );
    server.listen(opts.port, opts.host, () => resolve());
  });
  return server;
}

/** Stops accepting connections and ends idle keep-alive ones; resolves when all are gone. */
export function stopListening(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
