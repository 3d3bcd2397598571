import path from 'node:path';
import express, { type Express } from 'express';
import type { TokenService } from '../auth/tokens.js';
import type { WorkerPool } from '../media/workerPool.js';
import type { Metrics } from '../observability/metrics.js';
import type { QualityMonitor } from '../quality/qualityMonitor.js';
import type { RecordingService } from '../recording/recordingService.js';
import { recordingsApi } from './recordingsApi.js';
import { roomsApi } from './roomsApi.js';
import { bearerClaims } from './apiHelpers.js';
import { forwardToOrigin } from './originProxy.js';
import { nodesApi } from './nodesApi.js';
import { devTokensApi } from './devTokens.js';
import { monitoring } from './monitoring.js';
import { securityHeaders } from './securityHeaders.js';
import type { RoomRegistry } from '../rooms/roomRegistry.js';
import type { ClusterNode } from '../cluster/clusterNode.js';

export interface HttpDeps {
  pool: WorkerPool;
  tokens: TokenService;
  recordings: RecordingService;
  rooms: RoomRegistry;
  quality: QualityMonitor;
  metrics: Metrics;
  /** Issue tokens to anyone (development default only). */
  devTokens: boolean;
  devTokenTtlSec: number;
  /** The server serves HTTPS (HSTS is sent). */
  tls: boolean;
  /** GET /metrics needs this bearer token when set. */
  metricsToken: string | undefined;
  /** The demo page joins by itself from `?autojoin=1`. */
  demoAutojoin: boolean;
  /** Folder with the browser SDK bundle and the demo page. */
  clientDir: string;
  /** Cluster mode (SFU_REDIS_URL): the node's part in the cluster. */
  cluster?: ClusterNode | undefined;
}

export function createHttpApp(deps: HttpDeps): Express {
  const { pool, tokens, recordings, rooms, quality, metrics, devTokens, devTokenTtlSec, clientDir, cluster, tls, metricsToken, demoAutojoin } = deps;
  const app = express();
  app.disable('x-powered-by');

  app.use(securityHeaders(tls));
  app.use(monitoring({ pool, metrics, metricsToken, clusterStatus: cluster ? () => cluster.status() : undefined }));
  app.use('/api/tokens', devTokensApi(tokens, devTokens, devTokenTtlSec));
  // What the demo page may do by itself: join from a link's ?autojoin=1 (tests, kiosks) only when asked.
  app.get('/demo-settings.json', (_req, res) => res.json({ autojoin: demoAutojoin }));

  // Cluster: a teacher's recordings requests go to the node its class lives on (the files are
  // there); an admin reads the node it asks (its token names no class).
  if (cluster) {
    app.use('/api/recordings', forwardToOrigin(cluster, rooms, async (req) => {
      const claims = await bearerClaims(tokens, req);
      return claims.role === 'admin' ? undefined : claims.room;
    }));
  }
  app.use('/api/recordings', recordingsApi(tokens, recordings));
  app.use('/api/rooms', roomsApi(tokens, rooms, { recordings, quality }, cluster));
  if (cluster) app.use('/api/nodes', nodesApi(tokens, cluster));

  app.use(express.static(path.resolve(clientDir), { index: 'index.html', maxAge: 0 }));
  // Malformed JSON bodies and the like: a clear 400, never a stack trace.
  app.use((err: Error & { status?: number }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    res.status(status).json({ error: { code: status === 500 ? 'internal' : 'bad_request', message: status === 500 ? 'internal error' : err.message } });
  });
  return app;
}
