// Daily's display properties act: `enable_prejoin_ui: false` lets a visitor with full access in
// without the prejoin page (at once under the token's name, or after a name-only form; knockers
// keep the knock form; without JavaScript the form is the way in), and `start_video_off` /
// `start_audio_off` (room, or the token's, which wins) start the call with the camera or the
// microphone off: nothing of it is sent until its toggle turns it on.
// Chromium runs with its fake camera and microphone (a moving test pattern and a beep).
import { expect, test, type Page } from '@playwright/test';
import { fakeMediaLaunchOptions } from '../playwright.config';
import {
  api,
  closeAll,
  createRoom,
  expectAccessible,
  expectInCall,
  expectListed,
  expectPrejoin,
  joinAs,
  openRoom,
  openWithToken,
  received,
  tileOf,
  uniqueRoom,
} from './support';

test.use({ launchOptions: fakeMediaLaunchOptions });
test.setTimeout(120_000);

/** Creates a room with `properties` and returns its name. */
async function roomWith(properties: Record<string, unknown>, privacy = 'public'): Promise<string> {
  const name = uniqueRoom('daily');
  await api('POST', '/v1/rooms', { name, privacy, properties });
  return name;
}

/** Media sent so far over every connection of the page: video frames and audio packets. */
async function sent(page: Page): Promise<{ frames: number; packets: number; peers: number }> {
  return page.evaluate(async () => {
    let frames = 0;
    let packets = 0;
    let peers = 0;
    for (const peer of (window as any).knockPeers as RTCPeerConnection[]) {
      if (peer.connectionState !== 'connected') continue;
      peers += 1;
      (await peer.getStats()).forEach((report: any) => {
        if (report.type !== 'outbound-rtp') return;
        if (report.kind === 'video') frames += report.framesSent ?? 0;
        if (report.kind === 'audio') packets += report.packetsSent ?? 0;
      });
    }
    return { frames, packets, peers };
  });
}

/** A tray toggle (`Camera` or `Microphone`). */
const toggle = (page: Page, name: 'Camera' | 'Microphone') =>
  page.getByRole('group', { name: 'Camera and microphone' }).getByRole('button', { name });

test('with the prejoin page off, a named owner lands in the call and a guest is asked only for a name', async ({
  browser,
}) => {
  const room = await roomWith({ enable_prejoin_ui: false });
  const ana = await openWithToken(browser, room, 'Ana', { owner: true });
  await expectInCall(ana.page, room, 'Ana');
  await expect(ana.page.getByRole('heading', { name: 'Ready to join?' })).toHaveCount(0);
  await expectListed(ana.page, 'Ana', true);

  // A guest without a name: only the name is asked for, no camera preview.
  const ben = await openRoom(browser, room);
  await expect(ben.page.getByRole('heading', { name: 'Join the call' })).toBeVisible();
  await expect(ben.page.getByRole('textbox', { name: 'Your name' })).toBeVisible();
  await expect(ben.page.getByRole('heading', { name: 'Ready to join?' })).toHaveCount(0);
  await expect(ben.page.getByRole('region', { name: 'Your camera' })).toHaveCount(0);
  await expectAccessible(ben.page, 'the name form without the prejoin page');
  await ben.page.getByRole('textbox', { name: 'Your name' }).fill('Ben');
  await ben.page.getByRole('button', { name: 'Join', exact: true }).click();
  await expectInCall(ben.page, room, 'Ben');
  await expectListed(ana.page, 'Ben', false);

  // Leaving does not walk straight back in: the name form is offered again.
  await ana.page.getByRole('button', { name: 'Leave', exact: true }).click();
  await expect(ana.page.getByRole('heading', { name: 'You left the call' })).toBeVisible();
  await expect(ana.page.getByRole('button', { name: 'Join', exact: true })).toBeVisible();
  await expect(ana.page.getByRole('textbox', { name: 'Your name' })).toHaveValue('Ana');
  await ana.page.waitForTimeout(1_000);
  await expect(ana.page.getByRole('button', { name: 'Leave', exact: true })).toHaveCount(0);

  for (const person of [ana, ben]) expect(person.errors).toEqual([]);
  await closeAll(ana, ben);
});

test('with the prejoin page off, a knocker still gets the knock form', async ({ browser }) => {
  const room = await roomWith({ enable_prejoin_ui: false, enable_knocking: true }, 'private');
  const cy = await openRoom(browser, room);
  await expectPrejoin(cy.page, 'Ask to join');
  // A token holder of the same room goes straight in.
  const ana = await openWithToken(browser, room, 'Ana', { owner: true });
  await expectInCall(ana.page, room, 'Ana');
  await closeAll(cy, ana);
});

test('with the prejoin page off and no JavaScript, the name form joins', async ({ browser }) => {
  const room = await roomWith({ enable_prejoin_ui: false });
  const ana = await openWithToken(browser, room, 'Ana', { owner: true, javaScriptEnabled: false });
  const { page } = ana;
  await expect(page.getByRole('heading', { name: 'Ready to join?' })).toHaveCount(0);
  await expect(page.getByRole('textbox', { name: 'Your name' })).toHaveValue('Ana');
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1, name: room, exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Leave', exact: true })).toBeVisible();
  const presence = await api<{ data: { userName: string }[] }>('GET', `/v1/rooms/${room}/presence`);
  expect(presence.data.map((p) => p.userName)).toEqual(['Ana']);
  await closeAll(ana);
});

test('start_video_off and a token’s start_audio_off start the call without sending camera or microphone', async ({
  browser,
}) => {
  const room = await roomWith({ start_video_off: true });

  // The prejoin preview already shows the camera off and the microphone on.
  const ana = await openWithToken(browser, room, 'Ana', { owner: true, watchPeers: true });
  await expect(toggle(ana.page, 'Microphone')).toHaveAttribute('aria-pressed', 'true');
  await expect(toggle(ana.page, 'Camera')).toHaveAttribute('aria-pressed', 'false');
  await expect(ana.page.getByLabel('Your camera preview')).toBeHidden();
  await joinAs(ana.page, room, 'Ana');
  await expect(toggle(ana.page, 'Camera')).toHaveAttribute('aria-pressed', 'false');

  // Ben's token turns his camera back on (the token wins) and his microphone off.
  const ben = await openWithToken(browser, room, 'Ben', {
    properties: { start_video_off: false, start_audio_off: true },
    watchPeers: true,
  });
  await expect(toggle(ben.page, 'Camera')).toHaveAttribute('aria-pressed', 'true');
  await expect(toggle(ben.page, 'Microphone')).toHaveAttribute('aria-pressed', 'false');
  await joinAs(ben.page, room, 'Ben');
  await expect(toggle(ben.page, 'Microphone')).toHaveAttribute('aria-pressed', 'false');

  // Connected both ways (Ben hears Ana), yet Ana sends no video and Ben no audio; the others'
  // tiles show it.
  await expect.poll(async () => (await received(ben.page)).packets, { timeout: 30_000 }).toBeGreaterThan(0);
  await expect.poll(async () => (await sent(ben.page)).frames, { timeout: 30_000 }).toBeGreaterThan(0);
  await ben.page.waitForTimeout(2_000);
  const anaSent = await sent(ana.page);
  expect(anaSent.peers).toBe(1);
  expect(anaSent.frames, 'video frames sent with the camera off').toBe(0);
  expect(anaSent.packets).toBeGreaterThan(0);
  const benSent = await sent(ben.page);
  expect(benSent.packets, 'audio packets sent with the microphone off').toBe(0);
  await expect(tileOf(ben.page, 'Ana')).toHaveClass(/camera-off/);
  await expect(tileOf(ana.page, 'Ben')).toContainText('Muted');
  await expect(tileOf(ana.page, 'Ben')).not.toHaveClass(/camera-off/);

  // Either can turn the device on: then it is sent.
  await toggle(ana.page, 'Camera').click();
  await expect(toggle(ana.page, 'Camera')).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(async () => (await sent(ana.page)).frames, { timeout: 30_000 }).toBeGreaterThan(0);
  await expect(tileOf(ben.page, 'Ana')).not.toHaveClass(/camera-off/, { timeout: 30_000 });
  await toggle(ben.page, 'Microphone').click();
  await expect(toggle(ben.page, 'Microphone')).toHaveAttribute('aria-pressed', 'true');
  await expect.poll(async () => (await sent(ben.page)).packets, { timeout: 30_000 }).toBeGreaterThan(0);
  await expect(tileOf(ana.page, 'Ben')).not.toContainText('Muted');

  for (const person of [ana, ben]) expect(person.errors).toEqual([]);
  await closeAll(ana, ben);
});

test('without the settings the call starts with camera and microphone on', async ({ browser }) => {
  const room = await createRoom({ privacy: 'public', knocking: false });
  const ana = await openWithToken(browser, room, 'Ana', { owner: true });
  await expectPrejoin(ana.page, 'Join');
  await expect(toggle(ana.page, 'Camera')).toHaveAttribute('aria-pressed', 'true');
  await expect(toggle(ana.page, 'Microphone')).toHaveAttribute('aria-pressed', 'true');
  await closeAll(ana);
});
