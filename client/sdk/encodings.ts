import type { types } from 'mediasoup-client';
import type { QualityLevel, Source } from '../../protocol/schema.js';

// How each source is captured and encoded: what the SDK asks the browser for and hands to
// mediasoup-client's produce().

/** The camera we ask for: 1280x720 where it can; browsers give the nearest they have. */
export const cameraConstraints: MediaTrackConstraints = { width: { ideal: 1280 }, height: { ideal: 720 } };

/** The camera asked for at another size (a smaller capture costs the sender less: fewer, smaller layers). */
export function cameraConstraintsFor(size: { width?: number; height?: number }): MediaTrackConstraints {
  return { width: { ideal: size.width ?? 1280 }, height: { ideal: size.height ?? 720 } };
}

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

/**
 * The layers of a camera captured `width` pixels wide (unknown: the 720p ladder). Above 640 px, the
 * three above. From 321 to 640 px two, the lowest 160 px wide and the whole picture (Chromium sends
 * two layers from 480x270 up): 160x90 and 640x360 from a 640x360 capture, which the server's
 * size rule (up to 160 px, up to 640 px, wider) maps one to one. At 320 px or less a single stream.
 */
export function cameraLayersFor(width: number | undefined): types.RtpEncodingParameters[] {
  if (width === undefined || width > 640) return cameraLayers.map((e) => ({ ...e }));
  if (width > 320) {
    return [
      { scaleResolutionDownBy: width / 160, maxBitrate: cameraLayers[0]!.maxBitrate!, scalabilityMode: 'L1T3' },
      { scaleResolutionDownBy: 1, maxBitrate: cameraLayers[1]!.maxBitrate!, scalabilityMode: 'L1T3' },
    ];
  }
  return [{ maxBitrate: 250_000, scalabilityMode: 'L1T3' }];
}

/** A screen share: one layer at its native size (text must stay legible), capped. */
export const screenMaxBitrate = 2_500_000;

/** What a screen share may send on a poor or fair uplink; a good one gets screenMaxBitrate again. */
export function screenBitrateFor(uplink: QualityLevel | null): number {
  if (uplink === 'poor' || uplink === 'lost') return 300_000;
  if (uplink === 'fair') return 800_000;
  return screenMaxBitrate;
}

/** The highest camera layer to send on this uplink, of `layers` (audio is never thinned). */
export function cameraLayerFor(uplink: QualityLevel | null, layers = cameraLayers.length): number {
  if (uplink === 'poor' || uplink === 'lost') return 0;
  if (uplink === 'fair') return Math.min(1, layers - 1);
  return layers - 1;
}

/** The audio constraints of a screen share's sound: what it plays, unprocessed (music, video). */
export const screenAudioConstraints: MediaTrackConstraints = { echoCancellation: false, noiseSuppression: false, autoGainControl: false };

type ProduceOptions = Pick<types.ProducerOptions, 'encodings' | 'codecOptions'>;

/** The encodings and codec options one source is produced with (`width`: the camera's, as captured). */
export function produceOptions(source: Source, kind: string, simulcast: boolean, width?: number): ProduceOptions {
  if (kind === 'audio') {
    // Speech: mono, silence suppressed (DTX). A screen's sound is music or a video's track:
    // stereo, no DTX (it would cut quiet passages), at a bitrate that carries music.
    return source === 'mic'
      ? { codecOptions: { opusStereo: false, opusDtx: true, opusFec: true } }
      : { codecOptions: { opusStereo: true, opusDtx: false, opusFec: true, opusMaxAverageBitrate: 96_000 } };
  }
  const codecOptions = { videoGoogleStartBitrate: 1000 };
  if (source === 'cam') return simulcast ? { encodings: cameraLayersFor(width), codecOptions } : { codecOptions };
  if (source === 'screen') return { encodings: [{ maxBitrate: screenMaxBitrate }], codecOptions };
  return { codecOptions };
}
