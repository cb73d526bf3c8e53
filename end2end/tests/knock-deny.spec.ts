// Journey 3: a guest is denied, knocks again from the `Knock again` link, and the owner is told again.
import { expect, test } from '@playwright/test';
import {
  base,
  closeAll,
  createRoom,
  expectDenied,
  expectPrejoin,
  hydrated,
  joinWithToken,
  knockAlert,
  knockAs,
  openPeople,
  openRoom,
  participants,
} from './support';

test('a denied guest sees Request denied and can knock again', async ({ browser }) => {
  const room = await createRoom();
  const ana = await joinWithToken(browser, room, 'Ana', { owner: true });

  const ben = await openRoom(browser, room);
  await knockAs(ben.page, 'Ben');
  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();
  await ana.page.getByRole('button', { name: 'Deny', exact: true }).click();

  await expectDenied(ben.page);
  await expect(knockAlert(ana.page, 'Ben')).toHaveCount(0);
  await openPeople(ana.page);
  await expect(participants(ana.page)).not.toContainText('Ben');

  // Diagnostic: the server itself renders the prejoin page for this denied session.
  const html = await (await ben.context.request.get(`${base()}/${room}`)).text();
  expect.soft(html, 'server-rendered /<room> after a denial').toContain('Ready to join?');

  const again = ben.page.getByRole('link', { name: 'Knock again' });
  await expect(again).toHaveAttribute('href', `/${room}`);
  await again.click();
  await expect(ben.page).toHaveURL(`${base()}/${room}`);
  await hydrated(ben.page);
  await expectPrejoin(ben.page, 'Ask to join');

  await knockAs(ben.page, 'Ben');
  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();
  await expect(ana.page.getByText('would like to join the call')).toHaveCount(1);

  for (const person of [ana, ben]) expect(person.errors).toEqual([]);
  await closeAll(ana, ben);
});
