import path from 'node:path';
import { startServer, type RunningServer } from '../../server/app.js';
import { loadConfig } from '../../server/config/load.js';
import { testLogger } from './logger.js';
import { repoRoot } from './serverProcess.js';

/**
 * A whole server (workers, rooms, signaling, HTTP) in the test process, configured by env vars.
 * Tests use fixed ports below 32768: Linux hands out ephemeral ports (for any outgoing
 * connection) from 32768 up, and one of those landing on a fixed test port fails the test.
 */
export async function startTestServer(env: Record<string, string>): Promise<RunningServer> {
  const config = loadConfig({ SFU_WORKERS: '1', ...env });
  return startServer(config, testLogger, path.join(repoRoot, 'dist', 'client'));
}
