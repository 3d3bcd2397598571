import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

/**
 * Debian's Firefox ESR, headless, with fake camera and microphone, driven over WebDriver BiDi.
 * `origin` (e.g. http://127.0.0.1:PORT) is given a stored camera and microphone permission: without
 * one, Firefox gathers ICE candidates only on its default-route address (behind an mDNS name), and
 * nothing connects over loopback.
 */
export async function launchFirefox(origin: string): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sfu-firefox-'));
  const permissions = path.join(dir, 'permissions.txt');
  writeFileSync(permissions, ['camera', 'microphone'].map((what) => `origin\t${what}\t1\t${origin}\n`).join(''));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: '/usr/bin/firefox-esr',
    headless: true,
    userDataDir: path.join(dir, 'profile'),
    extraPrefsFirefox: {
      'media.navigator.streams.fake': true,
      'media.navigator.permission.disabled': true,
      'media.autoplay.default': 0,
      'media.autoplay.blocking_policy': 0,
      'media.peerconnection.ice.loopback': true,
      'permissions.manager.defaultsUrl': `file://${permissions}`,
    },
  });
  return {
    browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
