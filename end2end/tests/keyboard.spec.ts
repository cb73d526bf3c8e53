// One journey with the keyboard only (Tab, Enter, Escape and typing): a guest knocks, the owner
// joins, focus moves to the knock alert when it appears, the owner admits from it, opens the
// people panel, closes it with Escape and leaves. Every control reached shows a focus ring.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { closeAll, createRoom, openRoom, openWithToken, participants } from './support';

/** Presses Tab until `target` has focus (at most `limit` times), then checks its focus ring. */
async function tabTo(page: Page, target: Locator, limit = 12): Promise<void> {
  for (let presses = 0; presses < limit; presses += 1) {
    if (await target.evaluate((element) => element === document.activeElement)) break;
    await page.keyboard.press('Tab');
  }
  await expect(target).toBeFocused();
  await expectFocusRing(target);
}

/** The focused control draws a visible outline. */
async function expectFocusRing(target: Locator): Promise<void> {
  const outline = await target.evaluate((element) => {
    const style = getComputedStyle(element);
    return { style: style.outlineStyle, width: parseFloat(style.outlineWidth) };
  });
  expect(outline.style, 'a focus ring').not.toBe('none');
  expect(outline.width, 'a focus ring at least 2px wide').toBeGreaterThanOrEqual(2);
}

test('knock, admit from the alert, open the people panel and leave, by keyboard only', async ({ browser }) => {
  const room = await createRoom();
  const ana = await openWithToken(browser, room, 'Ana', { owner: true });
  const owner = ana.page;
  await tabTo(owner, owner.getByRole('button', { name: 'Join', exact: true }));
  await owner.keyboard.press('Enter');
  await expect(owner.getByRole('heading', { level: 1, name: room, exact: true })).toBeVisible();

  const ben = await openRoom(browser, room);
  const guest = ben.page;
  await tabTo(guest, guest.getByRole('textbox', { name: 'Your name' }));
  await guest.keyboard.type('Ben');
  await tabTo(guest, guest.getByRole('button', { name: 'Ask to join', exact: true }));
  await guest.keyboard.press('Enter');
  await expect(guest.getByRole('heading', { name: 'Waiting to be let in' })).toBeVisible();

  // The alert takes focus as it appears: one Tab reaches Allow.
  const alert = owner.locator('#admin-alert');
  await expect(alert).toContainText('Ben would like to join the call');
  await expect(alert).toBeFocused();
  await owner.keyboard.press('Tab');
  const allow = alert.getByRole('button', { name: 'Allow', exact: true });
  await expect(allow).toBeFocused();
  await expectFocusRing(allow);
  await owner.keyboard.press('Enter');
  await expect(guest.getByRole('button', { name: 'Leave', exact: true })).toBeVisible();
  await expect(alert).toHaveCount(0);

  // Focus lands on the tray's People rather than nowhere; it opens the panel and moves focus
  // into it; Escape closes it and gives focus back to People.
  const people = owner.getByRole('button', { name: /^People\b/ });
  await expect(people).toBeFocused();
  await expectFocusRing(people);
  await owner.keyboard.press('Enter');
  await expect(people).toHaveAttribute('aria-expanded', 'true');
  await expect(owner.locator('#people-panel')).toBeFocused();
  await expect(participants(owner).getByRole('listitem')).toHaveCount(2);
  await expect(participants(owner)).toContainText('Ben');
  await tabTo(owner, owner.getByRole('button', { name: 'Close people panel' }));
  await owner.keyboard.press('Escape');
  await expect(owner.getByRole('region', { name: 'People' })).toBeHidden();
  await expect(people).toHaveAttribute('aria-expanded', 'false');
  await expect(people).toBeFocused();

  // Leave is the next control.
  await owner.keyboard.press('Tab');
  const leave = owner.getByRole('button', { name: 'Leave', exact: true });
  await expect(leave).toBeFocused();
  await expectFocusRing(leave);
  await owner.keyboard.press('Enter');
  await expect(owner.getByRole('heading', { name: 'Ready to join?' })).toBeVisible();

  for (const person of [ana, ben]) expect(person.errors).toEqual([]);
  await closeAll(ana, ben);
});
