import { ConfigError, loadConfig } from './config/load.js';
import type { Config } from './config/schema.js';
import { createLogger } from './logging/logger.js';
import { routeMediasoupLogs } from './logging/mediasoupLogs.js';
import { installShutdown } from './lifecycle/shutdown.js';

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\nSee README.md, "Configuration", for every variable and its default.\n`);
  process.exit(1);
}

const logger = createLogger(config.log.level);
// Before mediasoup is loaded (below, dynamically), so its log instances are routed into ours.
routeMediasoupLogs(logger, config.workers.logLevel);
const { startServer } = await import('./app.js');

try {
  const server = await startServer(config, logger);
  installShutdown({ logger, timeoutMs: config.shutdownTimeoutMs, close: () => server.close() });
} catch (err) {
  logger.fatal({ err }, 'start-up failed');
  process.exit(1);
}
