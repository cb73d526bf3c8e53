// Journey 4: a private room without knocking turns tokenless visitors away, with no form.
import { expect, test } from '@playwright/test';
import { closeAll, createRoom, openRoom } from './support';

test('without knocking a guest sees This room is private and cannot ask to join', async ({ browser }) => {
  const room = await createRoom({ knocking: false });
  const guest = await openRoom(browser, room);
  const { page } = guest;

  await expect(page.getByRole('heading', { name: 'This room is private' })).toBeVisible();
  await expect(page.getByText("You don't have permission to join this call.")).toBeVisible();
  await expect(page.getByRole('button', { name: 'Ask to join' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Join', exact: true })).toHaveCount(0);
  await expect(page.getByRole('textbox', { name: 'Your name' })).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'Ready to join?' })).toHaveCount(0);

  expect(guest.errors).toEqual([]);
  await closeAll(guest);
});
