import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { openClassPage, peerIdOf, waitForVideoFrom } from '../helpers/classPage.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// The demo page under the product's own rules, in real Chromium: a link does not turn the camera
// on by itself, the page runs under its Content-Security-Policy, and the SDK renews its token.
let server: TestServer;
let browser: Browser;
const violations: string[] = [];

beforeAll(async () => {
  // Development tokens live one minute (the least allowed): the SDK must renew them to stay.
  server = await startTestServer({ SFU_DEMO_AUTOJOIN: 'false', SFU_DEV_TOKEN_TTL_SEC: '60' });
  browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const watchCsp = (page: Page) =>
  page.on('console', (m: ConsoleMessage) => {
    if (/Content.Security.Policy/i.test(m.text())) violations.push(m.text());
  });

describe('the demo page', () => {
  let teacher: Page;

  it('reached from a link with ?autojoin=1, fills the form and waits for a click before joining', async () => {
    const page = await (await browser.newContext()).newPage();
    watchCsp(page);
    await page.goto(`${server.url}/?room=demo&name=Tess&role=teacher&autojoin=1`);
    await waitFor(async () => (await page.textContent('#notice'))?.includes('Press Join'), 10_000, 'the page asking for a click');
    await new Promise((r) => setTimeout(r, 1000));
    expect(server.rooms.get('demo')?.peers.size ?? 0).toBe(0);
    expect(await page.inputValue('input[name=name]')).toBe('Tess');
    await page.click('#join button[type=submit]');
    await page.waitForFunction(() => window.classroom?.state === 'connected' && window.classroom.localTrack('cam'), undefined, { timeout: 20_000 });
    expect(server.rooms.get('demo')!.peers.size).toBe(1);
    teacher = page;
  });

  it('outlives its one-minute token: the SDK hands in fresh ones, and media keeps flowing', async () => {
    // A student opened the usual way (the settings allow no autojoin: join by click as well).
    const student = await (await browser.newContext()).newPage();
    watchCsp(student);
    await student.goto(`${server.url}/?room=demo&name=Sam&role=student`);
    await student.click('#join button[type=submit]');
    await student.waitForFunction(() => window.classroom?.state === 'connected', undefined, { timeout: 20_000 });
    const [teacherId, studentId] = await Promise.all([peerIdOf(teacher), peerIdOf(student)]);
    await waitForVideoFrom(student, teacherId, 20_000);
    // Past the first tokens' expiry and the 5 s grace: still the same sessions, still media.
    await new Promise((r) => setTimeout(r, 68_000));
    expect(await peerIdOf(teacher)).toBe(teacherId);
    expect(await peerIdOf(student)).toBe(studentId);
    expect(await student.evaluate(() => window.classroom!.state)).toBe('connected');
    expect(server.rooms.get('demo')!.peers.size).toBe(2);
    await waitForVideoFrom(student, teacherId, 10_000);
  }, 120_000);

  it('runs without a single Content-Security-Policy violation', () => {
    expect(violations).toEqual([]);
  });
});

// The page also works as the browser tests open it (autojoin allowed), under the same policy.
describe('the demo page with autojoin allowed', () => {
  it('joins from the link by itself', async () => {
    const other = await startTestServer();
    try {
      const page = await openClassPage(browser, other.url, 'auto', 'Ada');
      expect(other.rooms.get('auto')!.peers.size).toBe(1);
      await page.context().close();
    } finally {
      await other.close();
    }
  });
});
