/**
 * Node side of the load generator (bench/loadgen/loadgen.c): builds it if needed, spawns it, and
 * speaks its line protocol (text commands in, JSON events out; described at the top of loadgen.c).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export interface StreamSpec {
  kind: 'audio' | 'video';
  ssrc: number;
  payloadType: number;
  /** Packets per second. */
  rate: number;
  /** RTP payload bytes per packet (16–1200). */
  payloadSize: number;
  /** Video only: frames per second (default 30, at most `rate`). */
  fps?: number;
}

export interface SessionSpec {
  id: string;
  role: 'send' | 'recv';
  serverIp: string;
  serverPort: number;
  iceUfrag: string;
  icePwd: string;
  /** Senders: video streams are simulcast layers, lowest first. */
  streams?: StreamSpec[];
  /** Senders: only this many video streams, lowest first, send from the start (setVideoLayers changes it). Default: all. */
  videoLayers?: number;
  /** Senders: a key frame on every video stream this often (ms); 0: only at start and on PLI/FIR. Default 1000. */
  keyFrameIntervalMs?: number;
  /**
   * Receivers: the payload type the server forwards our senders' audio with (the router's Opus
   * payload type: consumers use the router's, not the one the subscriber prefers). Its packets'
   * forwarding latency goes into the generator's histogram; unset: not measured.
   */
  audioPayloadType?: number;
}

export interface SessionStats {
  id: string;
  role: 'send' | 'recv';
  state: 'ice' | 'dtls' | 'ready' | 'failed';
  sent: number;
  sentBytes: number;
  rtcpSent: number;
  recv: number;
  recvBytes: number;
  rtcpRecv: number;
  pliRecv: number;
  firRecv: number;
  keyFrames: number;
  txErrors: number;
  /** Frames skipped because the generator fell more than a second behind. */
  late: number;
  /** Received RTP packets whose sequence number was not after the previous one of their SSRC. */
  reordered: number;
  /** Received RTP packets per SSRC: [ssrc, packets]. */
  ssrcs: [number, number][];
}

/**
 * Forwarding latency of audio since the last resetLatency(), µs: from just before the generator's
 * sendmmsg to the kernel's receive timestamp of the forwarded packet (loopback to the server, its
 * whole receive/forward/send path, and its packet entering loopback back). p*: null when count is 0.
 */
export interface LatencyStats {
  count: number;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number;
  /** Audio packets received whose send time was not found (e.g. sent before a generator restart). */
  miss: number;
}

export interface LoadgenStats {
  /** The generator's monotonic clock, ms. */
  t: number;
  /** The generator's own CPU time (user + system), ms. */
  cpuMs: number;
  sessions: SessionStats[];
  total: Omit<SessionStats, 'id' | 'role' | 'state' | 'txErrors' | 'late' | 'ssrcs'> & { sessions: number; ready: number; failed: number };
  latency: LatencyStats;
}

/**
 * The SRTP protection profile a generator offers in DTLS-SRTP, the only one, so the one its
 * sessions negotiate: gcm256 is SRTP_AEAD_AES_256_GCM (what Chromium negotiates with mediasoup),
 * gcm128 SRTP_AEAD_AES_128_GCM (both RFC 7714), sha1_80 SRTP_AES128_CM_SHA1_80 (RFC 3711).
 */
export type SrtpProfile = 'gcm256' | 'gcm128' | 'sha1_80';
export const srtpProfiles: readonly SrtpProfile[] = ['gcm256', 'gcm128', 'sha1_80'];

export interface LoadgenOptions {
  /** Default: the environment's LOADGEN_SRTP if set (one of the profiles), else 'gcm256'. */
  srtp?: SrtpProfile;
}

/** The profile to use: `srtp`, else LOADGEN_SRTP, else gcm256; anything else is an error. */
export function resolveSrtpProfile(srtp?: string): SrtpProfile {
  const v = srtp ?? process.env.LOADGEN_SRTP ?? 'gcm256';
  if (!(srtpProfiles as readonly string[]).includes(v)) {
    throw new Error(`loadgen: unknown SRTP profile ${JSON.stringify(v)} (${srtp === undefined ? 'LOADGEN_SRTP' : 'srtp'}: one of ${srtpProfiles.join(', ')})`);
  }
  return v as SrtpProfile;
}

type LoadgenEvent =
  | { event: 'fingerprint'; algorithm: string; value: string; srtp: string }
  | { event: 'ready'; id: string; iceMs: number; dtlsMs: number }
  | { event: 'failed'; id: string; reason: string }
  | { event: 'removed'; id: string }
  | ({ event: 'stats' } & LoadgenStats)
  | { event: 'stopped' };

const token = /^[\w.:-]{1,63}$/;

/** The repository's bench/ folder, from this file's place in the source tree or in bench/.build/. */
function benchDir(): string {
  for (let dir = import.meta.dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'loadgen', 'build.sh'))) return dir;
    if (fs.existsSync(path.join(dir, 'bench', 'loadgen', 'build.sh'))) return path.join(dir, 'bench');
    if (path.dirname(dir) === dir) throw new Error('bench/loadgen/build.sh not found above ' + import.meta.dirname);
  }
}

/** Builds bench/.build/loadgen when its source changed (progress on stderr); returns its path. */
export function buildLoadgen(): string {
  const out = execFileSync('bash', [path.join(benchDir(), 'loadgen', 'build.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  return out.toString().trim().split('\n').pop()!;
}

export class Loadgen {
  /** sha-256 fingerprint of the generator's DTLS certificate, "AB:CD:…" (the form mediasoup wants). */
  fingerprint = '';
  /** The DTLS-SRTP profile it offers and its sessions use, OpenSSL's name: "SRTP_AEAD_AES_256_GCM", … */
  srtpProfile = '';
  /** Sessions that failed after being ready (e.g. DTLS closed by the server), with the reason. */
  readonly lateFailures = new Map<string, string>();
  private readonly pending = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  private readonly statsWaiters: { resolve: (s: LoadgenStats) => void; reject: (e: Error) => void }[] = [];
  private readonly exited: Promise<number | null>;
  private dead = false;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => {
      child.once('exit', (code) => resolve(code));
      child.once('error', (err) => {
        console.error(`loadgen: ${err.message}`);
        resolve(null); // e.g. it could not be started: 'exit' may never come
      });
    });
    // Writing to a generator that died fails with EPIPE; its exit is reported through `exited`.
    child.stdin!.on('error', () => undefined);
    void this.exited.then((code) => {
      this.dead = true;
      const err = new Error(`loadgen exited (${code})`);
      for (const p of [...this.pending.values(), ...this.statsWaiters.splice(0)]) p.reject(err);
      this.pending.clear();
    });
  }

  /** Builds (if needed) and starts the generator; resolves once it printed its fingerprint. */
  static async start(options: LoadgenOptions = {}): Promise<Loadgen> {
    const srtp = resolveSrtpProfile(options.srtp);
    const child = spawn(buildLoadgen(), ['--srtp', srtp], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lg = new Loadgen(child);
    const lines = readline.createInterface({ input: child.stdout! });
    const first = new Promise<void>((resolve, reject) => {
      lines.on('line', (line) => {
        let ev: LoadgenEvent;
        try {
          ev = JSON.parse(line) as LoadgenEvent;
        } catch {
          console.error(`loadgen: unexpected output: ${line.slice(0, 200)}`);
          return;
        }
        if (ev.event === 'fingerprint') {
          lg.fingerprint = ev.value;
          lg.srtpProfile = ev.srtp;
          resolve();
        } else lg.onEvent(ev);
      });
      void lg.exited.then((code) => reject(new Error(`loadgen exited (${code}) before starting`)));
    });
    await first;
    return lg;
  }

  private onEvent(ev: LoadgenEvent): void {
    if (ev.event === 'ready' || ev.event === 'failed') {
      const p = this.pending.get(ev.id);
      this.pending.delete(ev.id);
      if (ev.event === 'ready') p?.resolve();
      else if (p) p.reject(new Error(`loadgen session ${ev.id}: ${ev.reason}`));
      else this.lateFailures.set(ev.id, ev.reason);
    } else if (ev.event === 'removed') {
      this.pending.get(ev.id)?.reject(new Error(`loadgen session ${ev.id}: removed before it was ready`));
      this.pending.delete(ev.id);
    } else if (ev.event === 'stats') {
      this.statsWaiters.shift()?.resolve(ev);
    }
  }

  private send(line: string): void {
    this.child.stdin!.write(line + '\n');
  }

  /** Starts a session: ICE, then DTLS. Resolves when SRTP can flow, rejects if either fails. */
  addSession(spec: SessionSpec): Promise<void> {
    // The line protocol is space-separated: nothing may contain spaces (mediasoup's are [a-z0-9]).
    for (const v of [spec.iceUfrag, spec.icePwd, spec.serverIp]) {
      if (!/^[\w+/=.:-]{1,127}$/.test(v)) throw new Error(`loadgen: unusable value ${JSON.stringify(v)}`);
    }
    if (!token.test(spec.id)) throw new Error(`loadgen: session id must match ${token}`);
    if (this.pending.has(spec.id)) throw new Error(`loadgen: session ${spec.id} is already starting`);
    const streams = (spec.streams ?? []).map((s) =>
      [s.kind, s.ssrc >>> 0, s.payloadType, s.rate, s.payloadSize, ...(s.kind === 'video' && s.fps ? [s.fps] : [])].join(','),
    );
    const key = spec.keyFrameIntervalMs === undefined ? [] : [`key=${Math.round(spec.keyFrameIntervalMs)}`];
    const apt = spec.audioPayloadType === undefined || spec.role !== 'recv' ? [] : [`apt=${spec.audioPayloadType & 0x7f}`];
    const on = spec.videoLayers === undefined || spec.role !== 'send' ? [] : [`layers=${Math.max(0, Math.round(spec.videoLayers))}`];
    const line = ['add', spec.id, spec.role, spec.serverIp, spec.serverPort, spec.iceUfrag, spec.icePwd, ...key, ...apt, ...on, ...streams].join(' ');
    return new Promise((resolve, reject) => {
      if (this.dead) return reject(new Error('loadgen has exited'));
      this.pending.set(spec.id, { resolve, reject });
      this.send(line);
    });
  }

  removeSession(id: string): void {
    this.send(`remove ${id}`);
  }

  /**
   * A sender session's simulcast as dynacast wants it: only its `count` lowest video streams
   * send (0: no video), as a browser turns encodings off. A stream turned back on starts with a
   * key frame.
   */
  setVideoLayers(id: string, count: number): void {
    if (!token.test(id) || !Number.isInteger(count) || count < 0) throw new Error(`loadgen: setVideoLayers(${JSON.stringify(id)}, ${count})`);
    this.send(`layers ${id} ${count}`);
  }

  /** Per-session and total counters, as of now. */
  stats(): Promise<LoadgenStats> {
    return new Promise((resolve, reject) => {
      if (this.dead) return reject(new Error('loadgen has exited'));
      this.statsWaiters.push({ resolve, reject });
      this.send('stats');
    });
  }

  /** Empties the latency histogram: the next stats() covers from here (commands run in order). */
  resetLatency(): void {
    this.send('latency-reset');
  }

  /** Stops the generator (killed if it has not exited within 3 s). */
  async stop(): Promise<void> {
    if (!this.dead) {
      this.send('stop');
      this.child.stdin!.end();
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}

export interface FloorRelaySize {
  /** Datagram bytes (100, then 1200). */
  size: number;
  relayed: number;
  /** Packets relayed per wall-clock second, with blaster and sink competing for the same cores. */
  perSec: number;
  /** The relay thread's CPU (user + system) per packet: what the SFU worker's per-packet CPU compares to. */
  relayCpuNsPerPkt: number;
  relayUserNsPerPkt: number;
  relaySysNsPerPkt: number;
  /** 1e9 / relayCpuNsPerPkt: what one core would relay. */
  pktPerRelayCpuSec: number;
  /** Datagrams per recvmmsg that the relay got. */
  avgBatch: number;
  blasterSent: number;
  sinkReceived: number;
  cpuPct: { relay: number; blaster: number; sink: number };
}

export interface FloorSrtpSize {
  payload: number;
  /** CPU ns per srtp_protect with AES128_CM_SHA1_80 (AES-128-CTR + HMAC-SHA1-80), then per part alone. */
  protectNs: number;
  aesCtrNs: number;
  hmacSha1Ns: number;
  /** CPU ns per srtp_protect with AEAD_AES_128_GCM and AEAD_AES_256_GCM (RFC 7714). */
  aeadAes128GcmProtectNs: number;
  aeadAes256GcmProtectNs: number;
}

/** Runs `loadgen <args>` to completion and parses the one JSON line it prints. */
async function runFloor<T>(args: string[], timeoutMs: number): Promise<T> {
  const bin = buildLoadgen();
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(bin, args, { timeout: timeoutMs }, (err, out) => (err ? reject(err) : resolve(out))),
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

/**
 * The raw UDP relay floor on loopback (no crypto): `seconds` (1–60) per datagram size. batch: datagrams
 * per recvmmsg/sendmmsg (1–64, default 64; 1 is closer to mediasoup's one syscall per packet).
 */
export function floorRelay(seconds: number, batch = 64): Promise<{ floor: 'relay'; seconds: number; batch: number; sizes: FloorRelaySize[] }> {
  return runFloor(['floor-relay', String(Math.round(seconds)), String(Math.round(batch))], (2 * seconds + 10) * 1000);
}

/** SRTP protect cost of the generator's own SRTP (100- and 1200-byte payloads), each profile. */
export function floorSrtp(iterations = 2_000_000): Promise<{ floor: 'srtp'; profile: string; openssl: string; iterations: number; sizes: FloorSrtpSize[] }> {
  return runFloor(['floor-srtp', String(Math.round(iterations))], 120_000);
}
