import type http from 'node:http';
import path from 'node:path';
import { TokenService } from './auth/tokens.js';
import { ClusterNode } from './cluster/clusterNode.js';
import type { Config } from './config/schema.js';
import type { Logger } from './logging/logger.js';
import { createHttpApp } from './http/app.js';
import { listen, stopListening } from './http/listen.js';
import { WorkerPool } from './media/workerPool.js';
import { Metrics } from './observability/metrics.js';
import { RecordingService } from './recording/recordingService.js';
import { QualityMonitor } from './quality/qualityMonitor.js';
import { RoomRegistry } from './rooms/roomRegistry.js';
import { summary as roomSummary } from './http/roomsApi.js';
import { attachSignaling, type Signaling } from './signaling/wsServer.js';
import { iceServersFor } from './turn/credentials.js';
import { JoinAdmission } from './media/joinAdmission.js';
import { startCoturn, type Coturn } from './turn/coturnProcess.js';
import { isLoopbackHost, urlHost } from './util/hosts.js';

export interface RunningServer {
  pool: WorkerPool;
  rooms: RoomRegistry;
  quality: QualityMonitor;
  recordings: RecordingService;
  signaling: Signaling;
  tokens: TokenService;
  http: http.Server;
  url: string;
  /** Cluster mode only (SFU_REDIS_URL). */
  cluster: ClusterNode | undefined;
  close(): Promise<void>;
}

/** dist/client, next to dist/server, holds the browser bundles. */
const defaultClientDir = path.resolve(import.meta.dirname, '..', 'client');

/** Starts the media plane, rooms, signaling and HTTP; `close()` stops them in reverse order. */
export async function startServer(config: Config, logger: Logger, clientDir = defaultClientDir): Promise<RunningServer> {
  const pool = await WorkerPool.start({
    count: config.workers.count,
    listenIp: config.rtc.listenIp,
    announcedAddress: config.rtc.announcedAddress,
    basePort: config.rtc.basePort,
    internalPorts: [config.rtc.internalMinPort, config.rtc.internalMaxPort],
    logLevel: config.workers.logLevel,
    loadSampleMs: config.workers.loadSampleMs,
    logger,
  });
  let coturn: Coturn | undefined;
  try {
    if (config.turn.managed) coturn = await startCoturn(config, logger);
  } catch (err) {
    await pool.close();
    throw err;
  }
  const tokens = new TokenService(config.auth.jwtSecret, { issuer: config.auth.issuer, audience: config.auth.audience });
  const devTokens = config.auth.devTokens ?? !config.auth.jwtSecret;
  if (devTokens) {
    const exposed = !isLoopbackHost(config.http.host);
    logger.warn(
      { httpHost: config.http.host },
      exposed
        ? 'POST /api/tokens issues tokens to ANYONE who reaches this address (SFU_DEV_TOKENS=true): only on a network you trust; set SFU_JWT_SECRET for production'
        : 'POST /api/tokens issues tokens to anyone on this machine (development mode); set SFU_JWT_SECRET for production',
    );
  }
  const metrics = new Metrics(config.metrics.cacheMs);
  const rooms = new RoomRegistry(
    pool,
    {
      limits: config.rooms,
      resumeGraceMs: config.signaling.resumeGraceMs,
      logger,
      onTransportFailure: (kind) => metrics.transportFailures.inc({ kind }),
    },
    logger,
  );
  const recordings = await RecordingService.open(rooms, {
    dir: config.recording.dir,
    ffmpegBin: config.recording.ffmpegPath,
    portMin: config.recording.minPort,
    portMax: config.recording.maxPort,
    maxFfmpeg: config.recording.maxFfmpeg,
    maxSessionsPerPeer: config.recording.maxSessionsPerPeer,
    minFreeMb: config.recording.minFreeMb,
    logger,
  });
  const quality = new QualityMonitor(rooms, config.quality, logger);
  metrics.watch({ pool, rooms, recordings, quality, relayAddresses: config.turn.secret ? [config.turn.externalIp ?? config.turn.listenIp] : [] });
  let cluster: ClusterNode | undefined;
  let server: http.Server;
  try {
    if (config.cluster.redisUrl) {
      cluster = await ClusterNode.start({
        config,
        rooms,
        snapshot: () => ({
          peers: rooms.peerCount(),
          workerCpu: pool.workers.map((w) => w.load.cpu),
          rooms: rooms.all().filter((r) => !r.closed).map((r) => roomSummary(r, recordings)),
        }),
        events: { onRedirect: () => metrics.clusterRedirects.inc(), onTakeover: () => metrics.clusterTakeovers.inc() },
        logger,
      });
      metrics.watchCluster(cluster);
    }
    server = await listen(createHttpApp({
        pool,
        tokens,
        recordings,
        rooms,
        quality,
        metrics,
        devTokens,
        devTokenTtlSec: config.auth.devTokenTtlSec,
        tls: Boolean(config.http.tlsCert),
        metricsToken: config.metrics.token,
        demoAutojoin: config.demo.autojoin,
        clientDir,
        cluster,
      }), config.http);
  } catch (err) {
    await cluster?.stop();
    await coturn?.stop();
    await pool.close();
    throw err;
  }
  const turn = { ...config.turn, host: config.turn.host ?? config.rtc.announcedAddress ?? config.rtc.listenIp };
  if (!turn.secret) logger.info('no SFU_TURN_SECRET: clients get no TURN relay (fine on a LAN; see README, "TURN")');
  const signaling = attachSignaling(server, {
    tokens,
    rooms,
    recordings,
    quality,
    iceServersFor: (userId) => iceServersFor(turn, userId),
    admission: new JoinAdmission(pool, config.workers.maxCpu, () => metrics.joinsRefusedAtCapacity.inc()),
    cluster,
    clusterOrigins: cluster ? () => cluster.origins() : undefined,
    maxMessageBytes: config.signaling.maxMessageBytes,
    heartbeatMs: config.signaling.heartbeatMs,
    allowedOrigins: config.signaling.allowedOrigins,
    maxConnectionsPerIp: config.signaling.maxConnectionsPerIp,
    trustedProxies: config.signaling.trustedProxies,
    rateLimitPerSec: config.signaling.rateLimitPerSec,
    rateLimitBurst: config.signaling.rateLimitBurst,
    joinTimeoutMs: config.signaling.joinTimeoutMs,
    requestTimeoutMs: 10_000,
    metrics,
    logger,
  });
  quality.start();
  const scheme = config.http.tlsCert ? 'https' : 'http';
  const url = `${scheme}://${urlHost(config.http.host)}:${config.http.port}`;
  const rtcPorts = `${config.rtc.basePort}-${config.rtc.basePort + config.workers.count - 1}`;
  logger.info({ url, workers: config.workers.count, rtcPorts }, 'server listening');
  return {
    pool,
    rooms,
    recordings,
    signaling,
    tokens,
    quality,
    http: server,
    url,
    cluster,
    async close() {
      // No new joins; finish the recordings while the media still flows; tell every peer the
      // server is going away (roomClosed, then 1001); then close what is left.
      signaling.stopAccepting();
      quality.stop();
      await recordings.stopAll();
      rooms.closeAll('server shutting down');
      // Give the room claims up at once, so that the clients' rejoin lands on another node.
      await cluster?.stop();
      signaling.close();
      await stopListening(server);
      await coturn?.stop();
      await pool.close();
    },
  };
}
