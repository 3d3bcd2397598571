import path from 'node:path';
import { startServer, type RunningServer } from '../../server/app.js';
import { loadConfig } from '../../server/config/load.js';
import { testLogger } from './logger.js';
import { repoRoot } from './serverProcess.js';

/**
 * Most tests are about media flowing, so students' microphones do not start muted there; the
 * tests of the class policy set SFU_STUDENTS_JOIN_MUTED=true, the product's default. Nor is a join
 * refused at high worker CPU (a busy CI machine is not a full server); capacity.test.ts sets its own.
 */
export const testDefaults: Record<string, string> = { SFU_STUDENTS_JOIN_MUTED: 'false', SFU_WORKER_MAX_CPU: '1' };

/**
 * A whole server (workers, rooms, signaling, HTTP) in the test process, configured by env vars.
 * Tests use fixed ports below 32768: Linux hands out ephemeral ports (for any outgoing
 * connection) from 32768 up, and one of those landing on a fixed test port fails the test.
 */
export async function startTestServer(env: Record<string, string>): Promise<RunningServer> {
  const config = loadConfig({ SFU_WORKERS: '1', ...testDefaults, ...env });
  return startServer(config, testLogger, path.join(repoRoot, 'dist', 'client'));
}
