/**
 * Writes the measured section of BENCHMARKS.md (between the bench:begin / bench:end markers) from
 * bench/results/*.json, and the fan-out charts as PNG into bench/results/. Run by `all` at its
 * end; alone: node bench/run.mjs report
 */
import fs from 'node:fs';
import path from 'node:path';
import { renderPngs } from './lib/plot.js';

const repo = path.resolve(import.meta.dirname, '..', '..');
const resultsDir = path.join(repo, 'bench', 'results');
const read = <T>(name: string): T | undefined => {
  const f = path.join(resultsDir, `${name}.json`);
  return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as T) : undefined;
};
const n = (v: number | undefined | null, digits = 1) => (v === undefined || v === null || Number.isNaN(v) ? '–' : v.toFixed(digits));
const md = (header: string[], rows: (string | number)[][]) =>
  [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

interface Meta {
  date: string;
  command: string;
  machine: { cpu: string; cores: number; memGiB: number; kernel: string; node: string };
}
interface FanoutRow {
  subscribers: number;
  deliveredPps: number;
  lossPct: number;
  workerCpuPct: number[];
  workerUsPerPacket: number;
  /** Share of the worker's CPU in the kernel (absent in results from before it was measured). */
  workerKernelPct?: number;
  nodeCpuPct: number;
  generatorCpuPct: number;
  generatorUsPerPacket: number;
  latency?: { p50: number | null; p99: number | null };
}

async function main(): Promise<void> {
  // Each scenario's lines, printed in scenario order whatever order they are built in.
  const blocks = new Map<number, string[]>();
  let out: string[] = [];
  const block = (k: number) => blocks.set(k, (out = [])).get(k)!;
  const charts: Parameters<typeof renderPngs>[0] = [];
  const stamp = (m: Meta) => `Measured ${m.date.slice(0, 10)} on ${m.machine.cores} × ${m.machine.cpu}, Node ${m.machine.node}, kernel ${m.machine.kernel}. Command: \`${m.command}\`.`;

  const fanoutRaw = read<Meta & { seconds: number; repeat?: number; results: (FanoutRow & { joinFailed?: string })[] }>('fanout');
  const fanout = fanoutRaw && { ...fanoutRaw, results: fanoutRaw.results.filter((r) => r.joinFailed === undefined) };
  const saturatedAt = fanoutRaw?.results.find((r) => r.joinFailed !== undefined);
  if (fanout) {
    block(1);
    out.push('### 1. Fan-out: one publisher to N subscribers (1 worker)', '', stamp(fanout), ...(fanout.repeat ? [`Medians of ${fanout.repeat} runs per N.`] : []), '');
    out.push(
      md(
        ['N', 'delivered pkt/s', 'loss %', 'worker CPU %', 'worker µs / pkt', 'of it in the kernel %', 'server Node CPU %', 'generator CPU %', 'generator µs / pkt', 'latency p50 µs', 'latency p99 µs'],
        fanout.results.map((r) => [r.subscribers, Math.round(r.deliveredPps), n(r.lossPct, 2), n(r.workerCpuPct[0]), n(r.workerUsPerPacket, 2), n(r.workerKernelPct, 0), n(r.nodeCpuPct), n(r.generatorCpuPct), n(r.generatorUsPerPacket, 2), n(r.latency?.p50, 0), n(r.latency?.p99, 0)]),
      ),
      '',
      ...(saturatedAt ? [`At N = ${saturatedAt.subscribers} the joins themselves timed out (${saturatedAt.joinFailed}): the worker, busy forwarding, answered its control channel too late.`, ''] : []),
      '![fan-out: worker CPU per packet](bench/results/fanout-cost.png)',
      '',
    );
    charts.push({
      file: path.join(resultsDir, 'fanout-cost.png'),
      chart: {
        title: 'Fan-out, 1 worker: CPU time per delivered packet',
        xLabel: 'subscribers',
        yLabel: 'µs per packet',
        series: [
          { name: 'SFU worker', points: fanout.results.map((r) => [r.subscribers, r.workerUsPerPacket]) },
          { name: 'load generator (sent + received)', points: fanout.results.map((r) => [r.subscribers, r.generatorUsPerPacket]) },
        ],
      },
    });
  }

  const floors = read<Meta & { srtp: { payload: number; protectNs: number; aesCtrNs: number; hmacSha1Ns: number; aeadAes128GcmProtectNs?: number; aeadAes256GcmProtectNs?: number }[]; relay: { batch: number; size: number; perSec: number; relayCpuNsPerPkt: number; pktPerRelayCpuSec: number }[]; repeat: number; openssl: string }>('floors');
  if (floors) {
    block(6);
    out.push('### 6. The floor: what the machine allows', '', stamp(floors), `Medians of ${floors.repeat} runs; ${floors.openssl}.`, '');
    // AEAD AES-GCM columns only in results measured since the generator had them.
    const gcm = floors.srtp.some((s) => s.aeadAes256GcmProtectNs !== undefined);
    out.push(
      md(
        ['SRTP payload bytes', gcm ? 'AES128_CM_SHA1_80 protect ns' : 'protect ns', 'AES-128-CTR ns', 'HMAC-SHA1 ns', ...(gcm ? ['AEAD_AES_128_GCM protect ns', 'AEAD_AES_256_GCM protect ns'] : [])],
        floors.srtp.map((s) => [s.payload, s.protectNs, s.aesCtrNs, s.hmacSha1Ns, ...(gcm ? [n(s.aeadAes128GcmProtectNs, 0), n(s.aeadAes256GcmProtectNs, 0)] : [])]),
      ),
      '',
    );
    out.push(
      md(
        ['datagrams per syscall', 'bytes', 'relayed pkt/s (blaster, relay, sink on 2 cores)', 'relay CPU ns / pkt', 'pkt/s one core could relay'],
        floors.relay.map((r) => [r.batch === 1 ? '1 (as mediasoup)' : `up to ${r.batch}`, r.size, Math.round(r.perSec), Math.round(r.relayCpuNsPerPkt), Math.round(r.pktPerRelayCpuSec)]),
      ),
      '',
    );
  }

  const latency = read<Meta & { repeat?: number; capacityPps: number; capacityFrom: string; results: (FanoutRow & { loadPct: number; subscribers: number; latency: { count: number; p50: number | null; p90: number | null; p99: number | null; max: number } })[] }>('latency');
  if (latency) {
    block(3);
    out.push('### 3. Added latency: audio forwarding delay under load', '', stamp(latency), `Capacity ${Math.round(latency.capacityPps)} pkt/s (${latency.capacityFrom}).${latency.repeat ? ` Medians of ${latency.repeat} runs.` : ''}`, '');
    out.push(
      md(
        ['load', 'subscribers', 'delivered pkt/s', 'worker CPU %', 'audio packets timed', 'p50 µs', 'p90 µs', 'p99 µs', 'max µs'],
        latency.results.map((r) => [`${r.loadPct} %`, r.subscribers, Math.round(r.deliveredPps), n(r.workerCpuPct[0]), r.latency.count, n(r.latency.p50, 0), n(r.latency.p90, 0), n(r.latency.p99, 0), n(r.latency.max, 0)]),
      ),
      '',
    );
  }

  const meeting = read<Meta & { repeat?: number; results: (FanoutRow & { members: number; ingressPps: number; latency: { p50: number | null; p99: number | null } })[] }>('meeting');
  if (meeting) {
    block(2);
    out.push('### 2. Meeting: M participants all publishing and receiving (1 worker)', '', stamp(meeting), ...(meeting.repeat ? [`Medians of ${meeting.repeat} runs per M.`] : []), '');
    out.push(
      md(
        ['M', 'in pkt/s', 'delivered pkt/s', 'loss %', 'worker CPU %', 'worker µs / delivered pkt', 'server Node CPU %', 'latency p50 µs', 'latency p99 µs'],
        meeting.results.map((r) => [r.members, Math.round(r.ingressPps), Math.round(r.deliveredPps), n(r.lossPct, 2), n(r.workerCpuPct[0]), n(r.workerUsPerPacket, 2), n(r.nodeCpuPct), n(r.latency.p50, 0), n(r.latency.p99, 0)]),
      ),
      '',
    );
  }

  type CoresRow = FanoutRow & { workers: number; perRoom: number; generatorCpuPctEach?: number[] };
  interface CoresRamp {
    workers: number;
    generators: number;
    rows: CoresRow[];
    best: number;
    bestPerRoom: number | null;
    saturated: boolean;
    scaling: number | null;
  }
  type CoresResult = Meta & { bestOne: number; bestTwo: number; scaling: number | null; oneWorker: CoresRow[]; twoWorkers: CoresRow[]; ramps?: CoresRamp[]; complete?: boolean; generators?: string };
  const renderCores = (cores: CoresResult, title: string) => {
    // Results from before --workers hold oneWorker and twoWorkers only.
    const ramps: CoresRamp[] = cores.ramps ?? [
      { workers: 1, generators: 1, rows: cores.oneWorker, best: cores.bestOne, bestPerRoom: null, saturated: true, scaling: 1 },
      { workers: 2, generators: 1, rows: cores.twoWorkers, best: cores.bestTwo, bestPerRoom: null, saturated: true, scaling: cores.scaling },
    ];
    const counts = ramps.filter((r) => r.workers > 1).map((r) => r.workers);
    out.push(`### ${title}: 1 worker against ${counts.length > 0 ? counts.join(', ') : 'more'} workers (one room on each)`, '', stamp(cores), '');
    if (cores.generators === 'room') out.push('Each room has its own load generator process; generator CPU is given per generator.', '');
    if (cores.complete === false) out.push('**The run did not finish:** the worker counts below are those it measured.', '');
    out.push(
      md(
        ['workers', 'subscribers per room', 'delivered pkt/s', 'loss %', 'worker CPU %', 'worker µs / pkt', 'server Node CPU %', 'generator CPU %'],
        ramps.flatMap((rp) => rp.rows).map((r) => [r.workers, r.perRoom, Math.round(r.deliveredPps), n(r.lossPct, 2), r.workerCpuPct.map((c) => c.toFixed(0)).join(' / '), n(r.workerUsPerPacket, 2), n(r.nodeCpuPct), r.generatorCpuPctEach ? r.generatorCpuPctEach.map((c) => c.toFixed(0)).join(' / ') : n(r.generatorCpuPct)]),
      ),
      '',
      'Best at ≤ 1 % loss: ' +
        ramps
          .map((r) => `${r.workers} worker${r.workers > 1 ? 's' : ''} ${Math.round(r.best)} pkt/s${r.workers > 1 ? ` (**${r.scaling === null ? '–' : r.scaling.toFixed(2)}×**, ideal ${r.workers}×)` : ''}${r.saturated ? '' : ' (never past 1 % loss: a floor)'}`)
          .join(', ') +
        '.',
      '',
    );
  };
  interface SpreadRow {
    workers: number;
    subscribers: number;
    routers: { worker: number; peers: number }[];
    deliveredPps: number;
    lossPct: number;
    workerCpuPct: number[];
    workerUsPerPacket: number;
    nodeCpuPct: number;
    generatorCpuPctEach?: number[];
  }
  type SpreadResult = Meta & { spreadOver: number; oneWorker: SpreadRow[]; spread: SpreadRow[]; bestOne: number; bestSpread: number; ratio: number };
  const renderSpread = (sp: SpreadResult, title: string) => {
    out.push(`### ${title}: one room, one publisher to N subscribers, on 1 worker and spread over ${sp.spreadOver}`, '', stamp(sp), '');
    out.push(
      'The room is spread by `SFU_ROOM_ROUTER_MAX_CONSUMERS` (set per step so the subscribers split evenly); the publisher\'s producers are piped to every router. One load generator per worker in use.',
      '',
      md(
        ['workers', 'subscribers', 'peers per router', 'delivered pkt/s', 'loss %', 'worker CPU %', 'worker µs / pkt', 'server Node CPU %', 'generator CPU %'],
        [...sp.oneWorker, ...sp.spread].map((r) => [r.workers, r.subscribers, r.routers.map((x) => x.peers).join(' / '), Math.round(r.deliveredPps), n(r.lossPct, 2), r.workerCpuPct.map((c) => c.toFixed(0)).join(' / '), n(r.workerUsPerPacket, 2), n(r.nodeCpuPct), (r.generatorCpuPctEach ?? []).map((c) => c.toFixed(0)).join(' / ')]),
      ),
      '',
      `Best at ≤ 1 % loss: 1 worker ${Math.round(sp.bestOne)} pkt/s, the room over ${sp.spreadOver} workers ${Math.round(sp.bestSpread)} pkt/s: **${sp.ratio.toFixed(2)}×** (ideal ${sp.spreadOver}×).`,
      '',
    );
  };
  const cores = read<CoresResult>('cores');
  if (cores) {
    block(5);
    renderCores(cores, '5. Cores');
  }
  const spread = read<SpreadResult>('spread');
  if (spread) {
    block(9);
    renderSpread(spread, '9. One class over several workers');
  }
  // Measured on a bigger machine with bench/device (its own files: this one's would overwrite them).
  const deviceCores = read<CoresResult>('device/cores');
  const deviceSpread = read<SpreadResult>('device/spread');
  if (deviceCores || deviceSpread) {
    block(10);
    out.push('### 10. On a 16-core machine (bench/device)', '', 'Scenarios 5 and 9 where the cores are there to scale onto; the run logs (*-run.txt) are beside the results in `bench/results/device/`.', '');
    if (deviceCores) renderCores(deviceCores, '10a. Cores');
    if (deviceSpread) renderSpread(deviceSpread, '10b. One class over several workers');
  }

  const sig = read<Meta & { roomSize: number; idleSec: number; repeat?: number; results: { peers: number; rate: number; rssMiB: number; idleCpuPct: number; joinP50Ms: number; joinP99Ms: number; connectAndJoinP50Ms: number; connectAndJoinP99Ms: number; joinsPerSec: number }[] }>('signaling');
  if (sig) {
    block(4);
    out.push('### 4. Signaling: idle peers, joins', '', stamp(sig), `Rooms of ${sig.roomSize}; idle for ${sig.idleSec} s with heartbeats.${sig.repeat ? ` Medians of ${sig.repeat} runs per K, each on a fresh server.` : ''}`, '');
    out.push(
      md(
        ['peers', 'server RSS MiB', 'idle CPU %', 'join p50 ms', 'join p99 ms', 'connect + join p50 ms', 'connect + join p99 ms', 'joins / s (100 in flight)'],
        sig.results.map((r) => [r.peers, n(r.rssMiB, 0), n(r.idleCpuPct), n(r.joinP50Ms, 2), n(r.joinP99Ms, 2), n(r.connectAndJoinP50Ms, 1), n(r.connectAndJoinP99Ms, 1), n(r.joinsPerSec, 0)]),
      ),
      '',
      `Joins were paced at ${sig.results[0]?.rate ?? '–'} per second for the latency columns.`,
      '',
    );
  }

  const cipher = read<Meta & { subscribers: number; repeat: number; ratio: number; runs: Record<string, { us: number[]; cpu: number[]; lat: number[] }> }>('cipher');
  if (cipher) {
    block(8);
    out.push('### 8. SRTP suite: HMAC-SHA1-80 against AES-256-GCM, side by side', '', stamp(cipher), `Fan-out 1 → ${cipher.subscribers}, alternating, ${cipher.repeat} runs each.`, '');
    const med = (v: number[]) => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!;
    out.push(
      md(
        ['generator offers', 'worker µs / pkt (median)', 'runs', 'worker CPU % (median)'],
        Object.entries(cipher.runs).map(([k, r]) => [k === 'gcm256' ? 'AEAD_AES_256_GCM' : 'AES_CM_128_HMAC_SHA1_80', n(med(r.us), 2), r.us.map((v) => v.toFixed(2)).join(', '), n(med(r.cpu))]),
      ),
      '',
      `HMAC-SHA1-80 costs the worker **${cipher.ratio.toFixed(2)}×** what AES-256-GCM does per delivered packet.`,
      '',
    );
  }

  const ab = read<Meta & { subscribers: number; repeat: number; summary: { label: string; usPerPacket: number; kernelPct: number; cpuPct: number; lossPct: number; latencyP50: number; latencyP99: number; each: number[] }[]; ratios: number[] }>('workerAb');
  if (ab) {
    block(11);
    out.push(
      '### 11. Worker builds side by side',
      '',
      stamp(ab),
      `Fan-out 1 → ${ab.subscribers} on one worker, a fresh server per run, the builds in turn, ${ab.repeat} rounds; medians. The labels are explained in the reading below.`,
      '',
    );
    out.push(
      md(
        ['worker build', 'worker µs / pkt', 'against the first', 'of it in the kernel %', 'worker CPU %', 'loss %', 'latency p50 µs', 'latency p99 µs', 'runs (µs / pkt)'],
        ab.summary.map((x, k) => [x.label, n(x.usPerPacket, 2), `${n(ab.ratios[k], 3)}×`, n(x.kernelPct, 0), n(x.cpuPct), n(x.lossPct, 2), n(x.latencyP50, 0), n(x.latencyP99, 0), x.each.map((v) => v.toFixed(2)).join(', ')]),
      ),
      '',
    );
  }

  type ClassRow = FanoutRow & { students: number; mode: string; expectedPps: number; ingressPps: number; classesPerCore: number; videoSenders: number; layersSent: number; videosForwarded: number; cpuEach: number[] };
  const cls = read<Meta & { tiles: number; seconds: number; repeat: number; openMics: number; tile: { width: number; height: number }; stage: { width: number; height: number }; results: ClassRow[]; ratios: { students: number; mode: string; cpu: number[]; cpuMedian: number; deliveredMedian: number }[] }>('class');
  if (cls) {
    block(12);
    const modeName: Record<string, string> = { all: 'all (no views)', shown: `shown (K = ${cls.tiles})`, 'shown-static': `shown, layersWanted ignored` };
    out.push(
      '### 12. A class with cameras on: receive what is shown against everyone receives everything (1 worker)',
      '',
      stamp(cls),
      `A teacher and S students, each publishing a microphone and a 3-layer camera and receiving; the teacher's microphone and ${cls.openMics} student's open, the others muted. ` +
        `Shown: each student shows the teacher at ${cls.stage.width}x${cls.stage.height} and ${cls.tiles - 1} students at ${cls.tile.width}x${cls.tile.height}, the teacher ${cls.tiles} students; publishers follow layersWanted. ` +
        `Modes in turn, a fresh class each, ${cls.repeat} rounds of ${cls.seconds} s; medians. Classes per core: 100 / worker CPU %.`,
      '',
    );
    out.push(
      md(
        ['S', 'mode', 'videos forwarded', 'publishers sending video', 'in pkt/s', 'delivered pkt/s', 'expected pkt/s', 'loss %', 'worker CPU %', 'classes per core', 'worker µs / delivered pkt', 'server Node CPU %', 'generator CPU %', 'latency p50 µs', 'latency p99 µs'],
        cls.results.map((r) => [
          r.students,
          modeName[r.mode] ?? r.mode,
          r.videosForwarded,
          r.videoSenders,
          Math.round(r.ingressPps),
          Math.round(r.deliveredPps),
          Math.round(r.expectedPps),
          n(r.lossPct, 2),
          n(r.workerCpuPct[0]),
          r.lossPct > 1 ? '< 1 (saturated)' : n(r.classesPerCore, 1),
          n(r.workerUsPerPacket, 2),
          n(r.nodeCpuPct),
          n(r.generatorCpuPct),
          n(r.latency?.p50, 0),
          n(r.latency?.p99, 0),
        ]),
      ),
      '',
    );
    for (const x of cls.ratios) {
      const all = cls.results.find((r) => r.students === x.students && r.mode === 'all');
      const sat = all && all.lossPct > 1 ? ` (all saturated the worker: the packets due, ${Math.round(all.expectedPps)} pkt/s at its ${n(all.workerUsPerPacket, 2)} µs each, would need ~${n((all.expectedPps * all.workerUsPerPacket) / 1e4, 0)} % of a core)` : '';
      out.push(`- S = ${x.students}: ${modeName[x.mode] ?? x.mode} / all, worker CPU **${x.cpuMedian.toFixed(2)}×** (per round ${x.cpu.map((v) => v.toFixed(2)).join(', ')}), delivered packets ${x.deliveredMedian.toFixed(2)}×${sat}.`);
    }
    out.push('');
  }

  interface PageRow {
    mode: string;
    query: string;
    runs: number;
    videos: number;
    decoding: number;
    widths: number[];
    framesPerSec: number;
    decodeMsPerSec: number;
    kbytesPerSec: number;
    rendererCpuPct: number;
    chromiumCpuPct: number;
  }
  type PageRatio = { each: (number | null)[]; median: number | null }; // null: not measured (NaN in JSON)
  const page = read<Meta & { students: number; tiles: number; rounds: number; seconds: number; warmupMs: number; fps: number; capture: string; results: PageRow[]; ratios?: Record<'framesPerSec' | 'decodeMsPerSec' | 'kbytesPerSec' | 'rendererCpuPct' | 'chromiumCpuPct', PageRatio> }>('classPage');
  if (page) {
    block(13);
    out.push(
      "### 13. A student's page in Chromium: what it decodes, a gallery of 3 against everything",
      '',
      stamp(page),
      `A teacher and ${page.students} students publish on the demo page (${page.capture} capture, two layers, ${page.fps} fps; the students receive audio only); a further student's page, in a Chromium of its own, ` +
        `shows \`tiles=${page.tiles}\` (the teacher on the stage and a gallery page of ${page.tiles}; the SDK reports the view) or \`view=all\` (reports none: receives every video, as before, the top layer each as far as its bandwidth estimate allows), or receives audio only (no video: the page's cost without decoding). ` +
        `Modes in turn, the page opened afresh each time and measured once its videos decode and ${page.warmupMs / 1000} s more have passed (the bandwidth estimate rising), ${page.rounds} rounds of ${page.seconds} s; medians. Frames, decode time and bytes: the page's inbound-rtp video stats summed; CPU: % of one core, the page's renderer and all of its Chromium's processes.`,
      '',
    );
    out.push(
      md(
        ['page', 'videos decoding / received', 'decoded widths px (last round)', 'frames decoded / s', 'decode ms / s', 'video kB / s', 'renderer CPU %', 'its Chromium CPU %'],
        page.results.map((r) => [r.mode === 'audioOnly' ? `\`${r.query}\`, audio only` : `\`${r.query}\``, `${r.decoding} / ${r.videos}`, r.widths.join(', ') || '–', n(r.framesPerSec), n(r.decodeMsPerSec), n(r.kbytesPerSec, 0), n(r.rendererCpuPct), n(r.chromiumCpuPct)]),
      ),
      '',
    );
    const x = page.ratios;
    if (x) {
      const r = (v: PageRatio) => `**${n(v.median, 2)}×** (per round ${v.each.map((e) => n(e, 2)).join(', ')})`;
      out.push(`\`tiles=${page.tiles}\` / \`view=all\`: frames decoded ${r(x.framesPerSec)}, decode time ${r(x.decodeMsPerSec)}, video bytes ${r(x.kbytesPerSec)}, renderer CPU ${r(x.rendererCpuPct)}.`, '');
    }
    // What receiving video adds to the renderer: each mode's median over the audio-only page's.
    const [tilesRow, allRow, audioRow] = ['tiles', 'all', 'audioOnly'].map((m) => page.results.find((r) => r.mode === m));
    if (tilesRow && allRow && audioRow) {
      const extra = (r: PageRow) => r.rendererCpuPct - audioRow.rendererCpuPct;
      out.push(`Receiving video adds to the renderer, over the audio-only page: ${n(extra(tilesRow))} % of a core with \`tiles=${page.tiles}\`, ${n(extra(allRow))} % with \`view=all\` (${n(extra(tilesRow) / extra(allRow), 2)}×).`, '');
    }
  }

  const bj = read<Meta & { runs: number; p50Ms: number; p90Ms: number; minMs: number; maxMs: number }>('browserJoin');
  if (bj) {
    block(7);
    out.push('### 7. Browser join: WebSocket open to first decoded remote frame', '', stamp(bj), '');
    out.push(md(['runs', 'p50 ms', 'p90 ms', 'min ms', 'max ms'], [[bj.runs, n(bj.p50Ms, 0), n(bj.p90Ms, 0), n(bj.minMs, 0), n(bj.maxMs, 0)]]), '');
  }

  const file = path.join(repo, 'BENCHMARKS.md');
  const text = fs.readFileSync(file, 'utf8');
  const begin = '<!-- bench:begin (written by `node bench/run.mjs report`) -->';
  const end = '<!-- bench:end -->';
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`BENCHMARKS.md lacks the markers ${begin} … ${end}`);
  const lines = [...blocks.entries()].sort(([a], [b]) => a - b).flatMap(([, l]) => l);
  fs.writeFileSync(file, `${text.slice(0, i + begin.length)}\n\n${lines.join('\n')}\n${text.slice(j)}`);
  if (charts.length > 0) await renderPngs(charts);
  process.stdout.write(`BENCHMARKS.md updated (${lines.length} lines), ${charts.length} chart(s)\n`);
}

main().catch((err: unknown) => {
  console.error('report failed:', err);
  process.exitCode = 1;
});
