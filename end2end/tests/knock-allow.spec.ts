// Journey 2: a guest knocks; only the owner (not a plain member) is told; the owner allows.
import { expect, test } from '@playwright/test';
import {
  anyKnockText,
  closeAll,
  createRoom,
  expectInCall,
  expectListed,
  joinWithToken,
  knockAlert,
  knockAs,
  openRoom,
} from './support';

test('a guest knocks, only the owner sees it, the owner allows and the guest is in the call', async ({
  browser,
}) => {
  const room = await createRoom();
  const ana = await joinWithToken(browser, room, 'Ana', { owner: true });

  const max = await joinWithToken(browser, room, 'Max');
  await expectListed(ana.page, 'Max', false);
  // Max came in after Ana: he should see her (owner-marked) too.
  await expectListed(max.page, 'Ana', true);

  const ben = await openRoom(browser, room);
  await knockAs(ben.page, 'Ben');

  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();
  await expect(ana.page.getByRole('button', { name: 'Allow', exact: true })).toBeVisible();
  await expect(ana.page.getByRole('button', { name: 'Deny', exact: true })).toBeVisible();
  await expect(ana.page).toHaveTitle(`(1) ${room} · Knock`);

  // The member never learns of the knock (the owner already has it, so it has been sent).
  await expect(anyKnockText(max.page)).toHaveCount(0);
  await expect(max.page.getByRole('button', { name: 'Allow', exact: true })).toHaveCount(0);
  await expect(max.page).toHaveTitle(`${room} · Knock`);

  await ana.page.getByRole('button', { name: 'Allow', exact: true }).click();

  await expectInCall(ben.page, room, 'Ben');
  await expectListed(ana.page, 'Ben', false);
  await expectListed(max.page, 'Ben', false);
  await expect(anyKnockText(ana.page)).toHaveCount(0);
  await expect(ana.page).toHaveTitle(`${room} · Knock`);
  await expect(anyKnockText(max.page)).toHaveCount(0);
  // Ben was let in after Ana and Max were there: he should see both.
  await expectListed(ben.page, 'Ana', true);
  await expectListed(ben.page, 'Max', false);

  for (const person of [ana, max, ben]) expect(person.errors).toEqual([]);
  await closeAll(ana, max, ben);
});
