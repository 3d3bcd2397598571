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
  /** Why this file could not be recorded (its session failed to start); the others go on. */
  error?: string;
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
  /** Asks the publisher for the whole of a video producer until released (dynacast: a file wants every layer). */
  demand: (producerId: string) => () => void;
  /** ffmpeg ended on its own once recording (crash, disk full, killed): the recording has failed. */
  onFailure: (reason: string) => void;
  /** Every producer of this session closed (the participant left or stopped publishing). */
  onIdle: () => void;
  /** Everything is released and ffmpeg has exited (its slot may go to another session). */
  onReleased: () => void;
}

/** start() gave up because the session was stopped meanwhile (its producers closed, or the recording ended). */
export class SessionStopped extends Error {
  override name = 'SessionStopped';
}

/**
 * One participant's media (camera and microphone together, or a screen share and its sound) into one file:
 * a paused consumer per producer on a PlainTransport to 127.0.0.1, an SDP describing them, and one
 * ffmpeg copying the RTP. The consumers are resumed, and a key frame requested, only once ffmpeg
 * listens, so the file starts with a decodable frame.
 *
 * stop() may come at any time, also while start() runs (a producer closed at once): start() then
 * gives up at its next step, and stop() releases whatever it had taken (ports, transports, ffmpeg).
 */
export class RecordingSession {
  readonly file: SessionFile;
  private readonly transports: types.PlainTransport[] = [];
  private readonly consumers: types.Consumer[] = [];
  private readonly portsTaken: number[] = [];
  private readonly demands: (() => void)[] = [];
  private ffmpeg: FfmpegProcess | undefined;
  /** ffmpeg listens: stopping it finalizes a file. */
  private listening = false;
  private finished = false;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
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

  start(): Promise<void> {
    this.starting ??= this.run();
    return this.starting;
  }

  private async run(): Promise<void> {
    const { router, producers, dir, ports } = this.opts;
    const goOn = () => {
      if (this.finished) throw new SessionStopped(`recording of ${this.file.name} stopped while it started`);
    };
    const streams = [];
    for (const producer of producers) {
      goOn();
      if (producer.kind === 'video') this.demands.push(this.opts.demand(producer.id));
      const transport = await router.createPlainTransport({ listenInfo: { protocol: 'udp', ip: '127.0.0.1' }, rtcpMux: false, comedia: false });
      this.transports.push(transport);
      goOn();
      const consumer = await transport.consume({ producerId: producer.id, rtpCapabilities: recorderCapabilities(router), paused: true });
      this.consumers.push(consumer);
      // A resumed camera starts with a key frame in the file, not with undecodable deltas.
      consumer.on('producerresume', () => void consumer.requestKeyFrame().catch(() => undefined));
      consumer.on('producerclose', () => {
        if (this.consumers.every((c) => c.closed)) this.opts.onIdle();
      });
      goOn();
      const port = await ports.take();
      this.portsTaken.push(port);
      streams.push({ kind: consumer.kind, port, codec: consumer.rtpParameters.codecs[0]!, transport, consumer });
    }
    goOn();
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
      // Before it listens, start() fails with the reason; that is this session's failure alone.
      if (!this.listening || this.ffmpeg?.stoppingGracefully || this.finished) return;
      const how = code !== null ? `exit code ${code}` : signal !== null ? `signal ${signal}` : 'it did not start';
      const reason = `ffmpeg for ${this.file.name} ended unexpectedly (${how}): ${this.ffmpeg?.errorSummary() ?? ''}`;
      this.opts.onFailure(reason.trim());
    });
    await this.ffmpeg.ready;
    this.listening = true;
    // RTCP goes to the discard port, not to ffmpeg: ffmpeg would re-base a stream's clock on the
    // first sender report and step its timestamps backwards, leaving a file with non-increasing
    // timestamps. Without reports each stream's time starts at its first packet, so the video
    // starts first (at its key frame) and the audio right after: both begin together.
    for (const s of streams) {
      goOn();
      await s.transport.connect({ ip: '127.0.0.1', port: s.port, rtcpPort: discardPort });
    }
    goOn();
    const video = streams.filter((s) => s.kind === 'video');
    const audio = streams.filter((s) => s.kind === 'audio');
    await Promise.all(video.map((s) => startAtFirstPacket(s.consumer)));
    for (const s of audio) {
      goOn();
      await s.consumer.resume();
    }
    this.opts.logger.info({ file: this.file.name, streams: streams.length, pid: this.ffmpeg.child.pid }, 'recording session started');
  }

  /** Finalizes the file (ffmpeg writes its index) and releases every object of the session. Never throws. */
  stop(): Promise<void> {
    this.finished = true;
    this.stopping ??= this.release();
    return this.stopping;
  }

  private async release(): Promise<void> {
    try {
      // An ffmpeg that does not listen yet has nothing to finalize; one that does is stopped once
      // start() has given up (at its next step), so that the file gets its index.
      if (!this.listening) await this.ffmpeg?.abort();
      await this.starting?.catch(() => undefined);
      await this.ffmpeg?.stop();
    } catch (err) {
      this.opts.logger.error({ err, file: this.file.name }, 'could not stop ffmpeg');
    } finally {
      for (const t of this.transports) t.close(); // and their consumers
      for (const release of this.demands) release();
      for (const p of this.portsTaken) this.opts.ports.release(p);
      this.opts.onReleased();
    }
    this.file.endedAt = new Date().toISOString();
    // The disk may be gone or full: the session still ends, and the recording with it.
    try {
      // The end of ffmpeg's log next to the file: what an operator reads first when a file is odd.
      if (this.ffmpeg) fs.writeFileSync(path.join(this.opts.dir, `${this.opts.baseName}.ffmpeg.log`), this.ffmpeg.logTail());
    } catch (err) {
      this.opts.logger.error({ err, file: this.file.name }, 'cannot write the ffmpeg log');
    }
    try {
      this.file.sizeBytes = fs.statSync(path.join(this.opts.dir, this.file.name)).size;
    } catch {
      this.file.sizeBytes = 0;
    }
  }

  /** Removes what a session that recorded nothing left on disk (its SDP, an empty file, the log). */
  discardFiles(): void {
    for (const name of [`${this.opts.baseName}.sdp`, this.file.name, `${this.opts.baseName}.ffmpeg.log`]) {
      try {
        fs.rmSync(path.join(this.opts.dir, name), { force: true });
      } catch {
        // the folder itself is gone: nothing left to remove
      }
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
    consumer.observer.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
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
