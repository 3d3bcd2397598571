import type { Logger } from '../logging/logger.js';

export interface ShutdownOptions {
  logger: Logger;
  timeoutMs: number;
  close: () => Promise<void>;
}

/**
 * SIGTERM / SIGINT: stop accepting, close everything, exit 0. A shutdown that hangs past the timeout
 * exits 1 so that a supervisor notices. Errors anywhere are logged, never fatal to the process.
 */
export function installShutdown({ logger, timeoutMs, close }: ShutdownOptions): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    close().then(
      () => {
        logger.info('shutdown complete');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));
  process.on('uncaughtException', (err) => logger.error({ err }, 'uncaught exception'));
}
