import { describe, expect, it } from 'vitest';
import { cameraLayerFor, cameraLayers, produceOptions, screenBitrateFor, screenMaxBitrate } from '../../client/sdk/encodings.js';

describe('how the SDK encodes each source', () => {
  it('the camera: three layers of a 1280x720 picture, 160x90 / 640x360 / 1280x720, each allowed more', () => {
    const sizes = cameraLayers.map((e) => [1280 / e.scaleResolutionDownBy!, 720 / e.scaleResolutionDownBy!]);
    expect(sizes).toEqual([
      [160, 90],
      [640, 360],
      [1280, 720],
    ]);
    const bitrates = cameraLayers.map((e) => e.maxBitrate!);
    expect(bitrates).toEqual([...bitrates].sort((a, b) => a - b));
    expect(cameraLayers.every((e) => e.scalabilityMode === 'L1T3')).toBe(true);
  });

  it('simulcast only for the camera, and only when asked; the screen as one capped layer', () => {
    const cam = produceOptions('cam', 'video', true);
    expect(cam.encodings).toEqual(cameraLayers);
    expect(cam.encodings).not.toBe(cameraLayers); // a copy: the browser's handler may change it
    expect(produceOptions('cam', 'video', false).encodings).toBeUndefined();
    expect(produceOptions('screen', 'video', true).encodings).toEqual([{ maxBitrate: screenMaxBitrate }]);
  });

  it('speech is mono with silence suppressed; a screen share\'s sound is stereo and never cut', () => {
    expect(produceOptions('mic', 'audio', true).codecOptions).toMatchObject({ opusStereo: false, opusDtx: true });
    expect(produceOptions('screenAudio', 'audio', true).codecOptions).toMatchObject({ opusStereo: true, opusDtx: false });
    expect(produceOptions('screenAudio', 'audio', true).encodings).toBeUndefined();
  });

  it('a poorer uplink sends fewer camera layers and less of the screen', () => {
    const levels = [null, 'good', 'fair', 'poor', 'lost'] as const;
    expect(levels.map(cameraLayerFor)).toEqual([2, 2, 1, 0, 0]);
    expect(levels.map(screenBitrateFor)).toEqual([screenMaxBitrate, screenMaxBitrate, 800_000, 300_000, 300_000]);
  });
});
