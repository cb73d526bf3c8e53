// The lobby beyond Daily, with a browser context per person: the owner Ana, two guests (Ben and
// Cy) and Leo, in the call without admin rights, who must see none of it. A knock's note shows in
// the alert and the waiting room; a message reaches only the guest it is for, or everyone
// waiting; each guest knows their place in line, live; `Deny and block` turns a guest away for
// good (a reload changes nothing).
import { expect, test } from '@playwright/test';
import {
  anyKnockText,
  closeAll,
  createRoom,
  expectAccessible,
  hostMessage,
  joinWithToken,
  knockAlert,
  knockAs,
  knockWithNote,
  openPeople,
  openRoom,
  placeInLine,
} from './support';

test.describe.configure({ timeout: 90_000 });

test('notes, messages and places in line reach only whom they are for', async ({ browser }) => {
  const room = await createRoom();
  const ana = await joinWithToken(browser, room, 'Ana', { owner: true });
  const leo = await joinWithToken(browser, room, 'Leo');

  // Ben knocks with a note (shown as text, never as markup); he is next in line.
  const note = 'From the design team <b>hi</b>';
  const ben = await openRoom(browser, room);
  await knockWithNote(ben.page, 'Ben', note);
  await expect(placeInLine(ben.page, 1)).toBeVisible();
  await expect(hostMessage(ben.page)).toHaveCount(0);
  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();
  await expect(ana.page.locator('#admin-alert').getByText(note, { exact: true })).toBeVisible();
  await expect(ana.page.locator('#admin-alert b')).toHaveCount(0);

  // Cy knocks without one: second in line; Ben stays first.
  const cy = await openRoom(browser, room);
  await knockAs(cy.page, 'Cy');
  await expect(placeInLine(cy.page, 2)).toBeVisible();
  await expect(placeInLine(ben.page, 1)).toBeVisible();

  // The waiting room shows Ben's note under his name.
  await expect(ana.page.getByText('2 people would like to join the call', { exact: true })).toBeVisible();
  await ana.page.getByRole('button', { name: 'View all' }).click();
  const waitingRoom = ana.page.getByRole('region', { name: 'Waiting room' });
  await expect(waitingRoom).toBeVisible();
  const benRow = waitingRoom.getByRole('listitem').filter({ hasText: 'Ben' });
  await expect(benRow.getByText(note, { exact: true })).toBeVisible();

  // A message to Ben: the composer takes focus, Enter sends; only Ben sees it.
  await waitingRoom.getByRole('button', { name: 'Message Ben' }).click();
  const textbox = waitingRoom.getByRole('textbox', { name: 'Message' });
  await expect(textbox).toBeFocused();
  await expectAccessible(ana.page, 'the waiting room with a composer open');
  await textbox.fill('Two minutes, please');
  await textbox.press('Enter');
  await expect(hostMessage(ben.page)).toContainText('Two minutes, please');
  await expect(hostMessage(ben.page)).toContainText('From Ana');
  await expectAccessible(ben.page, 'the waiting page with a message');
  await expect(waitingRoom.getByRole('textbox', { name: 'Message' })).toHaveCount(0);
  await expect(waitingRoom.getByRole('status')).toHaveText('Message sent to Ben.');
  await expect(waitingRoom.getByRole('button', { name: 'Message Ben' })).toBeFocused();

  // Escape closes a composer (and only it: the panel stays open), focus back on its button.
  await waitingRoom.getByRole('button', { name: 'Message Cy' }).click();
  await expect(waitingRoom.getByRole('textbox', { name: 'Message' })).toBeFocused();
  await ana.page.keyboard.press('Escape');
  await expect(waitingRoom.getByRole('textbox', { name: 'Message' })).toHaveCount(0);
  await expect(waitingRoom.getByRole('button', { name: 'Message Cy' })).toBeFocused();
  await expect(waitingRoom).toBeVisible();

  // A message to everyone waiting: Ben and Cy see it.
  await waitingRoom.getByRole('button', { name: 'Message everyone waiting' }).click();
  await waitingRoom.getByRole('textbox', { name: 'Message' }).fill('Starting in a minute');
  await waitingRoom.getByRole('button', { name: 'Send' }).click();
  for (const guest of [ben, cy]) await expect(hostMessage(guest.page)).toContainText('Starting in a minute');
  await expect(hostMessage(cy.page)).not.toContainText('Two minutes');

  // Leo, in the call without admin rights, sees no alert, note, message or control of it.
  await openPeople(leo.page);
  await expect(anyKnockText(leo.page)).toHaveCount(0);
  await expect(leo.page.getByRole('region', { name: 'Waiting room' })).toHaveCount(0);
  for (const name of ['Message everyone waiting', 'Message Ben', 'Deny and block Ben', 'Enable notifications']) {
    await expect(leo.page.getByRole('button', { name })).toHaveCount(0);
  }
  for (const text of [note, 'Two minutes, please', 'Starting in a minute']) {
    await expect(leo.page.getByText(text)).toHaveCount(0);
  }

  // Ben is let in: Cy moves up to first.
  await waitingRoom.getByRole('group', { name: 'Decide for Ben' }).getByRole('button', { name: 'Allow', exact: true }).click();
  await expect(ben.page.getByRole('button', { name: 'Leave', exact: true })).toBeVisible();
  await expect(placeInLine(cy.page, 1)).toBeVisible();
  await expect(placeInLine(cy.page, 2)).toHaveCount(0);
  // The message Ben got while waiting stays in the lobby.
  await expect(ben.page.getByText('Starting in a minute')).toHaveCount(0);

  for (const person of [ana, leo, ben, cy]) expect(person.errors).toEqual([]);
  await closeAll(ana, leo, ben, cy);
});

test('Deny and block turns a guest away for good, without Knock again', async ({ browser }) => {
  const room = await createRoom();
  const ana = await joinWithToken(browser, room, 'Ana', { owner: true });
  const ben = await openRoom(browser, room);
  await knockAs(ben.page, 'Ben');
  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();

  await openPeople(ana.page);
  const waitingRoom = ana.page.getByRole('region', { name: 'Waiting room' });
  await waitingRoom.getByRole('button', { name: 'Deny and block Ben' }).click();
  await expect(knockAlert(ana.page, 'Ben')).toHaveCount(0);

  const blocked = async () => {
    await expect(ben.page.getByRole('heading', { name: 'Request denied' })).toBeVisible();
    await expect(ben.page.getByText("You can't ask to join this call again.")).toBeVisible();
    await expect(ben.page.getByRole('link', { name: 'Knock again' })).toHaveCount(0);
    await expect(ben.page.getByRole('button', { name: 'Ask to join' })).toHaveCount(0);
  };
  await blocked();
  await expectAccessible(ben.page, 'denied and blocked');
  // Coming back changes nothing.
  await ben.page.reload();
  await blocked();

  // (A new browser would be kept out too: the block also covers the address, which every
  // context here shares; server/tests/api/lobby/extras.rs covers that.)

  for (const person of [ana, ben]) expect(person.errors).toEqual([]);
  await closeAll(ana, ben);
});
