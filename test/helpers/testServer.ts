import path from 'node:path';
import { startServer, type RunningServer } from '../../server/app.js';
import { loadConfig } from '../../server/config/load.js';
import type { Config } from '../../server/config/schema.js';
import { testLogger } from './logger.js';
import { withServerPorts, type ServerPorts } from './ports.js';
import { repoRoot } from './serverProcess.js';
import { testDefaults } from './testDefaults.js';

export { testDefaults } from './testDefaults.js';

export interface TestServer extends RunningServer {
  /** Every port it was given (allocated, unless the test set one). */
  ports: ServerPorts;
  /** The signaling URL, ws(s)://host:port/ws. */
  wsUrl: string;
  config: Config;
}

/**
 * A whole server (workers, rooms, signaling, HTTP) in the test process, configured by env vars.
 * Its ports come from the allocator (test/helpers/ports.ts) unless `env` sets them.
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const { env: full, ports } = await withServerPorts({ SFU_WORKERS: '1', ...testDefaults, ...env }, 1);
  const config = loadConfig(full);
  const server = await startServer(config, testLogger, path.join(repoRoot, 'dist', 'client'));
  return Object.assign(server, { ports, config, wsUrl: `${server.url.replace(/^http/, 'ws')}/ws` });
}
