import type http from 'node:http';
import type { Config } from './config/schema.js';
import type { Logger } from './logging/logger.js';
import { createHttpApp } from './http/app.js';
import { listen, stopListening } from './http/listen.js';
import { WorkerPool } from './media/workerPool.js';

export interface RunningServer {
  pool: WorkerPool;
  http: http.Server;
  url: string;
  close(): Promise<void>;
}

/** Starts the media plane and the HTTP server; `close()` stops both, workers last. */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const pool = await WorkerPool.start({
    count: config.workers.count,
    listenIp: config.rtc.listenIp,
    announcedAddress: config.rtc.announcedAddress,
    basePort: config.rtc.basePort,
    logLevel: config.workers.logLevel,
    loadSampleMs: config.workers.loadSampleMs,
    logger,
  });
  let server: http.Server;
  try {
    server = await listen(createHttpApp({ pool }), config.http);
  } catch (err) {
    await pool.close();
    throw err;
  }
  const scheme = config.http.tlsCert ? 'https' : 'http';
  const url = `${scheme}://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${config.http.port}`;
  logger.info({ url, workers: config.workers.count, rtcPorts: `${config.rtc.basePort}-${config.rtc.basePort + config.workers.count - 1}` }, 'server listening');
  return {
    pool,
    http: server,
    url,
    async close() {
      await stopListening(server);
      await pool.close();
    },
  };
}
