// Without a camera or microphone (this Chromium has neither, and no fake ones), the prejoin page
// says so plainly, joining still works, and the others see the name tile, marked Muted.
import { expect, test } from '@playwright/test';
import { closeAll, createRoom, joinAs, joinWithToken, openRoom } from './support';

test('a visitor without devices is told so, joins, and the others see their name', async ({ browser }) => {
  const room = await createRoom({ privacy: 'public', knocking: false });
  const ana = await joinWithToken(browser, room, 'Ana', { owner: true });

  const pia = await openRoom(browser, room);
  await expect(pia.page.getByRole('status')).toContainText('You can still join');
  await expect(pia.page.getByRole('button', { name: 'Camera' })).toHaveAttribute('aria-pressed', 'false');
  await expect(pia.page.getByRole('button', { name: 'Microphone' })).toHaveAttribute('aria-pressed', 'false');
  await joinAs(pia.page, room, 'Pia');

  const tile = ana.page.locator('figure.tile:not([data-you])').filter({ hasText: 'Pia' });
  await expect(tile).toHaveClass(/camera-off/);
  await expect(tile.locator('.tile-name')).toHaveText('Pia');
  await expect(tile).toContainText('Muted');

  for (const person of [ana, pia]) expect(person.errors).toEqual([]);
  await closeAll(ana, pia);
});
