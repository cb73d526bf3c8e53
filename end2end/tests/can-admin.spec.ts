// Journey 9: a non-owner whose token has canAdmin ["participants"] is an admin of the lobby.
import { expect, test } from '@playwright/test';
import {
  closeAll,
  closePeople,
  createRoom,
  expectInCall,
  expectListed,
  joinWithToken,
  knockAlert,
  knockAs,
  openPeople,
  openRoom,
  participants,
} from './support';

test('a canAdmin participant who is not an owner admits a guest', async ({ browser }) => {
  const room = await createRoom();
  const cam = await joinWithToken(browser, room, 'Cam', { properties: { permissions: { canAdmin: ['participants'] } } });
  // Not an owner: no badge.
  await openPeople(cam.page);
  await expect(participants(cam.page).getByRole('listitem').filter({ hasText: '(you)' })).not.toContainText('Owner');
  await closePeople(cam.page);

  const ben = await openRoom(browser, room);
  await knockAs(ben.page, 'Ben');
  // An admin is in the call, so the guest is not told that no host is here.
  await expect(ben.page.getByText('No host is here yet')).toHaveCount(0);

  await expect(knockAlert(cam.page, 'Ben')).toBeVisible();
  await expect(cam.page).toHaveTitle(`(1) ${room} · Knock`);
  await cam.page.getByRole('button', { name: 'Allow', exact: true }).click();

  await expectInCall(ben.page, room, 'Ben');
  await expectListed(cam.page, 'Ben', false);
  await expectListed(ben.page, 'Cam', false);

  for (const person of [cam, ben]) expect(person.errors).toEqual([]);
  await closeAll(cam, ben);
});

test('when one admin decides, the other admin sees who let the guest in', async ({ browser }) => {
  const room = await createRoom();
  const ana = await joinWithToken(browser, room, 'Ana', { owner: true });
  const cam = await joinWithToken(browser, room, 'Cam', { properties: { permissions: { canAdmin: ['participants'] } } });

  const ben = await openRoom(browser, room);
  await knockAs(ben.page, 'Ben');
  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();
  await expect(knockAlert(cam.page, 'Ben')).toBeVisible();

  await cam.page.getByRole('button', { name: 'Allow', exact: true }).click();
  await expectInCall(ben.page, room, 'Ben');
  await expect(ana.page.getByText('Cam allowed Ben', { exact: true })).toBeVisible();
  await expect(knockAlert(ana.page, 'Ben')).toHaveCount(0);
  await expect(knockAlert(cam.page, 'Ben')).toHaveCount(0);

  for (const person of [ana, cam, ben]) expect(person.errors).toEqual([]);
  await closeAll(ana, cam, ben);
});
