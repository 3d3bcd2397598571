import path from 'node:path';
import express, { type Express } from 'express';
import { participantClaims, type TokenService } from '../auth/tokens.js';
import type { WorkerPool } from '../media/workerPool.js';
import type { Metrics } from '../observability/metrics.js';
import type { QualityMonitor } from '../quality/qualityMonitor.js';
import type { RecordingService } from '../recording/recordingService.js';
import { recordingsApi } from './recordingsApi.js';
import { roomsApi } from './roomsApi.js';
import { bearerClaims } from './apiHelpers.js';
import { forwardToOrigin } from './originProxy.js';
import { nodesApi } from './nodesApi.js';
import type { RoomRegistry } from '../rooms/roomRegistry.js';
import { describeIssues } from '../util/issues.js';
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
  /** Folder with the browser SDK bundle and the demo page. */
  clientDir: string;
  /** Cluster mode (SFU_REDIS_URL): the node's part in the cluster. */
  cluster?: ClusterNode | undefined;
}

/** A development token is for a participant: never `admin`, which reads every room of the server. */
const devTokenRequest = participantClaims.omit({ sub: true }).extend({ userId: participantClaims.shape.sub.optional() }).strict();

export function createHttpApp({ pool, tokens, recordings, rooms, quality, metrics, devTokens, devTokenTtlSec, clientDir, cluster }: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');

  // Healthy only when every worker answers a request: a load balancer should stop sending classes
  // to a node whose media plane is stuck or restarting. In a cluster the Redis link is shown but
  // does not make the node unhealthy: its classes go on without Redis.
  app.get('/healthz', async (_req, res) => {
    const workers = await pool.health();
    const ok = workers.length > 0 && workers.every((w) => w.alive);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', workers, ...(cluster ? { cluster: cluster.status() } : {}) });
  });

  // Prometheus scrape; see docs/operations.md for what to watch.
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.post('/api/tokens', express.json({ limit: '4kb' }), async (req, res) => {
    if (!devTokens) {
      res.status(404).json({ error: { code: 'not_found', message: 'token issuing is disabled (SFU_DEV_TOKENS)' } });
      return;
    }
    const body = devTokenRequest.safeParse(req.body);
    if (!body.success) {
      res.status(400).json({ error: { code: 'bad_request', message: describeIssues(body.error, '(body)') } });
      return;
    }
    const { userId, ...claims } = body.data;
    const token = await tokens.sign({ ...claims, sub: userId ?? `${claims.name}-${crypto.randomUUID().slice(0, 8)}` }, devTokenTtlSec);
    res.json({ token });
  });

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
