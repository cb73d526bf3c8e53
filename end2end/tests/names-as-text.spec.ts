// Journey 8: names are text, never HTML: an <img onerror> name runs nothing on either side.
import { expect, test } from '@playwright/test';
import {
  anyKnockText,
  closeAll,
  createRoom,
  expectInCall,
  expectPrejoin,
  joinWithToken,
  knockAlert,
  knockAs,
  openPeople,
  openRoom,
  participants,
} from './support';

const evil = '<img src=x onerror="window.__xss=1">';

test('a knocker named like HTML is shown as text to the owner and in the call', async ({ browser }) => {
  const room = await createRoom();
  const ana = await joinWithToken(browser, room, 'Ana', { owner: true });

  const guest = await openRoom(browser, room);
  await knockAs(guest.page, evil);

  await expect(knockAlert(ana.page, evil)).toBeVisible();
  await expect(ana.page.locator('img')).toHaveCount(0);

  // A reload renders the alert on the server: still text.
  await ana.page.reload();
  await expect(knockAlert(ana.page, evil)).toBeVisible();
  await expect(ana.page.locator('img')).toHaveCount(0);

  await ana.page.getByRole('button', { name: 'Allow', exact: true }).click();
  await expectInCall(guest.page, room, evil);
  await openPeople(ana.page);
  await expect(participants(ana.page).getByText(evil, { exact: true })).toBeVisible();

  // Server-rendered participant lists, too.
  await guest.page.reload();
  await openPeople(guest.page);
  await expect(participants(guest.page).getByText(evil, { exact: true })).toBeVisible();
  await ana.page.reload();
  await openPeople(ana.page);
  await expect(participants(ana.page).getByText(evil, { exact: true })).toBeVisible();

  for (const { page } of [ana, guest]) {
    await expect(page.locator('img')).toHaveCount(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  }
  for (const person of [ana, guest]) expect(person.errors).toEqual([]);
  await closeAll(ana, guest);
});

test('a name the server refuses is told next to the form, on the same page, and a good one then knocks', async ({ browser }) => {
  const room = await createRoom();
  const ana = await joinWithToken(browser, room, 'Ana', { owner: true });

  const guest = await openRoom(browser, room);
  await expectPrejoin(guest.page, 'Ask to join');
  // Spaces pass the browser's `required`; the server trims them and refuses the empty name.
  await guest.page.evaluate(() => ((window as any).__samePage = true));
  await guest.page.getByRole('textbox', { name: 'Your name' }).fill('   ');
  await guest.page.getByRole('button', { name: 'Ask to join', exact: true }).click();
  await expect(guest.page.getByRole('alert').filter({ hasText: 'name must not be empty' })).toBeVisible();
  await expectPrejoin(guest.page, 'Ask to join');
  expect(await guest.page.evaluate(() => (window as any).__samePage), 'posted without leaving the page').toBe(true);
  await expect(anyKnockText(ana.page)).toHaveCount(0);

  await knockAs(guest.page, 'Ben');
  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();
  expect(guest.errors).toEqual([]);
  await closeAll(ana, guest);
});
