// Journey 10: a token with `knocking: true` opens the lobby, not the call.
import { expect, test } from '@playwright/test';
import { closeAll, createRoom, createToken, expectPrejoin, joinAs, knockAlert, knockAs, openRoom } from './support';

test('a token holder with knocking must ask to join', async ({ browser }) => {
  const room = await createRoom();
  const kim = await openRoom(browser, room, {
    token: await createToken(room, { user_name: 'Kim', knocking: true }),
  });
  await expectPrejoin(kim.page, 'Ask to join');
  await expect(kim.page.getByRole('button', { name: 'Join', exact: true })).toHaveCount(0);

  // And the knock reaches an owner like any other.
  const ana = await openRoom(browser, room, {
    token: await createToken(room, { is_owner: true, user_name: 'Ana' }),
  });
  await joinAs(ana.page, room, 'Ana');
  await knockAs(kim.page, 'Kim');
  await expect(knockAlert(ana.page, 'Kim')).toBeVisible();

  for (const person of [kim, ana]) expect(person.errors).toEqual([]);
  await closeAll(kim, ana);
});
