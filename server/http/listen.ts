import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { Express } from 'express';

export interface ListenOptions {
  host: string;
  port: number;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
}

/** Starts HTTP, or HTTPS when a certificate is configured; resolves once listening. */
export async function listen(app: Express, opts: ListenOptions): Promise<http.Server> {
  const server =
    opts.tlsCert && opts.tlsKey
      ? https.createServer({ cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) }, app)
      : http.createServer(app);
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
