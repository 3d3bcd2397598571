import http from 'node:http';
import * as esbuild from 'esbuild';
import { freePort } from './ports.js';
import { repoRoot } from './serverProcess.js';

/**
 * Serves one blank page on 127.0.0.1 (a secure context, so getUserMedia works) that loads
 * mediasoup-client as `window.mediasoupClient`: for tests that drive the media plane directly,
 * without the signaling layer.
 */
export async function serveClientPage(): Promise<{ url: string; close: () => Promise<void> }> {
  const bundle = await esbuild.build({
    stdin: { contents: "import * as m from 'mediasoup-client'; window.mediasoupClient = m;", resolveDir: repoRoot },
    bundle: true,
    write: false,
    format: 'esm',
    target: 'chrome120',
    logLevel: 'error',
  });
  const js = bundle.outputFiles[0]!.text;
  const server = http.createServer((req, res) => {
    if (req.url === '/client.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(js);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><script type="module" src="/client.js"></script>');
    }
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
