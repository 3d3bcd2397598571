import client from 'prom-client';
import { qualityLevels } from '../../protocol/schema.js';
import type { WorkerPool } from '../media/workerPool.js';
import type { QualityMonitor } from '../quality/qualityMonitor.js';
import type { RecordingService } from '../recording/recordingService.js';
import type { Peer } from '../rooms/peer.js';
import type { RoomRegistry } from '../rooms/roomRegistry.js';
import { cachedTask } from '../util/cachedTask.js';

/**
 * Prometheus metrics (GET /metrics). Counters and histograms are fed by the code that sees the
 * events; gauges are computed from the live objects at scrape time, so they cannot drift.
 */
export class Metrics {
  readonly registry = new client.Registry();
  readonly joinSeconds = new client.Histogram({
    name: 'sfu_join_duration_seconds',
    help: 'Time to answer a join request',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly signalingErrors = new client.Counter({
    name: 'sfu_signaling_errors_total',
    help: 'Signaling requests answered with an error, by code',
    labelNames: ['code'],
    registers: [this.registry],
  });
  readonly transportFailures = new client.Counter({
    name: 'sfu_transport_failures_total',
    help: 'WebRTC transports whose DTLS failed or whose ICE got disconnected',
    labelNames: ['kind'],
    registers: [this.registry],
  });

  readonly joinsRefusedAtCapacity = new client.Counter({
    name: 'sfu_joins_refused_capacity_total',
    help: 'Joins of students and observers refused because every worker was above SFU_WORKER_MAX_CPU',
    registers: [this.registry],
  });
  readonly clusterRedirects = new client.Counter({
    name: 'sfu_cluster_redirects_total',
    help: 'Joins answered with a redirect to the room\'s origin node (cluster mode)',
    registers: [this.registry],
  });
  readonly clusterTakeovers = new client.Counter({
    name: 'sfu_cluster_takeovers_total',
    help: 'Rooms this node moved from a dead node to a live one (cluster mode)',
    registers: [this.registry],
  });

  /** Collections of every metric: several scrapes within SFU_METRICS_CACHE_MS share one. */
  readonly collections = new client.Counter({
    name: 'sfu_metrics_collections_total',
    help: 'Times the metrics were collected from the workers (concurrent and repeated scrapes share one collection)',
    registers: [this.registry],
  });
  /** The exposition text; see `cachedTask`. */
  readonly scrape: () => Promise<string>;

  constructor(cacheMs = 0) {
    client.collectDefaultMetrics({ register: this.registry, prefix: 'sfu_node_' });
    this.scrape = cachedTask(() => {
      this.collections.inc();
      return this.registry.metrics();
    }, cacheMs);
  }

  /** Cluster mode: the Redis link (1 up, 0 down) and the live nodes this node knows of. */
  watchCluster(cluster: { status(): { redis: string; nodes: number; heldRooms: number } }): void {
    const gauge = (name: string, help: string, value: () => number) =>
      new client.Gauge({ name, help, registers: [this.registry], collect() { this.set(value()); } });
    gauge('sfu_redis_up', 'Whether this node\'s connection to the cluster\'s Redis is up (1) or not (0)', () => (cluster.status().redis === 'ready' ? 1 : 0));
    gauge('sfu_cluster_nodes', 'Live nodes of the cluster this node knows of, itself included', () => cluster.status().nodes);
    gauge('sfu_cluster_rooms_claimed', 'Rooms this node serves as their origin (claimed in Redis)', () => cluster.status().heldRooms);
  }

  /** Registers the gauges read from the live objects at scrape time. */
  watch(deps: { pool: WorkerPool; rooms: RoomRegistry; recordings: RecordingService; quality: QualityMonitor; relayAddresses: string[] }): void {
    const { pool, rooms, recordings, quality } = deps;
    const relay = new Set(deps.relayAddresses);
    const gauge = (name: string, help: string, labelNames: string[], collect: (g: client.Gauge) => void | Promise<void>) =>
      new client.Gauge({ name, help, labelNames, registers: [this.registry], async collect() { this.reset(); await collect(this); } });

    gauge('sfu_rooms', 'Open rooms', [], (g) => g.set(rooms.size));
    gauge('sfu_peers', 'Peers in rooms', [], (g) => g.set(rooms.all().reduce((n, r) => n + r.peers.size, 0)));
    gauge('sfu_producers', 'Producers, by kind', ['kind'], (g) => {
      const count = { audio: 0, video: 0 };
      for (const r of rooms.all()) for (const p of r.peers.values()) for (const pr of p.producers.values()) count[pr.kind]++;
      g.set({ kind: 'audio' }, count.audio);
      g.set({ kind: 'video' }, count.video);
    });
    for (const what of ['routers', 'transports', 'consumers'] as const) {
      gauge(`sfu_worker_${what}`, `mediasoup ${what} per worker`, ['worker'], (g) => {
        for (const w of pool.workers) g.set({ worker: String(w.index) }, w.load[what]);
      });
    }
    gauge('sfu_peers_by_quality', 'Peers by network quality level and direction (unmeasured peers not counted)', ['direction', 'level'], (g) => {
      for (const direction of ['uplink', 'downlink'] as const) {
        const count = { good: 0, fair: 0, poor: 0, lost: 0 };
        for (const r of rooms.all()) {
          for (const p of r.peers.values()) {
            const level = quality.current(p)?.[direction];
            if (level) count[level]++;
          }
        }
        for (const level of qualityLevels) g.set({ direction, level }, count[level]);
      }
    });
    gauge('sfu_worker_cpu_ratio', 'Share of one core each worker used over the last sample', ['worker'], (g) => {
      for (const w of pool.workers) g.set({ worker: String(w.index) }, w.load.cpu);
    });
    gauge('sfu_recordings', 'Recordings of this process, by state', ['state'], (g) => {
      const counts = recordings.counts();
      for (const [state, n] of Object.entries(counts)) g.set({ state }, n);
    });
    // Per scrape: transport stats from the workers (one request per transport).
    const transports = () => rooms.all().flatMap((r) => [...r.peers.values()].flatMap((p) => [...p.transports.values()]));
    gauge('sfu_transport_bytes', 'Bytes through the WebRTC transports of open rooms', ['direction'], async (g) => {
      let rx = 0;
      let tx = 0;
      for (const t of transports()) {
        const [s] = await t.getStats().catch(() => []);
        rx += s?.bytesReceived ?? 0;
        tx += s?.bytesSent ?? 0;
      }
      g.set({ direction: 'in' }, rx);
      g.set({ direction: 'out' }, tx);
    });
    gauge('sfu_transports_connected', 'Connected WebRTC transports, by path (relay: the remote end is the TURN relay)', ['path'], (g) => {
      let viaRelay = 0;
      let direct = 0;
      for (const t of transports()) {
        const tuple = t.iceSelectedTuple;
        if (!tuple) continue;
        if (relay.has(tuple.remoteIp ?? '')) viaRelay++;
        else direct++;
      }
      g.set({ path: 'relay' }, viaRelay);
      g.set({ path: 'direct' }, direct);
    });
    // Packet and loss counts summed over the RTP streams of every producer, or every consumer.
    const packets = async (of: (p: Peer) => Iterable<{ getStats(): Promise<{ type: string; packetCount?: number; packetsLost?: number }[]> }>, type?: string) => {
      let count = 0;
      let lost = 0;
      for (const r of rooms.all()) {
        for (const p of r.peers.values()) {
          for (const x of of(p)) {
            for (const s of await x.getStats().catch(() => [])) {
              if (type && s.type !== type) continue;
              count += s.packetCount ?? 0;
              lost += s.packetsLost ?? 0;
            }
          }
        }
      }
      return { count, lost };
    };
    gauge('sfu_producer_packets', 'RTP packets received by producers of open rooms, and packets lost on the way in', ['type'], async (g) => {
      const t = await packets((p) => p.producers.values());
      g.set({ type: 'received' }, t.count);
      g.set({ type: 'lost' }, t.lost);
    });
    gauge('sfu_consumer_packets', 'RTP packets sent by consumers of open rooms, and packets the receivers reported lost', ['type'], async (g) => {
      // A consumer's stats also carry its producer's (inbound-rtp): only the outbound stream counts.
      const t = await packets((p) => p.consumers.values(), 'outbound-rtp');
      g.set({ type: 'sent' }, t.count);
      g.set({ type: 'lost' }, t.lost);
    });
  }
}
