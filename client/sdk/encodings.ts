import type { types } from 'mediasoup-client';
import type { QualityLevel, Source } from '../../protocol/schema.js';

// How each source is captured and encoded: what the SDK asks the browser for and hands to
// mediasoup-client's produce().

/** The camera we ask for: 1280x720 where it can; browsers give the nearest they have. */
export const cameraConstraints: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 } };

/**
 * The camera's three simulcast layers, lowest first: 160x90, 640x360 and 1280x720 from a 720p
 * camera. The server maps a tile up to 160 px wide to the first, up to 640 px to the second and
 * larger ones to the top, and a poor downlink gets the 160 px layer. Chromium sends three layers
 * only from 960x540 up (two at 640x480), which is why the camera is captured at 720p.
 */
export const cameraLayers: types.RtpEncodingParameters[] = [
  { scaleResolutionDownBy: 8, maxBitrate: 100_000, scalabilityMode: 'L1T3' },
  { scaleResolutionDownBy: 2, maxBitrate: 600_000, scalabilityMode: 'L1T3' },
  { scaleResolutionDownBy: 1, maxBitrate: 1_800_000, scalabilityMode: 'L1T3' },
];

/** A screen share: one layer at its native size (text must stay legible), capped. */
export const screenMaxBitrate = 2_500_000;

/** What a screen share may send on a poor or fair uplink; a good one gets screenMaxBitrate again. */
export function screenBitrateFor(uplink: QualityLevel | null): number {
  if (uplink === 'poor' || uplink === 'lost') return 300_000;
  if (uplink === 'fair') return 800_000;
  return screenMaxBitrate;
}

/** The highest camera layer to send on this uplink (audio is never thinned). */
export function cameraLayerFor(uplink: QualityLevel | null): number {
  if (uplink === 'poor' || uplink === 'lost') return 0;
  if (uplink === 'fair') return 1;
  return cameraLayers.length - 1;
}

/** The audio constraints of a screen share's sound: what it plays, unprocessed (music, video). */
export const screenAudioConstraints: MediaTrackConstraints = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };

type ProduceOptions = Pick<types.ProducerOptions, 'encodings' | 'codecOptions'>;

/** The encodings and codec options one source is produced with. */
export function produceOptions(source: Source, kind: string, simulcast: boolean): ProduceOptions {
  if (kind === 'audio') {
    // Speech: mono, silence suppressed (DTX). A screen's sound is music or a video's track:
    // stereo, no DTX (it would cut quiet passages), at a bitrate that carries music.
    return source === 'mic'
      ? { codecOptions: { opusStereo: false, opusDtx: true, opusFec: true } }
      : { codecOptions: { opusStereo: true, opusDtx: false, opusFec: true, opusMaxAverageBitrate: 96_000 } };
  }
  const codecOptions = { videoGoogleStartBitrate: 1000 };
  if (source === 'cam') return simulcast ? { encodings: cameraLayers.map((e) => ({ ...e })), codecOptions } : { codecOptions };
  if (source === 'screen') return { encodings: [{ maxBitrate: screenMaxBitrate }], codecOptions };
  return { codecOptions };
}
