// Knocks while an admin's tab is in the background: `Enable notifications` is offered to admins
// only and asks for the permission only when clicked; with the permission granted, a knock in a
// hidden tab raises a system notification whose click brings the tab back. Headless Chromium
// draws no system notification, so an init script wraps `window.Notification` to record what
// the page creates (the real constructor still runs), records `window.focus()`, and lets the
// test hide the tab (`document.visibilityState` and a `visibilitychange` event).
import { expect, test, type Browser } from '@playwright/test';
import {
  base,
  closeAll,
  createRoom,
  createToken,
  hydrated,
  joinAs,
  joinWithToken,
  knockAlert,
  knockAs,
  knockWithNote,
  openRoom,
  type Person,
} from './support';

/** Runs in the page before its own scripts (see the top of this file). */
function recordNotifications() {
  const w = window as any;
  const Native = window.Notification;
  w.knockShown = [];
  w.knockAsked = 0;
  w.knockFocused = 0;
  class Recorded extends Native {
    constructor(title: string, options?: NotificationOptions) {
      super(title, options);
      w.knockShown.push({ title, body: options?.body ?? '', notification: this });
    }
    static get permission() {
      return Native.permission;
    }
    static requestPermission(...args: any[]) {
      w.knockAsked += 1;
      return (Native.requestPermission as any)(...args);
    }
  }
  (window as any).Notification = Recorded;
  const focus = window.focus.bind(window);
  window.focus = () => {
    w.knockFocused += 1;
    focus();
  };
  let hidden = false;
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  w.knockHide = (value: boolean) => {
    hidden = value;
    document.dispatchEvent(new Event('visibilitychange'));
  };
}

/** The owner Ana in the call, in a context that records notifications; `grant` grants the
 * notification permission first. */
async function ownerInCall(browser: Browser, room: string, grant: boolean): Promise<Person> {
  const context = await browser.newContext();
  if (grant) await context.grantPermissions(['notifications'], { origin: base() });
  await context.addInitScript(recordNotifications);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const token = await createToken(room, { is_owner: true, user_name: 'Ana' });
  await page.goto(`${base()}/${room}?t=${encodeURIComponent(token)}`);
  await hydrated(page);
  await joinAs(page, room, 'Ana');
  return { context, page, errors };
}

const shown = (person: Person) =>
  person.page.evaluate(() => (window as any).knockShown.map((n: any) => ({ title: n.title, body: n.body })));

test('Enable notifications is offered to admins only, and asks only when clicked', async ({ browser }) => {
  const room = await createRoom();
  const ana = await ownerInCall(browser, room, false);
  const enable = ana.page.getByRole('button', { name: 'Enable notifications' });
  await expect(enable).toBeVisible();
  expect(await ana.page.evaluate(() => (window as any).knockAsked), 'not asked on load').toBe(0);

  const leo = await joinWithToken(browser, room, 'Leo');
  await expect(leo.page.getByRole('button', { name: 'Enable notifications' })).toHaveCount(0);

  // The click asks (Playwright answers for the user: refused, as nothing was granted); the
  // offer goes away, since only the browser's settings could change the answer now.
  await enable.click();
  await expect.poll(() => ana.page.evaluate(() => (window as any).knockAsked)).toBe(1);
  await expect(enable).toBeHidden();
  await expect.poll(() => ana.page.evaluate(() => Notification.permission)).toBe('denied');
  await ana.page.reload();
  await hydrated(ana.page);
  await expect(ana.page.getByRole('heading', { level: 1, name: room, exact: true })).toBeVisible();
  await expect(ana.page.getByRole('button', { name: 'Enable notifications' })).toHaveCount(0);

  for (const person of [ana, leo]) expect(person.errors).toEqual([]);
  await closeAll(ana, leo);
});

test('a knock while the tab is hidden raises a notification whose click focuses the tab', async ({ browser }) => {
  const room = await createRoom();
  const ana = await ownerInCall(browser, room, true);
  // Already granted: nothing to offer.
  await expect(ana.page.getByRole('button', { name: 'Enable notifications' })).toHaveCount(0);

  // Tab visible: the alert, no notification.
  const ben = await openRoom(browser, room);
  await knockAs(ben.page, 'Ben');
  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();
  expect(await shown(ana)).toEqual([]);

  // Tab hidden: Cy's knock (with a note) raises one.
  await ana.page.evaluate(() => (window as any).knockHide(true));
  const cy = await openRoom(browser, room);
  await knockWithNote(cy.page, 'Cy', 'Here for the demo');
  await expect.poll(() => shown(ana)).toEqual([
    { title: '2 people would like to join the call', body: 'Cy: Here for the demo' },
  ]);

  // Clicking it brings the tab back.
  await ana.page.evaluate(() => (window as any).knockShown[0].notification.dispatchEvent(new Event('click')));
  await expect.poll(() => ana.page.evaluate(() => (window as any).knockFocused)).toBe(1);

  for (const person of [ana, ben, cy]) expect(person.errors).toEqual([]);
  await closeAll(ana, ben, cy);
});
