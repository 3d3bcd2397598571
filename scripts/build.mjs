// Builds dist/: the server transpiled one file per module (so that main.ts can load mediasoup after
// setting up logging), and the browser side bundled: the SDK as one ES module (dist/client/sdk.js)
// and the demo page, which imports it. esbuild is fast enough to run on every start; type checking
// is `npm run typecheck`, part of `npm test`.
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

for (const d of ['server', 'protocol']) fs.rmSync(path.join(dist, d), { recursive: true, force: true });
await esbuild.build({
  entryPoints: [...tsFiles(path.join(root, 'server')), ...tsFiles(path.join(root, 'protocol'))],
  outdir: dist,
  outbase: root,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: 'linked',
  logLevel: 'warning',
});

const clientOut = path.join(dist, 'client');
fs.rmSync(clientOut, { recursive: true, force: true });
const browser = { bundle: true, minify: true, format: 'esm', target: 'chrome100', sourcemap: 'linked', logLevel: 'warning' };
await esbuild.build({ ...browser, entryPoints: [path.join(root, 'client/sdk/index.ts')], outfile: path.join(clientOut, 'sdk.js') });
// The demo imports the SDK bundle at run time instead of embedding a second copy.
await esbuild.build({
  ...browser,
  entryPoints: [path.join(root, 'client/demo/demo.ts')],
  outfile: path.join(clientOut, 'demo.js'),
  plugins: [{
    name: 'sdk-external',
    setup(b) {
      b.onResolve({ filter: /\/sdk\/index\.js$/ }, () => ({ path: './sdk.js', external: true }));
    },
  }],
});
for (const f of ['index.html', 'demo.css']) fs.copyFileSync(path.join(root, 'client/demo', f), path.join(clientOut, f));
