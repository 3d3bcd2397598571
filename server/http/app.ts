import express, { type Express } from 'express';
import type { WorkerPool } from '../media/workerPool.js';

export interface HttpDeps {
  pool: WorkerPool;
}

export function createHttpApp({ pool }: HttpDeps): Express {
  const app = express();
  app.disable('x-powered-by');

  // Healthy only when every worker answers a request: a load balancer should stop sending classes
  // to a node whose media plane is stuck or restarting.
  app.get('/healthz', async (_req, res) => {
    const workers = await pool.health();
    const ok = workers.length > 0 && workers.every((w) => w.alive);
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'degraded', workers });
  });

  return app;
}
