import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config/load.js';
import type { Config } from '../../server/config/schema.js';
import { maxAllocateLifetime } from '../../server/turn/coturnConfig.js';
import { startCoturn, type Coturn } from '../../server/turn/coturnProcess.js';
import { turnCredentials } from '../../server/turn/credentials.js';
import { parsePeerRules, peerVerdict } from '../helpers/coturnPeerRules.js';
import { testLogger } from '../helpers/logger.js';
import { withServerPorts } from '../helpers/ports.js';
import { startTestServer } from '../helpers/testServer.js';
import { TurnClient, permissionFor } from '../helpers/turnClient.js';

const secret = 'integration-turn-secret-42';

function portOpen(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: p }, () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

/** The peer rules of the configuration a running coturn was started with. */
const rulesOf = (coturn: Coturn) => parsePeerRules(fs.readFileSync(coturn.configFile, 'utf8'));

/** A UDP socket of the test's own, standing in for the SFU on a loopback address. */
async function udpPeer(address: string): Promise<{ socket: dgram.Socket; port: number; next: () => Promise<{ data: Buffer; from: dgram.RemoteInfo }> }> {
  const socket = dgram.createSocket(net.isIPv6(address) ? 'udp6' : 'udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const queue: { data: Buffer; from: dgram.RemoteInfo }[] = [];
  socket.on('message', (data, from) => queue.push({ data, from }));
  const next = async () => {
    for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 10))) {
      const got = queue.shift();
      if (got) return got;
    }
    throw new Error(`nothing arrived on ${address}`);
  };
  return { socket, port: socket.address().port, next };
}

describe('coturn with the production configuration (real turnserver, the tests\' own TURN client)', () => {
  let coturn: Coturn;
  // As deployed behind 1:1 NAT: the SFU bound to its host's own address and announcing a public
  // one. The host's address is a loopback stand-in here (127.0.0.7); the public one (198.51.100.7)
  // is only ever named in a CreatePermission, which sends it nothing. coturn on loopback.
  const sfuIp = '127.0.0.7';
  let config: Config;
  let port: number;
  // A user per try: each holds an allocation while it tries, and the per-user quota is 12.
  const permission = (peer: string) => {
    const { username, credential } = turnCredentials(secret, `student-${peer}`, 600);
    return permissionFor({ port, username, password: credential, peer });
  };
  const creds = (user: string) => {
    const { username, credential } = turnCredentials(secret, user, 600);
    return { username, password: credential };
  };
  beforeAll(async () => {
    const allocated = await withServerPorts({ SFU_WORKERS: '1', SFU_TURN_SECRET: secret, SFU_RTC_LISTEN_IP: sfuIp, SFU_ANNOUNCED_ADDRESS: '198.51.100.7' }, 1);
    port = allocated.ports.turn;
    config = loadConfig(allocated.env);
    coturn = await startCoturn(config, testLogger);
  });
  afterAll(async () => coturn?.stop());

  it("permits the SFU's addresses but refuses private, loopback and link-local peers", async () => {
    expect(await permission('198.51.100.7')).toBe('permitted');
    expect(await permission(sfuIp)).toBe('permitted');
    for (const peer of ['10.0.0.5', '172.20.1.1', '192.168.1.1', '127.0.0.1', '169.254.169.254', '100.64.0.1']) {
      expect(await permission(peer), peer).toBe('forbidden');
      // The unit tests' reading of the rules agrees with the real coturn.
      expect(peerVerdict(rulesOf(coturn), peer), peer).toBe('denied');
    }
  });

  it('refuses public peers: the relay is no open proxy to the internet', async () => {
    // Before the deny-all rule each of these was permitted, and a Send indication would have gone out.
    for (const peer of ['8.8.8.8', '1.1.1.1', '9.9.9.9', '198.51.100.8', '224.0.0.251']) {
      expect(await permission(peer), peer).toBe('forbidden');
      expect(peerVerdict(rulesOf(coturn), peer), peer).toBe('denied');
    }
  });

  it("relays data to the SFU's address and back, by Send indication and on a channel", async () => {
    const sfu = await udpPeer(sfuIp);
    const client = await TurnClient.connect({ host: '127.0.0.1', port });
    try {
      const allocation = await client.allocate(creds('relay-user'));
      expect(allocation.code).toBe(200);
      const relayed = allocation.relayed!;
      const back: Buffer[] = [];
      client.onData((r) => {
        expect(r.from).toEqual({ address: sfuIp, port: sfu.port });
        back.push(r.data);
      });
      expect((await client.createPermission(sfuIp)).code).toBe(200);

      client.sendIndication({ address: sfuIp, port: sfu.port }, Buffer.from('through a Send indication'));
      const first = await sfu.next();
      expect(first.data.toString()).toBe('through a Send indication');
      expect(first.from.port).toBe(relayed.port); // it came from the relay
      sfu.socket.send(Buffer.from('answer to a Data indication'), first.from.port, first.from.address);

      expect((await client.channelBind(0x4001, { address: sfuIp, port: sfu.port })).code).toBe(200);
      client.sendChannelData(0x4001, Buffer.from('through a channel'));
      const second = await sfu.next();
      expect(second.data.toString()).toBe('through a channel');
      sfu.socket.send(Buffer.from('answer on the channel'), second.from.port, second.from.address);

      for (const deadline = Date.now() + 5000; back.length < 2 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
      expect(back.map(String)).toEqual(['answer to a Data indication', 'answer on the channel']);
    } finally {
      await client.close();
      sfu.socket.close();
    }
  });

  it('refuses TCP relay allocations, and caps the allocation lifetime', async () => {
    // Over TCP, where coturn would otherwise grant one (RFC 6062); 442 names the transport.
    const tcp = await TurnClient.connect({ host: '127.0.0.1', port, transport: 'tcp' });
    try {
      expect((await tcp.allocate(creds('tcp-user'), { transport: 6 })).code).toBe(442);
    } finally {
      await tcp.close();
    }
    const udp = await TurnClient.connect({ host: '127.0.0.1', port });
    try {
      const allocation = await udp.allocate(creds('long-user'), { lifetime: 86_400 });
      expect(allocation.code).toBe(200);
      expect(allocation.lifetime).toBe(maxAllocateLifetime);
    } finally {
      await udp.close();
    }
  });

  it('refuses an allocation with a wrong secret or expired credentials', async () => {
    const wrong = turnCredentials('not-the-secret-at-all', 'student-1', 600);
    expect(await permissionFor({ port, username: wrong.username, password: wrong.credential, peer: '198.51.100.7' })).toBe('refused');
    const expired = turnCredentials(secret, 'student-1', -60);
    expect(await permissionFor({ port, username: expired.username, password: expired.credential, peer: '198.51.100.7' })).toBe('refused');
  });

  it('keeps the secret in a file only its owner can read', () => {
    expect(fs.statSync(coturn.configFile).mode & 0o077).toBe(0);
  });
});

describe('coturn relaying from an IPv6 address', () => {
  let coturn: Coturn;
  // coturn relays to IPv6 peers only from an IPv6 relay address (else 443, before any peer rule
  // is read): coturn on ::1, the SFU on all addresses, announcing a (documentation) IPv6 address.
  let port6: number;
  const permission = (peer: string) => {
    const { username, credential } = turnCredentials(secret, `student-${peer}`, 600);
    return permissionFor({ host: '::1', port: port6, username, password: credential, peer, family: 6 });
  };
  beforeAll(async () => {
    const allocated = await withServerPorts(
      { SFU_WORKERS: '1', SFU_TURN_SECRET: secret, SFU_TURN_LISTEN_IP: '::1', SFU_RTC_LISTEN_IP: '::', SFU_ANNOUNCED_ADDRESS: '2001:db8::7' },
      1,
    );
    port6 = allocated.ports.turn;
    coturn = await startCoturn(loadConfig(allocated.env), testLogger);
  });
  afterAll(async () => coturn?.stop());

  it("permits the SFU's announced address and refuses public, private and loopback IPv6 peers", async () => {
    expect(await permission('2001:db8::7')).toBe('permitted');
    expect(peerVerdict(rulesOf(coturn), '2001:db8::7')).toBe('allowed');
    for (const peer of ['2001:4860:4860::8888', '2606:4700:4700::1111', '::ffff:8.8.8.8', '2001:db8::8', 'fd00::1', 'fe80::1', '::1', 'ff02::1']) {
      expect(await permission(peer), peer).toBe('forbidden');
      expect(peerVerdict(rulesOf(coturn), peer), peer).toBe('denied');
    }
  });
});

describe('coturn managed by the server', () => {
  it('starts with the server and stops with it', async () => {
    const server = await startTestServer({ SFU_TURN_SECRET: secret, SFU_TURN_MANAGED: 'true' });
    const port = server.ports.turn;
    expect(await portOpen(port)).toBe(true);
    await server.close();
    expect(await portOpen(port)).toBe(false);
  });
});
