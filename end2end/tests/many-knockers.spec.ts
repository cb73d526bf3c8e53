// Journey 6: three knockers at once: the count, `View all`, the `Waiting room`, `Allow all` / `Deny all`.
import { expect, test, type Browser } from '@playwright/test';
import {
  closeAll,
  createRoom,
  expectDenied,
  expectInCall,
  expectListed,
  joinWithToken,
  knockAs,
  openPeople,
  openRoom,
  participants,
  type Person,
} from './support';

const names = ['Ben', 'Cy', 'Dee'];

// Four people each: a little more room than the default minute.
test.describe.configure({ timeout: 90_000 });

/** A room with Ana (owner) in the call and three guests knocking; the panel opened. */
async function threeKnockers(browser: Browser) {
  const room = await createRoom();
  const ana = await joinWithToken(browser, room, 'Ana', { owner: true });

  const guests: Person[] = [];
  for (const name of names) {
    const guest = await openRoom(browser, room);
    await knockAs(guest.page, name);
    guests.push(guest);
  }

  const { page } = ana;
  await expect(page.getByText('3 people would like to join the call', { exact: true })).toBeVisible();
  await expect(page).toHaveTitle(`(3) ${room} · Knock`);
  const viewAll = page.getByRole('button', { name: 'View all' });
  await expect(viewAll).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Waiting room' })).toHaveCount(0);
  await viewAll.click();

  const panel = page.getByRole('region', { name: 'Waiting room' });
  await expect(panel.getByRole('heading', { name: 'Waiting room' })).toBeVisible();
  await expect(panel.getByRole('listitem')).toHaveCount(3);
  for (const name of names) {
    const row = panel.getByRole('listitem').filter({ hasText: name });
    await expect(row.getByRole('button', { name: 'Allow', exact: true })).toBeVisible();
    await expect(row.getByRole('button', { name: 'Deny', exact: true })).toBeVisible();
  }
  await expect(panel.getByRole('button', { name: 'Allow all' })).toBeVisible();
  await expect(panel.getByRole('button', { name: 'Deny all' })).toBeVisible();
  return { room, ana, guests, panel };
}

test('three knockers: the owner sees the count and allows all', async ({ browser }) => {
  const { room, ana, guests, panel } = await threeKnockers(browser);
  await panel.getByRole('button', { name: 'Allow all' }).click();

  for (const [index, guest] of guests.entries()) {
    await expectInCall(guest.page, room, names[index]);
  }
  for (const name of names) await expectListed(ana.page, name, false);
  await expect(participants(ana.page).getByRole('listitem')).toHaveCount(4);
  await expect(ana.page.getByText('would like to join the call')).toHaveCount(0);
  await expect(ana.page.getByRole('region', { name: 'Waiting room' })).toHaveCount(0);
  await expect(ana.page).toHaveTitle(`${room} · Knock`);
  // Each guest sees the owner and the two others let in with them.
  for (const [index, guest] of guests.entries()) {
    await openPeople(guest.page);
    await expect
      .soft(participants(guest.page).getByRole('listitem'), `${names[index]} sees all four in the call`)
      .toHaveCount(4, { timeout: 5_000 });
  }
  await expectListed(guests[0].page, 'Ana', true);

  for (const person of [ana, ...guests]) expect(person.errors).toEqual([]);
  await closeAll(ana, ...guests);
});

test('three knockers: the owner denies all', async ({ browser }) => {
  const { room, ana, guests, panel } = await threeKnockers(browser);
  await panel.getByRole('button', { name: 'Deny all' }).click();

  for (const guest of guests) await expectDenied(guest.page);
  await expect(participants(ana.page).getByRole('listitem')).toHaveCount(1);
  await expect(ana.page.getByText('would like to join the call')).toHaveCount(0);
  await expect(ana.page).toHaveTitle(`${room} · Knock`);

  for (const person of [ana, ...guests]) expect(person.errors).toEqual([]);
  await closeAll(ana, ...guests);
});
