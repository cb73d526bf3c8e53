// Journey 10: a token with `knocking: true` opens the lobby, not the call.
import { expect, test } from '@playwright/test';
import { closeAll, createRoom, expectPrejoin, joinWithToken, knockAlert, knockAs, openWithToken } from './support';

test('a token holder with knocking must ask to join', async ({ browser }) => {
  const room = await createRoom();
  const kim = await openWithToken(browser, room, 'Kim', { properties: { knocking: true } });
  await expectPrejoin(kim.page, 'Ask to join');
  await expect(kim.page.getByRole('button', { name: 'Join', exact: true })).toHaveCount(0);

  // And the knock reaches an owner like any other.
  const ana = await joinWithToken(browser, room, 'Ana', { owner: true });
  await knockAs(kim.page, 'Kim');
  await expect(knockAlert(ana.page, 'Kim')).toBeVisible();

  for (const person of [kim, ana]) expect(person.errors).toEqual([]);
  await closeAll(kim, ana);
});
