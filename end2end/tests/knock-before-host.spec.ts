// Journey 5: a guest knocks into an empty room; the knock stays open until an owner arrives.
import { expect, test } from '@playwright/test';
import { closeAll, createRoom, expectWaiting, joinWithToken, knockAlert, knockAs, openRoom } from './support';

test('a knock made before any host arrives reaches the owner when they join', async ({ browser }) => {
  const room = await createRoom();
  const ben = await openRoom(browser, room);
  await knockAs(ben.page, 'Ben');
  const noHost = ben.page.getByText('No host is here yet', { exact: false });
  await expect(noHost).toBeVisible();

  const ana = await joinWithToken(browser, room, 'Ana', { owner: true });

  // An admin who joins while someone waits is told about them.
  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();
  // The guest's page re-checks every 3 s and stops saying no host is here.
  await expect(noHost).toBeHidden({ timeout: 5_000 });
  await expectWaiting(ben.page);

  for (const person of [ana, ben]) expect(person.errors).toEqual([]);
  await closeAll(ana, ben);
});
