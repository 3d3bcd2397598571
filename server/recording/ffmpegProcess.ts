import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';

export interface FfmpegOptions {
  bin: string;
  sdpFile: string;
  outFile: string;
  format: 'webm' | 'matroska';
  /** The RTP ports the SDP declares (ffmpeg opens each and the next one for RTCP). */
  ports: number[];
  readyTimeoutMs: number;
}

/** ffmpeg cannot be run at all (missing, not executable): every session would fail alike. */
export class FfmpegUnavailable extends Error {
  override name = 'FfmpegUnavailable';
}

/**
 * One ffmpeg copying RTP into a file without re-encoding. `ready` resolves once ffmpeg has bound
 * every UDP port of its SDP (read from the kernel's socket table, /proc/net/udp), so the caller can
 * start the media knowing that nothing sent will be lost. No fixed sleep.
 */
export class FfmpegProcess extends EventEmitter<{ exit: [{ code: number | null; signal: string | null }] }> {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  private log = '';
  private stopping = false;
  readonly exited: Promise<void>;

  constructor(private readonly opts: FfmpegOptions) {
    super();
    const args = [
      '-nostdin',
      '-nostats',
      '-loglevel', 'info',
      '-protocol_whitelist', 'file,udp,rtp',
      '-fflags', '+genpts',
      // Wait for the first packets (a key frame gives the video size the container header needs);
      // probing ends as soon as every stream is known.
      '-analyzeduration', '10000000',
      '-probesize', '10000000',
      '-i', opts.sdpFile,
      '-map', '0',
      '-c', 'copy',
      '-f', opts.format,
      '-y', opts.outFile,
    ];
    this.child = spawn(opts.bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let markReady: () => void = () => undefined;
    let failReady: (e: Error) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failReady = reject;
    });
    const wanted = opts.ports.flatMap((p) => [p, p + 1]);
    const deadline = Date.now() + opts.readyTimeoutMs;
    const poll = setInterval(() => {
      if (wanted.every((p) => boundUdpPorts().has(p))) {
        clearInterval(poll);
        markReady();
      } else if (Date.now() > deadline) {
        clearInterval(poll);
        failReady(new Error(`ffmpeg did not open its RTP ports within ${opts.readyTimeoutMs} ms`));
      }
    }, 25);
    this.child.stderr!.on('data', (d: Buffer) => {
      // Keep the end of the log for error reports.
      this.log = (this.log + d.toString()).slice(-8000);
    });
    this.child.once('error', (err) => {
      clearInterval(poll);
      this.log = `cannot run ${opts.bin}: ${err.message}`;
      failReady(new FfmpegUnavailable(`cannot run ${opts.bin}: ${err.message}`));
      this.emit('exit', { code: null, signal: null });
    });
    // 'close', not 'exit': by then stderr has been read to its end, so the log is whole.
    this.exited = new Promise((resolve) =>
      this.child.once('close', (code, signal) => {
        clearInterval(poll);
        failReady(new Error(`ffmpeg exited (${code ?? signal}) before it was ready`));
        this.emit('exit', { code, signal });
        resolve();
      }),
    );
  }

  get stoppingGracefully(): boolean {
    return this.stopping;
  }

  /** The end of ffmpeg's log. */
  logTail(): string {
    return this.log;
  }

  /** The last lines ffmpeg logged that look like errors, for a failure reason. */
  errorSummary(): string {
    const lines = this.log.split('\n').filter((l) => /error|failed|No space|Permission denied|Invalid/i.test(l));
    return (lines.slice(-3).join(' | ') || this.log.split('\n').slice(-3).join(' | ')).trim().slice(0, 500);
  }

  /** Ends an ffmpeg that has recorded nothing yet (its session gave up while starting): no file to finish. */
  async abort(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined) return;
    this.stopping = true;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /**
   * Ends the recording the way an RTP session ends: an RTCP BYE on every stream's RTCP port. Once
   * each stream has said goodbye, ffmpeg's RTP input reports end of file, and ffmpeg writes the
   * trailer and index (complete, seekable file) and exits, even if no media arrives any more (a
   * participant who left). A signal would not do: ffmpeg checks for it only between packets.
   * SIGINT, then SIGKILL, only if it does not finish.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.stopping = true;
    await sendByes(this.opts.ports);
    const interrupt = setTimeout(() => this.child.kill('SIGINT'), timeoutMs / 2);
    const kill = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(interrupt);
    clearTimeout(kill);
  }
}

/** An RTCP BYE (RFC 3550 6.6) to 127.0.0.1:port+1 for each RTP port. */
async function sendByes(ports: number[]): Promise<void> {
  const socket = dgram.createSocket('udp4');
  // V=2, SC=1, PT=BYE, length 2 words, SSRC 0, reason "end": 12 bytes, as ffmpeg ignores anything shorter.
  const bye = Buffer.from([0x81, 203, 0x00, 0x02, 0, 0, 0, 0, 3, 0x65, 0x6e, 0x64]);
  try {
    for (const port of ports) {
      await new Promise<void>((resolve) => socket.send(bye, port + 1, '127.0.0.1', () => resolve()));
    }
  } finally {
    socket.close();
  }
}

/** Local UDP ports with a socket bound, from the kernel's tables. */
function boundUdpPorts(): Set<number> {
  const ports = new Set<number>();
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    let text = '';
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local) ports.add(parseInt(local.split(':')[1] ?? '', 16));
    }
  }
  return ports;
}
