import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { audioPackets, openClassPage, peerIdOf, peerLeftSeen, videoSamples, waitForVideoFrom } from '../helpers/classPage.js';
import { waitFor } from '../helpers/serverProcess.js';
import { startTestServer, type TestServer } from '../helpers/testServer.js';

// The teacher's controls on the demo page, in real Chromium: what the teacher clicks must stop the
// student's media for everyone, tell the student, and be refused to a student.
let server: TestServer;
let browser: Browser;
let url: string;
let teacher: Page;
let target: Page;
let watcher: Page;
let targetId: string;

beforeAll(async () => {
  server = await startTestServer({ SFU_REMOVE_BAN_SEC: '60', SFU_STUDENTS_JOIN_MUTED: 'true' });
  url = server.url;
  browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
  teacher = await openClassPage(browser, url, 'moderated', 'Teacher', 'teacher');
  target = await openClassPage(browser, url, 'moderated', 'Sam');
  watcher = await openClassPage(browser, url, 'moderated', 'Wen');
  targetId = await peerIdOf(target);
  for (const page of [teacher, target, watcher]) page.on('dialog', (d) => void d.accept());
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Audio packets of `peerId` received on each page, now. */
const audioOf = async (pages: Page[], peerId: string) => Promise.all(pages.map(async (p) => (await audioPackets(p))[peerId] ?? 0));

/** Waits until the audio of `peerId` advances on every page in `pages`. */
async function waitForAudio(pages: Page[], peerId: string): Promise<void> {
  await waitFor(async () => {
    const before = await audioOf(pages, peerId);
    await new Promise((r) => setTimeout(r, 500));
    const after = await audioOf(pages, peerId);
    return after.every((n, i) => n > before[i]! + 5);
  }, 15_000, 'audio advancing');
}

const noticeOf = (page: Page) => page.locator('#notice').textContent();
const control = (action: string) => teacher.locator(`#people li[data-peer-id="${targetId}"] button[data-action="${action}"]`);

describe('moderation in real Chromium', () => {
  it('a student joins muted (default policy) and unmutes with its own button', async () => {
    expect(await target.locator('#toggle-mic').textContent()).toBe('Unmute');
    expect(await target.evaluate(() => window.classroom!.isPaused('mic'))).toBe(true);
    await target.locator('#toggle-mic').click();
    await waitFor(async () => (await target.locator('#toggle-mic').textContent()) === 'Mute', 5000, 'mic button to say Mute');
    await waitForAudio([teacher, watcher], targetId);
    await waitForVideoFrom(watcher, targetId, 15_000);
  });

  it('the same requests from a student are forbidden and change nothing', async () => {
    const codes = await watcher.evaluate(async (id) => {
      const c = window.classroom!;
      const attempts = [() => c.mutePeer(id), () => c.stopPeerSource(id, 'cam'), () => c.removePeer(id), () => c.endClass(), () => c.setRoomPolicy({ locked: true })];
      const out: string[] = [];
      for (const a of attempts) out.push(await a().then(() => 'ok', (e: { code?: string }) => e.code ?? 'unknown'));
      return out;
    }, targetId);
    expect(codes).toEqual(['forbidden', 'forbidden', 'forbidden', 'forbidden', 'forbidden']);
    await waitForAudio([watcher], targetId);
  });

  it("the teacher's Mute stops the student's audio for everyone and tells the student", async () => {
    await control('mute').click();
    await waitFor(async () => (await noticeOf(target))?.includes('muted your microphone'), 5000, 'the notice on the student page');
    expect(await target.locator('#toggle-mic').textContent()).toBe('Unmute');
    await new Promise((r) => setTimeout(r, 500)); // packets in flight
    const before = await audioOf([teacher, watcher], targetId);
    await new Promise((r) => setTimeout(r, 1500));
    const after = await audioOf([teacher, watcher], targetId);
    expect(after).toEqual(before);
    // Video goes on.
    await waitForVideoFrom(watcher, targetId, 5000);
  });

  it("the teacher's Stop camera removes the student's video everywhere and tells the student", async () => {
    await control('stop-cam').click();
    await waitFor(async () => (await noticeOf(target))?.includes('stopped your camera'), 5000, 'the notice on the student page');
    for (const page of [teacher, watcher]) {
      await waitFor(async () => !(await videoSamples(page)).some((v) => v.peerId === targetId), 5000, 'the video gone');
    }
    expect(await target.evaluate(() => window.classroom!.localTrack('cam'))).toBeNull();
    expect(await target.locator('#toggle-cam').textContent()).toBe('Start camera');
  });

  it("the teacher's Stop screen ends the student's screen share everywhere; one share at a time", async () => {
    await target.locator('#toggle-screen').click();
    await waitFor(async () => (await target.locator('#toggle-screen').textContent()) === 'Stop sharing', 10_000, 'the share started');
    const screenOf = async (page: Page) => page.evaluate((id) => window.classroom!.remoteTracks.some((t) => t.peerId === id && t.source === 'screen'), targetId);
    await waitFor(() => screenOf(watcher), 10_000, 'the screen share at the watcher');
    // A second share is refused while one runs (policy: one at a time).
    await watcher.locator('#toggle-screen').click();
    await waitFor(async () => (await watcher.locator('#error').textContent())?.includes('screen share'), 5000, 'the refusal shown');
    await control('stop-screen').click();
    await waitFor(async () => (await noticeOf(target))?.includes('stopped your screen share'), 5000, 'the notice on the student page');
    for (const page of [teacher, watcher]) await waitFor(async () => !(await screenOf(page)), 5000, 'the share gone');
    expect(await target.locator('#toggle-screen').textContent()).toBe('Share screen');
  });

  it('a raised hand queues on the teacher page; Allow speak answers it; chat reaches everyone', async () => {
    const watcherId = await peerIdOf(watcher);
    await watcher.locator('#toggle-hand').click();
    const queued = teacher.locator(`#hands li[data-peer-id="${watcherId}"]`);
    await queued.waitFor({ timeout: 5000 });
    await queued.locator('button[data-action="allow-speak"]').click();
    await waitFor(async () => (await noticeOf(watcher))?.includes('lets you speak'), 5000, 'the permission notice');
    await waitFor(async () => (await teacher.locator('#hands li').count()) === 0, 5000, 'the queue emptied');
    expect(await watcher.locator('#toggle-hand').textContent()).toBe('Raise hand');

    await watcher.locator('#chat-form input[name="text"]').fill('<b>not bold</b> question');
    await watcher.locator('#chat-form button').click();
    for (const page of [teacher, target, watcher]) {
      await waitFor(async () => (await page.locator('#chat-log li').last().textContent())?.endsWith('<b>not bold</b> question'), 5000, 'the chat line');
      expect(await page.locator('#chat-log b').count()).toBe(0); // shown as text, never as HTML
    }
  });

  it('Lock keeps new students out, with the reason on their page', async () => {
    await teacher.locator('#policy-locked').check();
    await waitFor(async () => (await watcher.evaluate(() => window.classroom!.policy?.locked)) === true, 5000, 'the policy at the students');
    const late = await (await browser.newContext()).newPage();
    await late.goto(`${url}/?room=moderated&name=Late&role=student&autojoin=1`);
    await waitFor(async () => (await late.locator('#error').textContent())?.includes('locked'), 10_000, 'the lock shown');
    expect(await late.evaluate(() => window.classroom!.state)).toBe('disconnected');
    await teacher.locator('#policy-locked').uncheck();
    await late.context().close();
  });

  it('Remove disconnects the student for good; the same user cannot rejoin; the others see it leave', async () => {
    await control('remove').click();
    await waitFor(async () => (await target.evaluate(() => window.classroom!.state)) === 'disconnected', 5000, 'the student disconnected');
    expect(await noticeOf(target)).toContain('removed');
    for (const page of [teacher, watcher]) await waitFor(async () => (await peerLeftSeen(page)).includes(targetId), 5000, 'peerLeft');
    // The page's token function asks for the same user id: the ban holds.
    const rejoin = await target.evaluate(() => window.classroom!.join().then(() => 'joined', (e: { code?: string }) => e.code ?? 'unknown'));
    expect(rejoin).toBe('forbidden');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await target.evaluate(() => window.classroom!.state)).not.toBe('connected');
    expect(server.rooms.get('moderated')!.peers.size).toBe(2);
  });

  it('End class closes it for everyone, who do not reconnect', async () => {
    await teacher.locator('#end-class').click();
    for (const page of [teacher, watcher]) {
      await waitFor(async () => (await page.evaluate(() => window.classroom!.state)) === 'disconnected', 5000, 'disconnected');
      expect(await noticeOf(page)).toContain('ended');
    }
    await new Promise((r) => setTimeout(r, 2000));
    for (const page of [teacher, watcher]) expect(await page.evaluate(() => window.classroom!.state)).toBe('disconnected');
    expect(server.rooms.get('moderated')).toBeUndefined();
  });
});
