// Moderation from the call: admins send a participant back to the lobby (and let them in
// again), remove one (with or without a ban) and switch the room between `Anyone with the
// link`, `Knock to join` and `Locked`; a participant who is no admin sees none of it.
import { chromium, expect, test, type Browser, type Page } from '@playwright/test';
import { fakeMediaLaunchOptions } from '../playwright.config';
import {
  api,
  base,
  closeAll,
  closePeople,
  createRoom,
  expectAccessible,
  expectInCall,
  expectPrejoin,
  expectWaiting,
  hydrated,
  joinWithToken,
  knockAlert,
  knockAs,
  openPeople,
  openRoom,
  participants,
  tileOf,
  type Person,
} from './support';

// Four or five people in one journey, on two cores.
test.setTimeout(150_000);

/** The `Room access` group. */
const roomAccess = (page: Page) => page.getByRole('radiogroup', { name: 'Room access' });

/** Any moderation button at all (used to check a non-admin has none). */
const anyModeration = (page: Page) =>
  page.getByRole('button', { name: /^Remove\b|\bto the lobby$/ });

/** The page's `Allow` for `name`, from the knock alert (the panel must be closed). */
async function allowFromAlert(page: Page, name: string): Promise<void> {
  await expect(knockAlert(page, name)).toBeVisible();
  await page.locator('#admin-alert').getByRole('button', { name: 'Allow', exact: true }).click();
}

/** `Remove <name>` from the people panel, confirmed, with or without the ban. */
async function remove(page: Page, name: string, ban: boolean): Promise<void> {
  await openPeople(page);
  await page.getByRole('button', { name: `Remove ${name}`, exact: true }).click();
  const confirm = page.getByRole('group', { name: `Remove ${name} from the call?` });
  await expect(confirm).toBeVisible();
  const checkbox = confirm.getByRole('checkbox', { name: 'Also ban from this room' });
  await expect(checkbox).toBeFocused();
  if (ban) await checkbox.check();
  await confirm.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(participants(page).getByRole('listitem').filter({ hasText: name })).toHaveCount(0);
  await closePeople(page);
}

/** Chooses `option` in `Room access` on `page` (its people panel open). */
async function chooseAccess(page: Page, option: string): Promise<void> {
  const radio = roomAccess(page).getByRole('radio', { name: option, exact: true });
  await radio.check();
  await expect(radio).toBeChecked();
}

/** A new tokenless visitor's first page of `room`, checked by `expectation`; then gone. */
async function visitor(browser: Browser, room: string, expectation: (page: Page) => Promise<void>) {
  const visitor = await openRoom(browser, room);
  await expectation(visitor.page);
  expect(visitor.errors).toEqual([]);
  await visitor.context.close();
}

test('admins move a guest to the lobby and back, remove him for good, and lock the room; a participant sees none of it', async ({ browser }) => {
  const room = await createRoom();
  const ana = await joinWithToken(browser, room, 'Ana', { owner: true });
  const cleo = await joinWithToken(browser, room, 'Cleo', { properties: { permissions: { canAdmin: ['participants'] } } });
  const cy = await joinWithToken(browser, room, 'Cy');
  const ben = await openRoom(browser, room);
  await knockAs(ben.page, 'Ben');
  await allowFromAlert(ana.page, 'Ben');
  await expectInCall(ben.page, room, 'Ben');

  // Cy is no admin: no moderation buttons and no `Room access`, while Ana has both.
  await openPeople(cy.page);
  await expect(participants(cy.page).getByRole('listitem').filter({ hasText: 'Ben' })).toHaveCount(1);
  await expect(anyModeration(cy.page)).toHaveCount(0);
  await expect(roomAccess(cy.page)).toHaveCount(0);
  await closePeople(cy.page);
  await openPeople(ana.page);
  for (const name of ['Ben', 'Cleo', 'Cy']) {
    await expect(ana.page.getByRole('button', { name: `Remove ${name}`, exact: true })).toBeVisible();
    await expect(ana.page.getByRole('button', { name: `Send ${name} to the lobby`, exact: true })).toBeVisible();
  }
  // Nothing to do to oneself.
  await expect(ana.page.getByRole('button', { name: 'Remove Ana', exact: true })).toHaveCount(0);
  await expect(roomAccess(ana.page).getByRole('radio', { name: 'Knock to join' })).toBeChecked();

  // The confirmation is keyboard operable, and Escape closes it (not the panel) without
  // removing anyone.
  const removeBen = ana.page.getByRole('button', { name: 'Remove Ben', exact: true });
  await removeBen.focus();
  await ana.page.keyboard.press('Enter');
  await expect(ana.page.getByRole('checkbox', { name: 'Also ban from this room' })).toBeFocused();
  await expectAccessible(ana.page, 'the people panel with a removal to confirm');
  await ana.page.keyboard.press('Escape');
  await expect(ana.page.getByRole('group', { name: 'Remove Ben from the call?' })).toBeHidden();
  await expect(removeBen).toBeFocused();
  await expect(removeBen).toHaveAttribute('aria-expanded', 'false');
  await expect(participants(ana.page)).toBeVisible();

  // Back to the lobby: Ben waits again, leaves everyone's call, and both admins may let him in.
  await ana.page.getByRole('button', { name: 'Send Ben to the lobby', exact: true }).click();
  await expectWaiting(ben.page);
  for (const page of [ana.page, cy.page]) await expect(tileOf(page, 'Ben')).toHaveCount(0);
  await expect(participants(ana.page).getByRole('listitem').filter({ hasText: 'Ben' })).toHaveCount(0);
  await closePeople(ana.page);
  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();
  await allowFromAlert(cleo.page, 'Ben');
  await expectInCall(ben.page, room, 'Ben');
  await expect(tileOf(cy.page, 'Ben')).toHaveCount(1);
  await expect(knockAlert(ana.page, 'Ben')).toHaveCount(0);
  // Cy never learned that Ben waited.
  await expect(cy.page.getByText('would like to join the call')).toHaveCount(0);

  // Removed with a ban: Ben is told, and the link no longer lets him in.
  await remove(ana.page, 'Ben', true);
  await expect(ben.page.getByRole('heading', { name: 'You were removed from the call' })).toBeVisible();
  await expect(ben.page.getByText("You can't join this call again.")).toBeVisible();
  await expectAccessible(ben.page, 'removed from the call');
  await expect(tileOf(cy.page, 'Ben')).toHaveCount(0);
  await ben.page.goto(`${base()}/${room}`);
  await hydrated(ben.page);
  await expect(ben.page.getByRole('heading', { name: 'You were removed from the call' })).toBeVisible();
  await expect(ben.page.getByText("You can't join this call again.")).toBeVisible();
  await expect(ben.page.getByRole('button', { name: /join/i })).toHaveCount(0);
  await expect(ben.page.getByRole('textbox', { name: 'Your name' })).toHaveCount(0);

  // Room access: Ana's choice applies at once for new visitors, shows in Cleo's group, and is
  // the room property change the REST API makes.
  await openPeople(ana.page);
  await openPeople(cleo.page);
  await chooseAccess(ana.page, 'Locked');
  await expect(roomAccess(cleo.page).getByRole('radio', { name: 'Locked' })).toBeChecked();
  let rest = await api('GET', `/v1/rooms/${room}`);
  expect(rest.privacy).toBe('private');
  expect(rest.config.enable_knocking).toBeUndefined();
  await visitor(browser, room, async (page) => {
    await expect(page.getByRole('heading', { name: 'This room is private' })).toBeVisible();
    await expect(page.getByRole('textbox', { name: 'Your name' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Ask to join' })).toHaveCount(0);
  });

  await chooseAccess(ana.page, 'Anyone with the link');
  await expect(roomAccess(cleo.page).getByRole('radio', { name: 'Anyone with the link' })).toBeChecked();
  rest = await api('GET', `/v1/rooms/${room}`);
  expect(rest.privacy).toBe('public');
  await visitor(browser, room, (page) => expectPrejoin(page, 'Join'));

  // Cleo, the second admin, switches it back.
  await chooseAccess(cleo.page, 'Knock to join');
  await expect(roomAccess(ana.page).getByRole('radio', { name: 'Knock to join' })).toBeChecked();
  rest = await api('GET', `/v1/rooms/${room}`);
  expect(rest.privacy).toBe('private');
  expect(rest.config.enable_knocking).toBe(true);
  await visitor(browser, room, (page) => expectPrejoin(page, 'Ask to join'));

  // Cy still has no controls.
  await openPeople(cy.page);
  await expect(roomAccess(cy.page)).toHaveCount(0);
  await expect(anyModeration(cy.page)).toHaveCount(0);

  for (const person of [ana, cleo, cy, ben]) expect(person.errors).toEqual([]);
  await closeAll(ana, cleo, cy, ben);
});

test.describe('with a camera and microphone', () => {
  /** Runs in the page before its own scripts: keeps every connection the page opens. */
  function recordPeers() {
    const w = window as any;
    w.modPeers = [];
    const Native = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Native {
      constructor(...args: ConstructorParameters<typeof RTCPeerConnection>) {
        super(...args);
        w.modPeers.push(this);
      }
    } as typeof RTCPeerConnection;
  }

  /** The page's connections by state, and the tracks they were sending when `sending` last
   * looked (by kind and state). */
  const media = (page: Page) =>
    page.evaluate(() => {
      const w = window as any;
      return {
        peers: (w.modPeers as RTCPeerConnection[]).map((peer) => peer.connectionState),
        tracks: ((w.modSent ?? []) as MediaStreamTrack[]).map((track) => `${track.kind}:${track.readyState}`).sort(),
      };
    });

  /** Remembers the tracks the page's connections send now. */
  const sending = (page: Page) =>
    page.evaluate(() => {
      const w = window as any;
      w.modSent = (w.modPeers as RTCPeerConnection[])
        .flatMap((peer) => peer.getSenders().map((sender) => sender.track))
        .filter((track) => track !== null);
    });

  test('a guest sent to the lobby stops sending at once; removed without a ban he may ask to come back', async () => {
    // Chromium with its fake camera and microphone, for this journey only.
    const browser = await chromium.launch(fakeMediaLaunchOptions);
    const room = await createRoom();
    const ana = await joinWithToken(browser, room, 'Ana', { owner: true });
    const context = await browser.newContext();
    await context.addInitScript(recordPeers);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${base()}/${room}`);
    await hydrated(page);
    const ben: Person = { context, page, errors };
    await knockAs(ben.page, 'Ben');
    await allowFromAlert(ana.page, 'Ben');
    await expectInCall(ben.page, room, 'Ben');

    // In the call: a connection to Ana, sending live camera and microphone.
    await expect.poll(async () => (await media(ben.page)).peers, { timeout: 30_000 }).toContain('connected');
    await expect
      .poll(async () => {
        await sending(ben.page);
        return (await media(ben.page)).tracks;
      })
      .toEqual(['audio:live', 'video:live']);
    const live = await media(ben.page);

    await openPeople(ana.page);
    await ana.page.getByRole('button', { name: 'Send Ben to the lobby', exact: true }).click();
    await expectWaiting(ben.page);
    // At once: every track stopped, every connection closed.
    await expect
      .poll(async () => media(ben.page), { timeout: 2_000 })
      .toEqual({
        peers: live.peers.map(() => 'closed'),
        tracks: live.tracks.map((track) => track.replace('live', 'ended')),
      });
    await expect(tileOf(ana.page, 'Ben')).toHaveCount(0);

    // Let in again: back in the call, with camera and microphone off until he turns them on.
    await closePeople(ana.page);
    await allowFromAlert(ana.page, 'Ben');
    await expectInCall(ben.page, room, 'Ben');
    await expect(ben.page.getByRole('button', { name: 'Camera' })).toHaveAttribute('aria-pressed', 'false');
    await expect(tileOf(ana.page, 'Ben')).toHaveCount(1);

    // Removed without a ban: told so, and offered the way back (through the lobby).
    await remove(ana.page, 'Ben', false);
    await expect(ben.page.getByRole('heading', { name: 'You were removed from the call' })).toBeVisible();
    await expect(ben.page.getByText('You may ask to come back.')).toBeVisible();
    await ben.page.getByRole('button', { name: 'Ask to join again' }).click();
    await knockAs(ben.page, 'Ben');
    await allowFromAlert(ana.page, 'Ben');
    await expectInCall(ben.page, room, 'Ben');

    for (const person of [ana, ben]) expect(person.errors).toEqual([]);
    await closeAll(ana, ben);
    await browser.close();
  });
});
