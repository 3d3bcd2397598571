import fs from 'node:fs';
import path from 'node:path';
import type { types } from 'mediasoup';
import type { Source } from '../../protocol/schema.js';
import type { Logger } from '../logging/logger.js';
import type { ProducerData } from '../rooms/appData.js';
import { FfmpegProcess } from './ffmpegProcess.js';
import type { PortPairs } from './ports.js';
import { buildSdp, containerFor } from './sdp.js';

export interface SessionFile {
  name: string;
  peerId: string;
  userId: string;
  displayName: string;
  sources: Source[];
  startedAt: string;
  endedAt?: string;
  sizeBytes?: number;
}

export interface SessionOptions {
  router: types.Router;
  producers: types.Producer<ProducerData>[];
  peer: { id: string; userId: string; name: string };
  dir: string;
  baseName: string;
  ffmpegBin: string;
  ports: PortPairs;
  logger: Logger;
  /** ffmpeg ended on its own (crash, disk full, killed): the recording has failed. */
  onFailure: (reason: string) => void;
  /** Every producer of this session closed (the participant left or stopped publishing). */
  onIdle: () => void;
}

/**
 * One participant's media (camera and microphone together, or a screen share) into one file:
 * a paused consumer per producer on a PlainTransport to 127.0.0.1, an SDP describing them, and one
 * ffmpeg copying the RTP. The consumers are resumed, and a key frame requested, only once ffmpeg
 * listens, so the file starts with a decodable frame.
 */
export class RecordingSession {
  readonly file: SessionFile;
  private readonly transports: types.PlainTransport[] = [];
  private readonly consumers: types.Consumer[] = [];
  private readonly portsTaken: number[] = [];
  private ffmpeg: FfmpegProcess | undefined;
  private finished = false;
  private readonly container: ReturnType<typeof containerFor>;

  constructor(private readonly opts: SessionOptions) {
    // Consumers forward the producers' codecs unchanged, so the producers decide the container.
    this.container = containerFor(opts.producers.map((p) => p.rtpParameters.codecs[0]!));
    const { ext } = this.container;
    this.file = {
      name: `${opts.baseName}.${ext}`,
      peerId: opts.peer.id,
      userId: opts.peer.userId,
      displayName: opts.peer.name,
      sources: opts.producers.map((p) => p.appData.source),
      startedAt: new Date().toISOString(),
    };
  }

  get producerIds(): string[] {
    return this.opts.producers.map((p) => p.id);
  }

  get ffmpegPid(): number | undefined {
    return this.ffmpeg?.child.pid;
  }

  async start(): Promise<void> {
    const { router, producers, dir, ports } = this.opts;
    const streams = [];
    for (const producer of producers) {
      const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: false, comedia: false });
      this.transports.push(transport);
      const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: recorderCapabilities(router), paused: true });
      this.consumers.push(consumer);
      const port = await ports.take();
      this.portsTaken.push(port);
      streams.push({ kind: consumer.kind, port, codec: consumer.rtpParameters.codecs[0]!, transport, consumer });
      // A resumed camera starts with a key frame in the file, not with undecodable deltas.
      consumer.on('producerresume', () => void consumer.requestKeyFrame().catch(() => undefined));
      consumer.on('producerclose', () => {
        if (this.consumers.every((c) => c.closed)) this.opts.onIdle();
      });
    }
    const sdpFile = path.join(dir, `${this.opts.baseName}.sdp`);
    fs.writeFileSync(sdpFile, buildSdp(streams));
    this.ffmpeg = new FfmpegProcess({
      bin: this.opts.ffmpegBin,
      sdpFile,
      outFile: path.join(dir, this.file.name),
      format: this.container.format,
      ports: streams.map((s) => s.port),
      readyTimeoutMs: 10_000,
    });
    this.ffmpeg.on('exit', ({ code, signal }) => {
      if (this.ffmpeg?.stoppingGracefully || this.finished) return;
      const how = code !== null ? `exit code ${code}` : signal !== null ? `signal ${signal}` : 'it did not start';
      const reason = `ffmpeg for ${this.file.name} ended unexpectedly (${how}): ${this.ffmpeg?.errorSummary() ?? ''}`;
      this.opts.onFailure(reason.trim());
    });
    await this.ffmpeg.ready;
    // RTCP goes to the discard port, not to ffmpeg: ffmpeg would re-base a stream's clock on the
    // first sender report and step its timestamps backwards, leaving a file with non-increasing
    // timestamps. Without reports each stream's time starts at its first packet, so the video
    // starts first (at its key frame) and the audio right after: both begin together.
    for (const s of streams) await s.transport.connect({ ip: '127.0.0.1', port: s.port, rtcpPort: discardPort });
    const video = streams.filter((s) => s.kind === 'video');
    const audio = streams.filter((s) => s.kind === 'audio');
    await Promise.all(video.map((s) => startAtFirstPacket(s.consumer)));
    for (const s of audio) await s.consumer.resume();
    this.opts.logger.info({ file: this.file.name, streams: streams.length, pid: this.ffmpeg.child.pid }, 'recording session started');
  }

  /** Finalizes the file (ffmpeg writes its index) and releases every object of the session. */
  async stop(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.ffmpeg?.stop();
    for (const t of this.transports) t.close(); // and their consumers
    for (const p of this.portsTaken) this.opts.ports.release(p);
    // The end of ffmpeg's log next to the file: what an operator reads first when a file is odd.
    if (this.ffmpeg) fs.writeFileSync(path.join(this.opts.dir, `${this.opts.baseName}.ffmpeg.log`), this.ffmpeg.logTail());
    this.file.endedAt = new Date().toISOString();
    try {
      this.file.sizeBytes = fs.statSync(path.join(this.opts.dir, this.file.name)).size;
    } catch {
      this.file.sizeBytes = 0;
    }
  }
}

/**
 * What ffmpeg can take: the router's codecs without RTX, and no header extensions, so that the
 * worker sends plain RTP (no retransmission stream, no bandwidth probing on the recorder's port).
 */
function recorderCapabilities(router: types.Router): types.RtpCapabilities {
  return {
    codecs: (router.rtpCapabilities.codecs ?? []).filter((c) => !/\/rtx$/i.test(c.mimeType)).map((c) => ({ ...c, rtcpFeedback: [] })),
    headerExtensions: [],
  };
}

/** UDP "discard" (RFC 863): nothing listens there on a normal machine; datagrams just vanish. */
const discardPort = 9;

/** Resumes a video consumer, asks for a key frame, and resolves once its first RTP packet has gone out. */
async function startAtFirstPacket(consumer: types.Consumer): Promise<void> {
  const sent = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 5000); // a paused camera sends nothing: do not wait for it
    consumer.on('trace', (trace) => {
      if (trace.type === 'rtp' && trace.direction === 'out') {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  await consumer.enableTraceEvent(['rtp']);
  await consumer.resume();
  await consumer.requestKeyFrame();
  await sent;
  await consumer.enableTraceEvent([]);
}
