import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mediaCodecs } from '../../server/media/codecs.js';
import { WorkerPool, type PoolWorker } from '../../server/media/workerPool.js';
import { testLogger } from '../helpers/logger.js';
import { allocateServerPorts, type ServerPorts } from '../helpers/ports.js';
import { waitFor } from '../helpers/serverProcess.js';

let ports: ServerPorts;
let basePort: number;
let pool: WorkerPool | undefined;

beforeAll(async () => {
  ports = await allocateServerPorts(3);
  basePort = ports.rtcBase;
});

afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

function start(count: number): Promise<WorkerPool> {
  return WorkerPool.start({ count, listenIp: '127.0.0.1', basePort, internalPorts: ports.internal, logLevel: 'warn', loadSampleMs: 200, logger: testLogger });
}

async function listenPorts(w: PoolWorker): Promise<{ udp: number[]; tcp: number[] }> {
  const dump = await w.webRtcServer.dump();
  return { udp: dump.udpSockets.map((s) => s.port), tcp: dump.tcpServers.map((s) => s.port) };
}

describe('worker pool', () => {
  it('starts N workers, each with a WebRtcServer on base port + index (UDP and TCP)', async () => {
    pool = await start(3);
    expect(pool.workers).toHaveLength(3);
    expect(new Set(pool.workers.map((w) => w.worker.pid)).size).toBe(3);
    for (const w of pool.workers) {
      expect(await listenPorts(w)).toEqual({ udp: [basePort + w.index], tcp: [basePort + w.index] });
    }
    const health = await pool.health();
    expect(health.map((h) => h.alive)).toEqual([true, true, true]);
  });

  it('gives the least loaded worker, following routers, transports and consumers', async () => {
    pool = await start(2);
    const first = pool.leastLoaded();
    const router = await first.worker.createRouter({ mediaCodecs });
    expect(first.load.routers).toBe(1);
    const second = pool.leastLoaded();
    expect(second.index).not.toBe(first.index);

    // Load the second worker more heavily: the choice goes back to the first.
    const router2 = await second.worker.createRouter({ mediaCodecs });
    const transports = await Promise.all(
      [0, 1, 2].map(() => router2.createWebRtcTransport({ webRtcServer: second.webRtcServer })),
    );
    expect(second.load.transports).toBe(3);
    expect(pool.leastLoaded().index).toBe(first.index);

    // Closing objects releases load.
    for (const t of transports) t.close();
    router2.close();
    router.close();
    expect(first.load).toMatchObject({ routers: 0, transports: 0, consumers: 0 });
    expect(second.load).toMatchObject({ routers: 0, transports: 0, consumers: 0 });
  });

  it('samples each worker CPU from getResourceUsage deltas', async () => {
    pool = await start(1);
    const w = pool.workers[0]!;
    const router = await w.worker.createRouter({ mediaCodecs });
    // Keep the worker busy with requests for a while so that its CPU share is measurably > 0.
    const until = Date.now() + 800;
    while (Date.now() < until) await router.dump();
    await waitFor(() => w.load.cpu > 0, 3000, 'a CPU sample above zero');
    expect(w.load.cpu).toBeLessThan(1.5);
  });

  it('replaces a worker killed with SIGKILL on the same index and port', async () => {
    pool = await start(2);
    const victim = pool.workers[1]!;
    const oldPid = victim.worker.pid;
    const died = new Promise((resolve) => pool!.once('workerDied', resolve));
    const replaced = new Promise<PoolWorker>((resolve) => pool!.once('workerReplaced', resolve));
    process.kill(oldPid, 'SIGKILL');
    expect(await died).toMatchObject({ index: 1, pid: oldPid });
    const fresh = await replaced;
    expect(fresh.index).toBe(1);
    expect(fresh.worker.pid).not.toBe(oldPid);
    expect(await listenPorts(fresh)).toEqual({ udp: [basePort + 1], tcp: [basePort + 1] });
    expect(pool.workers[1]).toBe(fresh);
    expect((await pool.health()).every((h) => h.alive)).toBe(true);
    // The survivor never noticed.
    expect(pool.workers[0]!.worker.died).toBe(false);
  });

  it('fails to start with a clear error when the port is taken', async () => {
    pool = await start(1);
    await expect(start(1)).rejects.toThrow(new RegExp(`cannot listen on 127\\.0\\.0\\.1 UDP/TCP port ${basePort}.*SFU_RTC_BASE_PORT`));
  });
});
