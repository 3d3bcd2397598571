import dgram from 'node:dgram';
import net from 'node:net';

/**
 * Every port a test binds comes from here. Ports are taken below 32768, where Linux never hands
 * out ephemeral ports (its range is 32768-60999: any outgoing connection may take one of those,
 * and a test server's fixed port landing on it fails the test), and each is checked free on TCP
 * and UDP before it is handed out. Vitest runs each test file in its own process, so nothing in
 * memory is shared between files: blocks are picked at random and verified instead.
 */
const lowest = 20_000;
const highest = 32_000;
/** Handed out by this process: free now, maybe not yet bound by whoever got them. */
const handedOut = new Set<number>();

/** The first of `count` consecutive ports, free on TCP and UDP on every one of `hosts`. */
export async function freePorts(count: number, hosts: string[] = ['127.0.0.1']): Promise<number> {
  const valid = [...new Set(hosts.filter((h) => net.isIP(h) !== 0))];
  // A port free on the wildcard address is free on every address.
  const checked = valid.includes('0.0.0.0') ? ['0.0.0.0'] : valid;
  for (let attempt = 0; attempt < 200; attempt++) {
    const first = lowest + Math.floor(Math.random() * (highest - lowest - count));
    const ports = Array.from({ length: count }, (_, i) => first + i);
    if (ports.some((p) => handedOut.has(p))) continue;
    if (await allFree(ports, checked)) {
      for (const p of ports) handedOut.add(p);
      return first;
    }
  }
  throw new Error(`no ${count} consecutive free ports in ${lowest}-${highest} on ${checked.join(', ')}`);
}

/** One free port (TCP and UDP) on `host`. */
export const freePort = (host = '127.0.0.1') => freePorts(1, [host]);

/** Every port a server may bind, from one block: HTTP, RTC (one per worker), and its private ranges. */
export interface ServerPorts {
  http: number;
  /** Worker i listens on rtcBase + i. */
  rtcBase: number;
  /** Pipes between routers and recording transports (on 127.0.0.1). */
  internal: [number, number];
  /** ffmpeg's RTP ports (on 127.0.0.1). */
  recording: [number, number];
  /** coturn, when a test runs one with this server's configuration. */
  turn: number;
  turnRelay: [number, number];
}

/** Sizes of the private ranges: enough for a test, far below the production defaults. */
const internalCount = 32;
const recordingCount = 16;
const relayCount = 64;

/**
 * Ports for one server with `workers` workers, checked on `hosts` (its HTTP and RTC addresses;
 * 127.0.0.1, where the private ranges live, is always checked).
 */
export async function allocateServerPorts(workers = 1, hosts: string[] = []): Promise<ServerPorts> {
  const size = 2 + workers + internalCount + recordingCount + relayCount;
  let next = await freePorts(size, ['127.0.0.1', ...hosts]);
  const take = (n: number): [number, number] => {
    const range: [number, number] = [next, next + n - 1];
    next += n;
    return range;
  };
  return {
    http: take(1)[0],
    turn: take(1)[0],
    rtcBase: take(workers)[0],
    internal: take(internalCount),
    recording: take(recordingCount),
    turnRelay: take(relayCount),
  };
}

/** The server's environment variables for these ports. */
export function portEnv(p: ServerPorts): Record<string, string> {
  return {
    SFU_HTTP_PORT: String(p.http),
    SFU_RTC_BASE_PORT: String(p.rtcBase),
    SFU_RTC_INTERNAL_MIN_PORT: String(p.internal[0]),
    SFU_RTC_INTERNAL_MAX_PORT: String(p.internal[1]),
    SFU_RECORDING_MIN_PORT: String(p.recording[0]),
    SFU_RECORDING_MAX_PORT: String(p.recording[1]),
    SFU_TURN_PORT: String(p.turn),
    SFU_TURN_RELAY_MIN_PORT: String(p.turnRelay[0]),
    SFU_TURN_RELAY_MAX_PORT: String(p.turnRelay[1]),
  };
}

/** The ports a server configured by `env` uses (a port given there wins over an allocated one). */
export function portsOf(env: Record<string, string | undefined>): ServerPorts {
  const n = (name: string) => Number(env[name]);
  return {
    http: n('SFU_HTTP_PORT'),
    rtcBase: n('SFU_RTC_BASE_PORT'),
    internal: [n('SFU_RTC_INTERNAL_MIN_PORT'), n('SFU_RTC_INTERNAL_MAX_PORT')],
    recording: [n('SFU_RECORDING_MIN_PORT'), n('SFU_RECORDING_MAX_PORT')],
    turn: n('SFU_TURN_PORT'),
    turnRelay: [n('SFU_TURN_RELAY_MIN_PORT'), n('SFU_TURN_RELAY_MAX_PORT')],
  };
}

/**
 * `env` completed with freshly allocated ports for every port variable it leaves out, checked on
 * the server's HTTP and RTC addresses; `ports` are the ones the server will use.
 */
export async function withServerPorts(env: Record<string, string>, defaultWorkers: number): Promise<{ env: Record<string, string>; ports: ServerPorts }> {
  const workers = Number(env.SFU_WORKERS ?? defaultWorkers);
  const hosts = [env.SFU_HTTP_HOST ?? '127.0.0.1', env.SFU_RTC_LISTEN_IP ?? '127.0.0.1'];
  const allocated = await allocateServerPorts(Number.isInteger(workers) && workers > 0 && workers <= 64 ? workers : 1, hosts);
  const full = { ...portEnv(allocated), ...env };
  return { env: full, ports: portsOf(full) };
}

async function allFree(ports: number[], hosts: string[]): Promise<boolean> {
  for (const port of ports) {
    // One address at a time: our own check on one would make the wildcard's fail.
    for (const host of hosts) {
      const [tcp, udp] = await Promise.all([tcpFree(port, host), udpFree(port, host)]);
      if (!tcp || !udp) return false;
    }
  }
  return true;
}

/** False when the port is taken; any other failure (an address not on this machine) throws. */
function settle(resolve: (free: boolean) => void, reject: (err: Error) => void, port: number, host: string) {
  return (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' || err.code === 'EACCES' ? resolve(false) : reject(new Error(`cannot check port ${port} on ${host}: ${err.message}`)));
}

function tcpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', settle(resolve, reject, port, host));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

function udpFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const done = settle(resolve, reject, port, host);
    s.once('error', (err) => {
      try {
        s.close();
      } catch {
        /* never opened */
      }
      done(err);
    });
    s.bind({ port, address: host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}
