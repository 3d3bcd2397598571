// Runs a bench script written in TypeScript: bundles bench/<name>.ts with esbuild (a dev
// dependency already used by scripts/build.mjs) into bench/.build/<name>.mjs, packages left
// external, then imports it. Usage: node bench/run.mjs <name> [args...]   e.g. `smoke`.
//
// `node bench/run.mjs --build [name...]` only bundles (every bench/*.ts when no name is given):
// bench/device/bundle.sh ships the results. Where esbuild is not installed (a machine that got
// that bundle, without dev dependencies), the prebuilt bench/.build/<name>.mjs is run as it is.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bench = path.dirname(fileURLToPath(import.meta.url));
const outfileOf = (name) => path.join(bench, '.build', `${name}.mjs`);

async function loadEsbuild() {
  try {
    return await import('esbuild');
  } catch {
    return undefined;
  }
}

function build(esbuild, name) {
  return esbuild.build({
    entryPoints: [path.join(bench, `${name}.ts`)],
    outfile: outfileOf(name),
    bundle: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
}

if (process.argv[2] === '--build') {
  const esbuild = await loadEsbuild();
  if (!esbuild) {
    console.error('bench/run.mjs --build: esbuild is not installed (npm ci)');
    process.exit(2);
  }
  const names = process.argv.length > 3
    ? process.argv.slice(3)
    : fs.readdirSync(bench).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => f.slice(0, -3)).sort();
  let failed = 0;
  for (const name of names) {
    try {
      await build(esbuild, name);
      process.stdout.write(`bench/.build/${name}.mjs\n`);
    } catch (err) {
      failed++;
      console.error(`bench/run.mjs --build: bench/${name}.ts failed: ${err.message}`);
    }
  }
  process.exit(failed > 0 ? 1 : 0);
}

const name = process.argv[2] ?? '';
const entry = path.join(bench, `${name}.ts`);
const outfile = outfileOf(name);
const esbuild = /^[\w-]+$/.test(name) ? await loadEsbuild() : undefined;
if (!/^[\w-]+$/.test(name) || !(fs.existsSync(entry) || (!esbuild && fs.existsSync(outfile)))) {
  console.error(`usage: node bench/run.mjs <name>, with bench/<name>.ts (e.g. smoke); not found: ${entry}`);
  process.exit(2);
}
if (esbuild && fs.existsSync(entry)) await build(esbuild, name);
else console.error(`bench/run.mjs: esbuild is not installed: running the prebuilt ${path.relative(process.cwd(), outfile)} as it is`);
process.argv.splice(2, 1); // the script sees its own arguments from argv[2]
await import(pathToFileURL(outfile).href);
