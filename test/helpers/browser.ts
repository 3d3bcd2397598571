import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium with fake camera and microphone, as every browser test here uses it. The fake
 * camera runs at 20 fps unless `fps` says otherwise.
 */
export function launchChromium(extraArgs: string[] = [], opts: { fps?: number; executablePath?: string } = {}): Promise<Browser> {
  return chromium.launch({
    // Another path only to start the same Chromium elsewhere, e.g. inside a network namespace.
    executablePath: opts.executablePath ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--use-fake-ui-for-media-stream',
      opts.fps ? `--use-fake-device-for-media-stream=fps=${opts.fps}` : '--use-fake-device-for-media-stream',
      ...extraArgs,
    ],
  });
}
