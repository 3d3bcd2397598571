// Runs a bench script written in TypeScript: bundles bench/<name>.ts with esbuild (a dev
// dependency already used by scripts/build.mjs) into bench/.build/<name>.mjs, packages left
// external, then imports it. Usage: node bench/run.mjs <name> [args...]   e.g. `smoke`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const bench = path.dirname(fileURLToPath(import.meta.url));
const name = process.argv[2] ?? '';
const entry = path.join(bench, `${name}.ts`);
if (!/^[\w-]+$/.test(name) || !fs.existsSync(entry)) {
  console.error(`usage: node bench/run.mjs <name>, with bench/<name>.ts (e.g. smoke); not found: ${entry}`);
  process.exit(2);
}
const outfile = path.join(bench, '.build', `${name}.mjs`);
await esbuild.build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  packages: 'external',
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'inline',
  logLevel: 'warning',
});
process.argv.splice(2, 1); // the script sees its own arguments from argv[2]
await import(pathToFileURL(outfile).href);
