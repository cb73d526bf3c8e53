// axe-core (@axe-core/playwright) finds no serious or critical violation in any state of the
// room page (prejoin, waiting, denied, in the call with the knock alert, the people panel open)
// nor on the dashboard, at a laptop's size and a phone's.
import { expect, test } from '@playwright/test';
import {
  api,
  base,
  closeAll,
  createRoom,
  expectAccessible,
  expectDenied,
  expectPrejoin,
  hydrated,
  joinWithToken,
  knockAlert,
  knockAs,
  openPeople,
  openRoom,
  sizes,
} from './support';

test.describe.configure({ timeout: 90_000 });

for (const [size, viewport] of Object.entries(sizes)) {
  test(`every state of the lobby and the call passes axe (${size})`, async ({ browser }) => {
    const room = await createRoom();
    const ana = await joinWithToken(browser, room, 'Ana', { owner: true, viewport });

    const ben = await openRoom(browser, room, { viewport });
    await expectPrejoin(ben.page, 'Ask to join');
    await expectAccessible(ben.page, 'prejoin');
    // The light pages follow the system's preference: the dark variant passes too.
    await ben.page.emulateMedia({ colorScheme: 'dark' });
    await expectAccessible(ben.page, 'prejoin, dark');
    await ben.page.emulateMedia({ colorScheme: 'light' });
    await knockAs(ben.page, 'Ben');
    await expectAccessible(ben.page, 'waiting');

    await expect(knockAlert(ana.page, 'Ben')).toBeVisible();
    await expectAccessible(ana.page, 'the call with one knock alert');

    const cy = await openRoom(browser, room, { viewport });
    await knockAs(cy.page, 'Cy');
    await expect(ana.page.getByText('2 people would like to join the call', { exact: true })).toBeVisible();
    await expectAccessible(ana.page, 'the call with the alert for two');
    await ana.page.getByRole('button', { name: 'View all' }).click();
    await expect(ana.page.getByRole('region', { name: 'Waiting room' })).toBeVisible();
    await expectAccessible(ana.page, 'the people panel with the waiting room');

    const waitingRoom = ana.page.getByRole('region', { name: 'Waiting room' });
    await waitingRoom.getByRole('group', { name: 'Decide for Cy' }).getByRole('button', { name: 'Deny' }).click();
    await expectDenied(cy.page);
    await expectAccessible(cy.page, 'denied');

    await waitingRoom.getByRole('group', { name: 'Decide for Ben' }).getByRole('button', { name: 'Allow', exact: true }).click();
    await expect(ana.page.locator('figure.tile')).toHaveCount(2);
    await expectAccessible(ana.page, 'the call of two, people panel open');
    await openPeople(ben.page);
    await expectAccessible(ben.page, "a guest's people panel");

    await closeAll(ana, ben, cy);
  });

  test(`the dashboard passes axe (${size})`, async ({ browser }) => {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto(`${base()}/dashboard`);
    await hydrated(page);
    await expectAccessible(page, 'the sign-in form');
    await page.getByRole('textbox', { name: 'API key' }).fill(process.env.KNOCK_API_KEY!);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('button', { name: 'Create room' })).toBeVisible();
    const room = await createRoom({ prefix: 'axe' });
    await api('POST', '/v1/meeting-tokens', { properties: { room_name: room } });
    await expect(page.locator(`tr[data-room="${room}"]`)).toBeVisible();
    const row = page.locator(`tr[data-room="${room}"]`);
    await row.getByText('Tokens').click();
    await row.getByRole('button', { name: 'Create token' }).click();
    await expect(row.getByTestId('join-link')).toBeVisible();
    await expectAccessible(page, 'the dashboard with rooms and a minted token');
    await page.emulateMedia({ colorScheme: 'dark' });
    await expectAccessible(page, 'the dashboard, dark');
    // Readable on a phone: nothing scrolls sideways, and `Sign out` is a small control.
    const scroll = await page.evaluate(() => [document.scrollingElement!.scrollWidth, window.innerWidth]);
    expect(scroll[0], 'no horizontal scroll').toBeLessThanOrEqual(scroll[1]);
    const signOut = (await page.getByRole('button', { name: 'Sign out' }).boundingBox())!;
    expect(signOut.width, 'Sign out is a small control').toBeLessThan(viewport.width / 3);
    await context.close();
  });
}
