// Transpiles the server (one file per module, so that main.ts can load mediasoup after setting up
// logging) into dist/. Uses esbuild: fast enough to run on every start. Type checking is `npm run
// typecheck`, part of `npm test`.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

function tsFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => path.join(e.parentPath, e.name));
}

fs.rmSync(path.join(dist, 'server'), { recursive: true, force: true });
await esbuild.build({
  entryPoints: tsFiles(path.join(root, 'server')),
  outdir: path.join(dist, 'server'),
  outbase: path.join(root, 'server'),
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  logLevel: 'warning',
});
