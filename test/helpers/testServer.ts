import path from 'node:path';
import { startServer, type RunningServer } from '../../server/app.js';
import { loadConfig } from '../../server/config/load.js';
import { testLogger } from './logger.js';
import { repoRoot } from './serverProcess.js';

/** A whole server (workers, rooms, signaling, HTTP) in the test process, configured by env vars. */
export async function startTestServer(env: Record<string, string>): Promise<RunningServer> {
  const config = loadConfig({ SFU_WORKERS: '1', ...env });
  return startServer(config, testLogger, path.join(repoRoot, 'dist', 'client'));
}
