// Live video: an owner and an admitted guest see and hear each other over WebRTC, a waiting
// guest gets nothing and is refused signaling, three people connect in a full mesh, two guests
// let in together (`Allow all`) see each other, a camera turned off shows the name tile, and
// whoever leaves disappears from the others' tiles. (`make stress-mesh` repeats the three- and
// four-person journeys with joins in every order.)
// Chromium runs with its fake camera and microphone (a moving test pattern and a beep).
import { expect, test } from '@playwright/test';
import { fakeMediaLaunchOptions } from '../playwright.config';
import {
  base,
  closeAll,
  createRoom,
  expectEveryoneSeesEveryone,
  expectInCall,
  expectListed,
  expectLiveAudio,
  expectLiveVideo,
  joinLive,
  knockAlert,
  knockAs,
  openRoom,
  presence,
  tileOf,
  type Person,
} from './support';

test.use({ launchOptions: fakeMediaLaunchOptions });
// Three encoders and decoders on two cores take a while to reach their stride.
test.setTimeout(120_000);

test('an owner and an admitted guest see and hear each other; a waiting guest gets nothing', async ({
  browser,
}) => {
  const room = await createRoom();
  const ana = await joinLive(browser, room, 'Ana', { owner: true });

  const ben = await openRoom(browser, room, { watchPeers: true });
  // The prejoin page previews the camera, mirrored, with both devices on.
  const preview = ben.page.getByLabel('Your camera preview');
  await expect(preview).toBeVisible();
  await expect.poll(() => preview.evaluate((v: HTMLVideoElement) => v.videoWidth)).toBeGreaterThan(0);
  await expect(ben.page.getByRole('button', { name: 'Microphone' })).toHaveAttribute('aria-pressed', 'true');
  await knockAs(ben.page, 'Ben');
  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();

  // Waiting: no connection exists, and the server refuses Ben's signaling outright.
  const [anaId] = (await presence(room)).map((p) => p.id);
  const offer = { description: { type: 'offer', sdp: 'v=0\r\n' } };
  const refused = await ben.page.request.post(`${base()}/api/signal`, {
    data: { room, to: anaId, messages: [offer] },
  });
  expect(refused.status()).toBe(403);
  for (const [name, form] of [
    ['update_media', { room, video: 'true', audio: 'true' }],
    ['ice_servers', { room }],
  ] as const) {
    const answer = await ben.page.request.post(`${base()}/api/${name}`, { form });
    expect(answer.status(), name).toBe(403);
  }
  await ben.page.waitForTimeout(1_000);
  expect(await ben.page.evaluate(() => (window as any).knockPeers.length)).toBe(0);
  await expect(tileOf(ana.page, 'Ben')).toHaveCount(0);

  await ana.page.getByRole('button', { name: 'Allow', exact: true }).click();
  await expectInCall(ben.page, room, 'Ben');
  await expectLiveVideo(ana.page, 'Ben');
  await expectLiveVideo(ben.page, 'Ana');
  await expectLiveAudio(ana.page);
  await expectLiveAudio(ben.page);
  // Your own tile is mirrored; the others' are not.
  await expect(ana.page.locator('figure.tile[data-you] video')).toHaveClass(/mirrored/);
  await expect(tileOf(ana.page, 'Ben').locator('video')).not.toHaveClass(/mirrored/);

  for (const person of [ana, ben]) expect(person.errors).toEqual([]);
  await closeAll(ana, ben);
});

test('three people connect in a full mesh; a camera turned off shows the name; whoever leaves disappears', async ({
  browser,
}) => {
  const room = await createRoom();
  const ana = await joinLive(browser, room, 'Ana', { owner: true });
  const max = await joinLive(browser, room, 'Max');
  const cy = await joinLive(browser, room, 'Cy');
  await expectEveryoneSeesEveryone({ Ana: ana, Max: max, Cy: cy });

  // Cy turns her camera off: the others see her name instead, and her muted state follows.
  await cy.page.getByRole('button', { name: 'Camera' }).click();
  await expect(cy.page.getByRole('button', { name: 'Camera' })).toHaveAttribute('aria-pressed', 'false');
  for (const person of [ana, max]) {
    const tile = tileOf(person.page, 'Cy');
    await expect(tile).toHaveClass(/camera-off/);
    await expect(tile.locator('video')).toBeHidden();
    await expect(tile.locator('.tile-name')).toHaveText('Cy');
  }
  await cy.page.getByRole('button', { name: 'Microphone' }).click();
  await expect(tileOf(ana.page, 'Cy')).toContainText('Muted');
  // And back on: live video again.
  await cy.page.getByRole('button', { name: 'Camera' }).click();
  await expectLiveVideo(ana.page, 'Cy');

  // Max leaves: gone from both other pages' tiles (and lists).
  await max.page.getByRole('button', { name: 'Leave', exact: true }).click();
  for (const person of [ana, cy]) await expect(tileOf(person.page, 'Max')).toHaveCount(0);
  await expectListed(ana.page, 'Cy', false);

  for (const person of [ana, max, cy]) expect(person.errors).toEqual([]);
  await closeAll(ana, max, cy);
});

test('two guests let in together with Allow all see each other and the owner', async ({ browser }) => {
  const room = await createRoom();
  const ana = await joinLive(browser, room, 'Ana', { owner: true });
  const guests: Person[] = [];
  for (const name of ['Ben', 'Cy']) {
    const guest = await openRoom(browser, room, { watchPeers: true });
    await knockAs(guest.page, name);
    guests.push(guest);
  }
  await expect(ana.page.getByText('2 people would like to join the call', { exact: true })).toBeVisible();
  await ana.page.getByRole('button', { name: 'View all' }).click();
  await ana.page.getByRole('region', { name: 'Waiting room' }).getByRole('button', { name: 'Allow all' }).click();
  const [ben, cy] = guests;
  await expectInCall(ben.page, room, 'Ben');
  await expectInCall(cy.page, room, 'Cy');

  await expectEveryoneSeesEveryone({ Ana: ana, Ben: ben, Cy: cy });
  for (const person of [ana, ben, cy]) expect(person.errors).toEqual([]);
  await closeAll(ana, ben, cy);
});
