import { unavailable } from '../errors.js';
import type { TokenClaims } from '../auth/tokens.js';
import type { WorkerPool } from './workerPool.js';

/**
 * Refuses new students and observers while every media worker is saturated (its sampled CPU at or
 * above `maxCpu`). Measured (BENCHMARKS.md): past ~90 % of a core a worker answers its control
 * channel so late that joins time out after 10 s, and each newcomer's consumers take packets from
 * everyone already in class. A clear `unavailable` now (the SDK retries it with backoff) is kinder.
 * Teachers and participants resuming their session are always let in: they are few and expected.
 */
export class JoinAdmission {
  constructor(
    private readonly pool: Pick<WorkerPool, 'workers'>,
    private readonly maxCpu: number,
    private readonly onRefused: () => void = () => undefined,
  ) {}

  check(role: TokenClaims['role'], resuming: boolean): void {
    if (resuming || role === 'teacher' || this.maxCpu >= 1) return;
    const live = this.pool.workers.filter((w) => !w.worker.died && !w.worker.closed);
    if (live.length === 0 || live.some((w) => w.load.cpu < this.maxCpu)) return;
    this.onRefused();
    const pct = Math.round(this.maxCpu * 100);
    throw unavailable(`the server is at capacity: every media worker is above ${pct} % CPU (SFU_WORKER_MAX_CPU); try again in a minute`);
  }
}
