import type { Page } from 'playwright-core';

/** What a demo page received so far of one remote video, from its browser's inbound-rtp stats. */
export interface VideoInbound {
  peerId: string;
  packets: number;
  bytes: number;
  frames: number;
  /** Seconds spent decoding (totalDecodeTime). */
  decodeS: number;
  width: number;
}

/**
 * The page's inbound-rtp so far, per remote video (by consumer id), read through the SDK the demo
 * page exposes as window.classroom. Shared by the classPage benchmark and the gallery e2e test.
 */
export const videoInbound = (page: Page): Promise<Record<string, VideoInbound>> =>
  page.evaluate(async () => {
    type Stat = { type: string; packetsReceived?: number; bytesReceived?: number; framesDecoded?: number; totalDecodeTime?: number; frameWidth?: number };
    const out: Record<string, { peerId: string; packets: number; bytes: number; frames: number; decodeS: number; width: number }> = {};
    const classroom = window.classroom!;
    for (const t of classroom.remoteTracks.filter((r) => r.kind === 'video')) {
      const s = { peerId: t.peerId, packets: 0, bytes: 0, frames: 0, decodeS: 0, width: 0 };
      (await classroom.getRemoteStats(t.consumerId)).forEach((x: Stat) => {
        if (x.type === 'inbound-rtp') {
          Object.assign(s, { packets: x.packetsReceived ?? 0, bytes: x.bytesReceived ?? 0, frames: x.framesDecoded ?? 0, decodeS: x.totalDecodeTime ?? 0, width: x.frameWidth ?? 0 });
        }
      });
      out[t.consumerId] = s;
    }
    return out;
  });
