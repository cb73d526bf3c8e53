// Journey 11: the prejoin page and the knock work without JavaScript (server-rendered forms).
import { expect, test } from '@playwright/test';
import { base, closeAll, createRoom, expectPrejoin, expectWaiting, joinWithToken, knockAlert, openRoom } from './support';

test('without JavaScript the prejoin page renders and a knock goes through', async ({ browser }) => {
  const room = await createRoom();
  const guest = await openRoom(browser, room, { javaScriptEnabled: false });
  const { page } = guest;

  await expectPrejoin(page, 'Ask to join');
  await expect(page.locator('body')).not.toHaveAttribute('data-hydrated', 'true');

  await page.getByRole('textbox', { name: 'Your name' }).fill('Noa');
  await page.getByRole('button', { name: 'Ask to join', exact: true }).click();
  // The full-page post redirects back to the room page, now in the lobby.
  // (The redirect lands on `/<room>?`: the empty query is harmless.)
  await expect(page).toHaveURL(new RegExp(`^${base()}/${room}\\??$`));
  await expectWaiting(page);
  await expect(page.getByText('Noa', { exact: true })).toBeVisible();

  // The knock is real: an owner who comes in sees it.
  const ana = await joinWithToken(browser, room, 'Ana', { owner: true });
  await expect(knockAlert(ana.page, 'Noa')).toBeVisible();

  await closeAll(guest, ana);
});
