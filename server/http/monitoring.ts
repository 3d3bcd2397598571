import { timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { WorkerPool } from '../media/workerPool.js';
import type { Metrics } from '../observability/metrics.js';
import { cachedTask } from '../util/cachedTask.js';

/** A health answer is reused this long: a load balancer (or a flood) polling it asks the workers once. */
const healthCacheMs = 1000;

export interface MonitoringOptions {
  pool: WorkerPool;
  metrics: Metrics;
  /** When set, GET /metrics needs `Authorization: Bearer <it>` (SFU_METRICS_TOKEN). */
  metricsToken: string | undefined;
  /** Cluster mode: the Redis link, shown in /healthz. */
  clusterStatus?: (() => unknown) | undefined;
}

/**
 * GET /healthz and GET /metrics. Both ask every worker: they are shared between concurrent callers
 * and cached briefly (see cachedTask), so that scrapes cannot load the workers and stall joins.
 */
export function monitoring({ pool, metrics, metricsToken, clusterStatus }: MonitoringOptions): Router {
  const router = Router();
  const health = cachedTask(() => pool.health(), healthCacheMs);

  // Healthy only when every worker answers a request: a load balancer should stop sending classes
  // to a node whose media plane is stuck or restarting. In a cluster the Redis link is shown but
  // does not make the node unhealthy: its classes go on without Redis.
  router.get('/healthz', async (_req, res) => {
    const workers = await health();
    const ok = workers.length > 0 && workers.every((w) => w.alive);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', workers, ...(clusterStatus ? { cluster: clusterStatus() } : {}) });
  });

  // Prometheus scrape; see docs/operations.md for what to watch.
  router.get('/metrics', async (req, res) => {
    if (metricsToken && !bearerIs(req.headers.authorization, metricsToken)) {
      res.status(401).set('WWW-Authenticate', 'Bearer').json({ error: { code: 'unauthorized', message: 'GET /metrics needs Authorization: Bearer <SFU_METRICS_TOKEN>' } });
      return;
    }
    res.type(metrics.registry.contentType).send(await metrics.scrape());
  });
  return router;
}

/** Compares in constant time, so the answer's timing does not spell the token out. */
function bearerIs(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.startsWith('Bearer ') ? header.slice(7) : '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}
