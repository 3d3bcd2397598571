import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A network namespace the test creates, joined to the host by a veth pair on a private /30, with
 * a Chromium launcher that runs inside it. Traffic between the two sides can be shaped with tc
 * (this kernel has tbf but not netem: a slow link, whose queue also adds delay and drops).
 */
export interface TestNamespace {
  name: string;
  hostIp: string;
  nsIp: string;
  /** Executable that starts Debian's Chromium inside the namespace (for playwright's executablePath). */
  chromium: string;
  /** Limits what the host sends into the namespace (the namespace's downlink). */
  limitDownlink(rateKbit: number): void;
  /** Limits what the namespace sends to the host (its uplink). */
  limitUplink(rateKbit: number): void;
  clear(): void;
  close(): void;
}

const run = (...args: string[]) => execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });

export function createNamespace(subnet: number): TestNamespace {
  const id = `${process.pid % 100_000}`;
  const name = `sfu-test-${id}`;
  const hostIf = `vh${id}`;
  const nsIf = `vn${id}`;
  const hostIp = `10.213.${subnet}.1`;
  const nsIp = `10.213.${subnet}.2`;
  // Leftovers of a killed run with the same pid would make `ip` fail: clear them first.
  try {
    run('ip', 'netns', 'del', name);
  } catch {
    /* none */
  }
  try {
    run('ip', 'link', 'del', hostIf);
  } catch {
    /* none */
  }
  run('ip', 'netns', 'add', name);
  run('ip', 'link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
  run('ip', 'link', 'set', nsIf, 'netns', name);
  run('ip', 'addr', 'add', `${hostIp}/30`, 'dev', hostIf);
  run('ip', 'link', 'set', hostIf, 'up');
  run('ip', 'netns', 'exec', name, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', nsIf);
  run('ip', 'netns', 'exec', name, 'ip', 'link', 'set', nsIf, 'up');
  run('ip', 'netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  const chromium = path.join(os.tmpdir(), `sfu-chromium-in-${name}.sh`);
  fs.writeFileSync(chromium, `#!/bin/sh\nexec ip netns exec ${name} /usr/bin/chromium "$@"\n`, { mode: 0o755 });
  // tbf: a bucket of `rate`, a queue of 200 ms beyond which packets drop.
  const tbf = (rateKbit: number) => ['tbf', 'rate', `${rateKbit}kbit`, 'burst', '16kbit', 'latency', '200ms'];
  return {
    name,
    hostIp,
    nsIp,
    chromium,
    limitDownlink: (rate) => run('tc', 'qdisc', 'replace', 'dev', hostIf, 'root', ...tbf(rate)),
    limitUplink: (rate) => run('ip', 'netns', 'exec', name, 'tc', 'qdisc', 'replace', 'dev', nsIf, 'root', ...tbf(rate)),
    clear() {
      for (const cmd of [['tc', 'qdisc', 'del', 'dev', hostIf, 'root'], ['ip', 'netns', 'exec', name, 'tc', 'qdisc', 'del', 'dev', nsIf, 'root']]) {
        try {
          run(...cmd);
        } catch {
          /* no qdisc there */
        }
      }
    },
    close() {
      for (const cmd of [['ip', 'link', 'del', hostIf], ['ip', 'netns', 'del', name]]) {
        try {
          run(...cmd);
        } catch {
          /* already gone */
        }
      }
      fs.rmSync(chromium, { force: true });
    },
  };
}
