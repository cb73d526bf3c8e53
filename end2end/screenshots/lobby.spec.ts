// Takes the README's screenshots at a laptop's size and a phone's: prejoin, waiting, the admin
// alert over the call (with the knock's note), the people panel with its waiting room, the
// waiting page with a host's message, denied, a call of two, and the dashboard.
import { expect, test, type Page } from '@playwright/test';
import path from 'node:path';
import {
  api,
  base,
  createToken,
  hostMessage,
  hydrated,
  joinAs,
  knockAs,
  knockAlert,
  knockWithNote,
  openRoom,
  sizes,
} from '../tests/support';

const waitingRoom = (page: Page) => page.getByRole('region', { name: 'Waiting room' });

const shot = (name: string, size: string) =>
  path.join(__dirname, '..', '..', 'docs', 'screenshots', `${name}-${size}.png`);

for (const [size, viewport] of Object.entries(sizes)) {
  test(`the lobby, step by step (${size})`, async ({ browser }) => {
    // Each run has a fresh server and database, so the room can have a readable name.
    const room = `standup-${size}`;
    await api('POST', '/v1/rooms', { name: room, privacy: 'private', properties: { enable_knocking: true } });
    const owner = await openRoom(browser, room, {
      token: await createToken(room, { is_owner: true, user_name: 'Ana' }),
      viewport,
    });
    await joinAs(owner.page, room, 'Ana');

    const ben = await openRoom(browser, room, { viewport });
    await ben.page.getByRole('textbox', { name: 'Your name' }).fill('Ben');
    const preview = ben.page.getByLabel('Your camera preview');
    await expect.poll(() => preview.evaluate((video: HTMLVideoElement) => video.videoWidth)).toBeGreaterThan(0);
    await ben.page.screenshot({ path: shot('prejoin', size) });
    await knockWithNote(ben.page, 'Ben', 'From the design team, about the launch');
    const waitingPreview = ben.page.getByLabel('Your camera preview');
    await expect.poll(() => waitingPreview.evaluate((video: HTMLVideoElement) => video.videoWidth)).toBeGreaterThan(0);
    await ben.page.waitForTimeout(500);
    await ben.page.screenshot({ path: shot('waiting', size) });

    await expect(knockAlert(owner.page, 'Ben')).toBeVisible();
    await owner.page.waitForTimeout(500);
    await owner.page.screenshot({ path: shot('admin-alert', size) });

    const cy = await openRoom(browser, room, { viewport });
    await knockAs(cy.page, 'Cy');
    await expect(owner.page.getByText('2 people would like to join the call')).toBeVisible();
    await owner.page.getByRole('button', { name: 'View all' }).click();
    await expect(owner.page.getByRole('heading', { name: 'Waiting room' })).toBeVisible();
    await owner.page.waitForTimeout(500);
    await owner.page.screenshot({ path: shot('waiting-room', size) });

    await waitingRoom(owner.page).getByRole('button', { name: 'Message Ben' }).click();
    await waitingRoom(owner.page).getByRole('textbox', { name: 'Message' }).fill('Two minutes, we are finishing the last item.');
    await waitingRoom(owner.page).getByRole('button', { name: 'Send' }).click();
    await expect(hostMessage(ben.page)).toBeVisible();
    await ben.page.waitForTimeout(500);
    await ben.page.screenshot({ path: shot('waiting-message', size) });

    await waitingRoom(owner.page).getByRole('group', { name: 'Decide for Cy' }).getByRole('button', { name: 'Deny' }).click();
    await expect(cy.page.getByRole('heading', { name: 'Request denied' })).toBeVisible();
    await cy.page.screenshot({ path: shot('denied', size) });

    await waitingRoom(owner.page).getByRole('group', { name: 'Decide for Ben' }).getByRole('button', { name: 'Allow', exact: true }).click();
    await owner.page.getByRole('button', { name: 'Close people panel' }).click();
    const benVideo = owner.page.locator('figure.tile:not([data-you]) video');
    await expect.poll(() => benVideo.evaluate((video: HTMLVideoElement) => video.videoWidth), { timeout: 30_000 }).toBeGreaterThan(0);
    await owner.page.waitForTimeout(1_000);
    await owner.page.screenshot({ path: shot('call', size) });

    for (const person of [owner, ben, cy]) await person.context.close();
  });
}

for (const [size, viewport] of Object.entries(sizes)) {
  test(`the dashboard (${size})`, async ({ browser }) => {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto(`${base()}/dashboard`);
    await hydrated(page);
    await page.getByRole('textbox', { name: 'API key' }).fill(process.env.KNOCK_API_KEY!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('button', { name: 'Create room' })).toBeVisible();
    await expect(page.locator('tr[data-room]').first()).toBeVisible();
    await page.screenshot({ path: shot('dashboard', size), fullPage: true });
    await context.close();
  });
}
