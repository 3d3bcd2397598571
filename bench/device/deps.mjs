// Which installed packages the built server (dist/server, dist/protocol) and the bundled bench
// scenarios (bench/.build/*.mjs) load at run time: esbuild follows their imports statically
// (metafile, nothing written) and every node_modules package its inputs came from is printed, one
// folder a line, relative to the repository root (e.g. node_modules/mediasoup/node_modules/debug).
// Used by bench/device/bundle.sh to ship only those. playwright-core (browser scenarios, charts)
// is left out: it needs a Chromium the bundle does not carry.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const js = (dir, ext) =>
  fs.readdirSync(path.join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && ext.some((x) => e.name.endsWith(x)))
    .map((e) => path.join(e.parentPath, e.name));
const entryPoints = [...js('dist/server', ['.js']), ...js('dist/protocol', ['.js']), ...js('bench/.build', ['.mjs'])];
const result = await esbuild.build({
  entryPoints,
  absWorkingDir: root,
  bundle: true,
  write: false,
  metafile: true,
  outdir: path.join(root, '.tmp', 'deps-scan'),
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['playwright-core'],
  logLevel: 'error',
});
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const parts = input.split('/');
  const i = parts.lastIndexOf('node_modules');
  if (i < 0) continue;
  const n = parts[i + 1]?.startsWith('@') ? 2 : 1;
  packages.add(parts.slice(0, i + 1 + n).join('/'));
}
process.stdout.write([...packages].sort().join('\n') + '\n');
