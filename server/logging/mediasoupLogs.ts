import { format } from 'node:util';
import createDebug from 'debug';
import type { Logger } from './logger.js';

/**
 * Routes mediasoup's Node-side logs (written with the `debug` module, including the worker's
 * stderr lines) into our structured logger instead of the console.
 *
 * mediasoup creates its debug instances when its modules load and pins each one's `log` to the
 * console, so this must run before mediasoup is imported: every instance created afterwards gets a
 * `log` that cannot be overwritten.
 */
export function routeMediasoupLogs(logger: Logger, level: 'debug' | 'warn' | 'error' | 'none'): void {
  const log = logger.child({ component: 'mediasoup' });
  const namespaces = {
    debug: 'mediasoup*',
    warn: 'mediasoup:WARN*,mediasoup:ERROR*',
    error: 'mediasoup:ERROR*',
    none: '-mediasoup*',
  }[level];
  // `init` runs for every debug instance created; it is public in `debug` but missing from its types.
  const hooks = createDebug as typeof createDebug & { init?: (instance: createDebug.Debugger) => void };
  const originalInit = hooks.init;
  hooks.init = (instance) => {
    originalInit?.(instance);
    if (!instance.namespace.startsWith('mediasoup')) return;
    const write = function (this: createDebug.Debugger, ...args: unknown[]) {
      const ns = this.namespace;
      const msg = format(...(args as [unknown, ...unknown[]]));
      // A worker says this on stderr whenever we close it; Node is alive to read it, so it is benign.
      if (msg.includes('channel remotely closed')) log.debug({ ns }, msg);
      else if (ns.includes(':ERROR')) log.error({ ns }, msg);
      else if (ns.includes(':WARN')) log.warn({ ns }, msg);
      else log.debug({ ns }, msg);
    };
    Object.defineProperty(instance, 'log', { get: () => write, set: () => undefined, configurable: true });
  };
  // Leave the message as written (no colours, no timestamp prefix): pino adds its own fields.
  createDebug.formatArgs = function () {};
  createDebug.enable(namespaces);
}
