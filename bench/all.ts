/**
 * Every scenario, one after the other (each starts and stops its own server), then the report
 * into BENCHMARKS.md. Run: npm run bench   (= node scripts/build.mjs && node bench/run.mjs all)
 * Takes about 45 minutes on 2 cores (the ramps measure each step 3 times). Pass --quick for a short pass that checks everything runs.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const quick = process.argv.includes('--quick');
const runner = path.resolve(import.meta.dirname, '..', 'run.mjs');
const scenarios: [string, string[]][] = quick
  ? [
      ['floors', ['--seconds', '1', '--repeat', '1']],
      ['fanout', ['--steps', '10,100', '--seconds', '3', '--repeat', '1']],
      ['latency', ['--seconds', '5', '--repeat', '1']],
      ['meeting', ['--members', '4', '--seconds', '3', '--repeat', '1']],
      ['cores', ['--steps', '100', '--seconds', '3']],
      ['spread', ['--steps', '100', '--seconds', '3']],
      ['signaling', ['--peers', '200', '--idle', '5']],
      ['browserJoin', ['--runs', '2']],
      ['cipher', ['--subscribers', '50', '--seconds', '3', '--repeat', '1']],
      ['class', ['--students', '6', '--tiles', '3', '--seconds', '3', '--repeat', '1']],
      ['classPage', ['--students', '4', '--rounds', '1', '--seconds', '3', '--warmup', '1']],
    ]
  : [['floors', []], ['fanout', []], ['latency', []], ['meeting', []], ['cores', []], ['spread', []], ['signaling', []], ['browserJoin', []], ['cipher', []], ['class', []], ['classPage', []]];

const failed: string[] = [];
for (const [name, args] of scenarios) {
  process.stderr.write(`\n[bench] ${name} ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, [runner, name, ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed.push(name);
}
if (!quick) spawnSync(process.execPath, [runner, 'report'], { stdio: 'inherit' });
if (failed.length > 0) {
  console.error(`[bench] failed: ${failed.join(', ')}`);
  process.exitCode = 1;
}
