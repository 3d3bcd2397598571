import * as mediasoup from 'mediasoup';
import { describe, expect, it } from 'vitest';
import { mediaCodecs } from '../../server/media/codecs.js';
import { freePort } from '../helpers/ports.js';

// Regression for the worker patch 0002: closing a WebRtcServer that still has WebRtcTransports
// used to kill the worker (SIGILL in Debian's hardened abseil).
describe('WebRtcServer close with live transports', () => {
  it('closes the transports and leaves the worker alive', async () => {
    const port = await freePort();
    const worker = await mediasoup.createWorker({ logLevel: 'warn' });
    try {
      const server = await worker.createWebRtcServer({
        listenInfos: [
          { protocol: 'udp', ip: '127.0.0.1', port },
          { protocol: 'tcp', ip: '127.0.0.1', port },
        ],
      });
      const router = await worker.createRouter({ mediaCodecs });
      const transports = await Promise.all(
        [0, 1, 2, 3].map(() => router.createWebRtcTransport({ webRtcServer: server })),
      );
      server.close();
      const dump = await worker.dump();
      expect(worker.died).toBe(false);
      expect(dump.webRtcServerIds).toEqual([]);
      expect(transports.every((t) => t.closed)).toBe(true);
      const routerDump = await router.dump();
      expect(routerDump.transportIds).toEqual([]);
    } finally {
      worker.close();
    }
  });
});
