/**
 * Scenario 6, the machine's floors, to read the SFU's numbers against: SRTP protect cost (AES-CM +
 * HMAC-SHA1-80 and its parts; AEAD AES-GCM, 128 and 256), and the raw UDP relay cost on loopback
 * (no crypto), batched (recvmmsg/sendmmsg of up to 64) and one datagram per syscall (as
 * mediasoup's worker does). Each is run `repeat` times; the medians are
 * reported. No server; loopback, ephemeral ports only.
 *
 * Run: node bench/run.mjs floors [--seconds 5] [--repeat 3]
 */
import { floorRelay, floorSrtp } from './lib/loadgen.js';
import { median, save, table } from './lib/results.js';
import { flag, runScenario } from './lib/cli.js';

const seconds = Math.min(60, Math.max(1, Number(flag('seconds', '5'))));
const repeat = Math.min(9, Math.max(1, Number(flag('repeat', '3'))));

async function main(): Promise<void> {
  const srtpRuns: Awaited<ReturnType<typeof floorSrtp>>[] = [];
  for (let i = 0; i < repeat; i++) srtpRuns.push(await floorSrtp());
  const srtp = srtpRuns[0]!.sizes.map((s, k) => ({
    payload: s.payload,
    protectNs: median(srtpRuns.map((r) => r.sizes[k]!.protectNs)),
    aesCtrNs: median(srtpRuns.map((r) => r.sizes[k]!.aesCtrNs)),
    hmacSha1Ns: median(srtpRuns.map((r) => r.sizes[k]!.hmacSha1Ns)),
    aeadAes128GcmProtectNs: median(srtpRuns.map((r) => r.sizes[k]!.aeadAes128GcmProtectNs)),
    aeadAes256GcmProtectNs: median(srtpRuns.map((r) => r.sizes[k]!.aeadAes256GcmProtectNs)),
  }));
  const relay = [];
  for (const batch of [64, 1]) {
    const runs: Awaited<ReturnType<typeof floorRelay>>[] = [];
    for (let i = 0; i < repeat; i++) {
      process.stderr.write(`[floors] relay, batch ${batch}, run ${i + 1}/${repeat}\n`);
      runs.push(await floorRelay(seconds, batch));
    }
    for (const [k, s] of runs[0]!.sizes.entries()) {
      relay.push({
        batch,
        size: s.size,
        perSec: median(runs.map((r) => r.sizes[k]!.perSec)),
        relayCpuNsPerPkt: median(runs.map((r) => r.sizes[k]!.relayCpuNsPerPkt)),
        pktPerRelayCpuSec: median(runs.map((r) => r.sizes[k]!.pktPerRelayCpuSec)),
      });
    }
  }
  table(
    srtp.map((s) => ({
      'SRTP payload B': s.payload,
      'AES128_CM_SHA1_80 protect ns': s.protectNs,
      'AES-CTR ns': s.aesCtrNs,
      'HMAC-SHA1 ns': s.hmacSha1Ns,
      'AEAD_AES_128_GCM protect ns': s.aeadAes128GcmProtectNs,
      'AEAD_AES_256_GCM protect ns': s.aeadAes256GcmProtectNs,
    })),
  );
  table(relay.map((r) => ({ batch: r.batch, 'datagram B': r.size, 'relayed pkt/s': Math.round(r.perSec), 'relay CPU ns/pkt': Math.round(r.relayCpuNsPerPkt), 'pkt/s per core': Math.round(r.pktPerRelayCpuSec) })));
  process.stdout.write(`saved ${save('floors', { seconds, repeat, openssl: srtpRuns[0]!.openssl, srtp, relay })}\n`);
}

runScenario('floors', 15, main);
