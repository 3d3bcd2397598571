/**
 * The machine's floors, to read the SFU's numbers against: SRTP protect cost, and the raw UDP
 * relay cost on loopback (no crypto), batched (recvmmsg/sendmmsg of up to 64) and one datagram
 * per syscall (as mediasoup's worker does). No server; loopback, ephemeral ports only.
 *
 * Run: node bench/run.mjs floors [seconds per size=5]
 */
import { floorRelay, floorSrtp } from './lib/loadgen.js';

const seconds = Math.min(60, Math.max(1, Number(process.argv[2] ?? 5) || 5));
const out = (line: string) => process.stdout.write(line + '\n');

const srtp = await floorSrtp();
for (const s of srtp.sizes) {
  out(`srtp protect, ${s.payload}-byte payload: ${s.protectNs} ns (AES-CTR ${s.aesCtrNs} ns, HMAC-SHA1 ${s.hmacSha1Ns} ns) [${srtp.openssl}]`);
}
for (const batch of [64, 1]) {
  const r = await floorRelay(seconds, batch);
  for (const s of r.sizes) {
    out(
      `relay, ${s.size}-byte datagrams, batch ${batch} (got ${s.avgBatch}): ${s.perSec} pkt/s; relay CPU ${s.relayCpuNsPerPkt} ns/pkt ` +
        `(= ${s.pktPerRelayCpuSec} pkt/s per core); CPU % relay ${s.cpuPct.relay}, blaster ${s.cpuPct.blaster}, sink ${s.cpuPct.sink}`,
    );
  }
}
