// Takes the README's screenshots: prejoin, waiting, the admin alert, the waiting room, denied,
// and the call.
import { expect, test } from '@playwright/test';
import path from 'node:path';
import { api, createToken, joinAs, knockAs, knockAlert, openRoom } from '../tests/support';

const shot = (name: string) => path.join(__dirname, '..', '..', 'docs', 'screenshots', `${name}.png`);

test('the lobby, step by step', async ({ browser }) => {
  // Each run has a fresh server and database, so the room can have a readable name.
  const room = 'standup';
  await api('POST', '/v1/rooms', { name: room, privacy: 'private', properties: { enable_knocking: true } });
  const owner = await openRoom(browser, room, {
    token: await createToken(room, { is_owner: true, user_name: 'Ana' }),
  });
  await joinAs(owner.page, room, 'Ana');

  const ben = await openRoom(browser, room);
  await ben.page.getByRole('textbox', { name: 'Your name' }).fill('Ben');
  const preview = ben.page.getByLabel('Your camera preview');
  await expect.poll(() => preview.evaluate((video: HTMLVideoElement) => video.videoWidth)).toBeGreaterThan(0);
  await ben.page.screenshot({ path: shot('prejoin') });
  await knockAs(ben.page, 'Ben');
  await ben.page.screenshot({ path: shot('waiting') });

  await expect(knockAlert(owner.page, 'Ben')).toBeVisible();
  await owner.page.screenshot({ path: shot('admin-alert') });

  const cy = await openRoom(browser, room);
  await knockAs(cy.page, 'Cy');
  await expect(owner.page.getByText('2 people would like to join the call')).toBeVisible();
  await owner.page.getByRole('button', { name: 'View all' }).click();
  await expect(owner.page.getByRole('heading', { name: 'Waiting room' })).toBeVisible();
  await owner.page.screenshot({ path: shot('waiting-room') });

  const cyRow = owner.page.getByRole('group', { name: 'Decide for Cy' });
  await cyRow.getByRole('button', { name: 'Deny' }).click();
  await expect(cy.page.getByRole('heading', { name: 'Request denied' })).toBeVisible();
  await cy.page.screenshot({ path: shot('denied') });

  await owner.page.getByRole('group', { name: 'Decide for Ben' }).first().getByRole('button', { name: 'Allow', exact: true }).click();
  const benVideo = owner.page.locator('figure.tile:not([data-you]) video');
  await expect.poll(() => benVideo.evaluate((video: HTMLVideoElement) => video.videoWidth), { timeout: 30_000 }).toBeGreaterThan(0);
  await owner.page.waitForTimeout(1_000);
  await owner.page.screenshot({ path: shot('call') });

  for (const person of [owner, ben, cy]) await person.context.close();
});
