// Journey 7: reloading keeps the knock, for the guest and for the owner.
import { expect, test } from '@playwright/test';
import {
  closeAll,
  createRoom,
  expectInCall,
  expectWaiting,
  hydrated,
  joinWithToken,
  knockAlert,
  knockAs,
  openRoom,
  waitingList,
} from './support';

test('a reload while waiting keeps the one knock, and the owner still sees it after reloading', async ({
  browser,
}) => {
  const room = await createRoom();
  const ana = await joinWithToken(browser, room, 'Ana', { owner: true });

  const ben = await openRoom(browser, room);
  await knockAs(ben.page, 'Ben');
  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();

  await ben.page.reload();
  await hydrated(ben.page);
  await expectWaiting(ben.page);
  await expect(ben.page.getByText('No host is here yet')).toHaveCount(0);
  // Still exactly one knock: the owner has one alert, not a second or a count.
  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();
  await expect(ana.page.getByText('would like to join the call')).toHaveCount(1);
  await expect(ana.page.getByText('people would like to join the call')).toHaveCount(0);
  await expect(ana.page).toHaveTitle(`(1) ${room} · Knock`);

  await ana.page.reload();
  await hydrated(ana.page);
  await expectInCall(ana.page, room, 'Ana');
  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();
  await expect(ana.page.getByText('would like to join the call')).toHaveCount(1);
  await expect(ana.page).toHaveTitle(`(1) ${room} · Knock`);

  const waiting = await waitingList(room);
  expect(waiting.total_count).toBe(1);
  expect(waiting.data.map((knock) => knock.name)).toEqual(['Ben']);

  // The knock is still live: allowing it after both reloads lets Ben in.
  await ana.page.getByRole('button', { name: 'Allow', exact: true }).click();
  await expectInCall(ben.page, room, 'Ben');

  for (const person of [ana, ben]) expect(person.errors).toEqual([]);
  await closeAll(ana, ben);
});
