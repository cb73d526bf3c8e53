// Journey 1: a token holder (an owner) skips the lobby: prejoin with `Join`, then the call.
import { expect, test } from '@playwright/test';
import { base, closeAll, createRoom, createToken, expectPrejoin, openPeople, openRoom, participants } from './support';

test('an owner with a token joins directly and the token leaves the address bar', async ({ browser }) => {
  const room = await createRoom();
  const token = await createToken(room, { is_owner: true, user_name: 'Ana' });
  const ana = await openRoom(browser, room, { token });
  const { page } = ana;

  // The server redirected to /<room>: no token in the URL.
  expect(page.url()).toBe(`${base()}/${room}`);
  expect(page.url()).not.toContain('?t=');

  await expectPrejoin(page, 'Join');
  const name = page.getByRole('textbox', { name: 'Your name' });
  await name.fill('Ana');
  await page.getByRole('button', { name: 'Join', exact: true }).click();

  await expect(page.getByRole('heading', { level: 1, name: room, exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Leave', exact: true })).toBeVisible();
  await openPeople(page);
  const me = participants(page).getByRole('listitem');
  await expect(me).toHaveCount(1);
  await expect(me).toContainText('Ana');
  await expect(me).toContainText('(you)');
  await expect(me).toContainText('Owner');
  await expect(page).toHaveTitle(`${room} · Knock`);
  expect(page.url()).not.toContain('?t=');
  expect(ana.errors).toEqual([]);

  await closeAll(ana);
});
