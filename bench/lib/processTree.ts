/**
 * CPU time of a process and its descendants by kind, from /proc: Chromium's processes say their
 * kind in their command line (`--type=renderer`, `--type=gpu-process`, …; the browser process has
 * none), so a browser launched for one page gives that page's renderer apart from the rest.
 */
import fs from 'node:fs';
import { cpuMs } from './serverProcess.js';

/** CPU ms so far of each live process in the tree under `root` (itself included), by pid. */
export interface TreeSample {
  at: number;
  procs: Map<number, { kind: string; cpuMs: number }>;
}

function parentOf(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined; // gone meanwhile
  }
}

function kindOf(pid: number): string {
  try {
    // Zygote-forked processes rewrite their title: one string, arguments joined by spaces.
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/);
    return cmd.find((a) => a.startsWith('--type='))?.slice('--type='.length) ?? 'browser';
  } catch {
    return 'gone';
  }
}

function parents(): Map<number, number> {
  const out = new Map<number, number>();
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const ppid = parentOf(Number(e));
    if (ppid !== undefined) out.set(Number(e), ppid);
  }
  return out;
}

/** The live direct children of `pid` (to find a browser one just launched: the new one). */
export function childrenOf(pid: number): number[] {
  return [...parents()].filter(([, ppid]) => ppid === pid).map(([child]) => child);
}

export function sampleTree(root: number): TreeSample {
  const parentOfPid = parents();
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid, hops = 0; p !== undefined && p > 1 && hops < 64; p = parentOfPid.get(p), hops++) if (p === root) return true;
    return false;
  };
  const procs = new Map<number, { kind: string; cpuMs: number }>();
  for (const pid of parentOfPid.keys()) {
    if (!inTree(pid)) continue;
    try {
      procs.set(pid, { kind: kindOf(pid), cpuMs: cpuMs(pid) });
    } catch {
      /* exited between the listing and the read */
    }
  }
  return { at: performance.now(), procs };
}

/**
 * CPU % of one core by kind between two samples of the same tree. A process born in between
 * counts from zero; one that ended in between is lost (sample around a page's life, not across it).
 */
export function treeCpuPct(a: TreeSample, b: TreeSample): Record<string, number> {
  const ms = b.at - a.at;
  const out: Record<string, number> = { all: 0 };
  for (const [pid, p] of b.procs) {
    const used = p.cpuMs - (a.procs.get(pid)?.cpuMs ?? 0);
    const pct = (100 * used) / ms;
    out[p.kind] = (out[p.kind] ?? 0) + pct;
    out.all! += pct;
  }
  return out;
}
