// The call's layout at a laptop's size (1280x800) and a small phone's (375x667): the video
// covers most of the window, the tray's controls are on screen without scrolling, nothing
// scrolls sideways, the knock alert does not move the layout (nor moves at all for those who ask
// for reduced motion), and the grid follows the window.
import { expect, test, type Page } from '@playwright/test';
import {
  closeAll,
  createRoom,
  joinAs,
  joinWithToken,
  knockAlert,
  knockAs,
  openPeople,
  openRoom,
  sizes,
} from './support';

type Box = { x: number; y: number; width: number; height: number };

/** The bounding boxes of the call's video tiles, in page order. */
async function tiles(page: Page): Promise<Box[]> {
  return page.locator('figure.tile').evaluateAll((figures) =>
    figures.map((figure) => {
      const { x, y, width, height } = figure.getBoundingClientRect();
      return { x, y, width, height };
    }),
  );
}

const area = (boxes: Box[]) => boxes.reduce((sum, box) => sum + box.width * box.height, 0);

/** Every tray control is inside the window, and the page scrolls neither way (polled: a page
 * that has just entered the call may still be drawing its tray). */
async function expectTrayOnScreen(page: Page): Promise<void> {
  const tray = page.getByRole('region', { name: 'Call controls' });
  const names = [/^Camera/, /^Microphone/, /^People/, /^Leave$/];
  for (const name of names) await expect(tray.getByRole('button', { name })).toBeVisible();
  const problems = async () => {
    const { width, height } = page.viewportSize()!;
    const found: string[] = [];
    for (const name of names) {
      const box = (await tray.getByRole('button', { name }).boundingBox())!;
      if (box.x < 0 || box.y < 0 || box.x + box.width > width || box.y + box.height > height) {
        found.push(`${name} at ${JSON.stringify(box)} is not inside ${width}x${height}`);
      }
    }
    const scroll = await page.evaluate(() => ({
      width: document.scrollingElement!.scrollWidth,
      height: document.scrollingElement!.scrollHeight,
    }));
    if (scroll.width > width) found.push(`the page scrolls sideways (${scroll.width} > ${width})`);
    if (scroll.height > height) found.push(`the page scrolls down (${scroll.height} > ${height})`);
    return found;
  };
  await expect.poll(problems).toEqual([]);
}

for (const [size, viewport] of Object.entries(sizes)) {
  test(`the call fills a ${viewport.width}x${viewport.height} window, one person and two (${size})`, async ({
    browser,
  }) => {
    const windowArea = viewport.width * viewport.height;
    const room = await createRoom();
    const ana = await joinWithToken(browser, room, 'Ana', { owner: true, viewport });

    // One person: their tile fills the stage, at least 60% of the whole window.
    await expect.poll(async () => area(await tiles(ana.page)) / windowArea).toBeGreaterThanOrEqual(0.6);
    await expectTrayOnScreen(ana.page);

    // A knock: the alert is an overlay, so the tile neither moves nor shrinks.
    const before = await tiles(ana.page);
    const ben = await openRoom(browser, room, { viewport });
    await knockAs(ben.page, 'Ben');
    await expect(knockAlert(ana.page, 'Ben')).toBeVisible();
    expect(await tiles(ana.page)).toEqual(before);
    await expectTrayOnScreen(ana.page);
    // It slides in, unless the visitor asked for reduced motion.
    const animation = () => ana.page.locator('.admin-alert').evaluate((alert) => getComputedStyle(alert).animationName);
    expect(await animation()).not.toBe('none');
    await ana.page.emulateMedia({ reducedMotion: 'reduce' });
    expect(await animation()).toBe('none');

    // Two people: side by side on the laptop, one above the other on the phone; together at
    // least 35% of the window (16:9 tiles cannot fill a stage of another shape).
    await ana.page.getByRole('button', { name: 'Allow', exact: true }).click();
    await expect(ana.page.locator('figure.tile')).toHaveCount(2);
    await expect.poll(async () => area(await tiles(ana.page)) / windowArea).toBeGreaterThanOrEqual(0.35);
    const [mine, theirs] = await tiles(ana.page);
    if (size === 'desktop') {
      expect(Math.abs(mine.y - theirs.y), 'side by side').toBeLessThan(1);
      expect(mine.width, 'each tile takes about half the width').toBeGreaterThan(viewport.width * 0.45);
    } else {
      expect(theirs.y, 'one above the other').toBeGreaterThanOrEqual(mine.y + mine.height);
      expect(mine.width, 'each tile takes the whole width').toBeGreaterThan(viewport.width * 0.9);
    }
    for (const tile of [mine, theirs]) expect(tile.width / tile.height).toBeCloseTo(16 / 9, 1);
    await expectTrayOnScreen(ana.page);
    await expectTrayOnScreen(ben.page);

    // The people panel (a sheet on the phone) keeps the tray on screen and nothing sideways.
    await openPeople(ana.page);
    await expectTrayOnScreen(ana.page);

    expect(ana.errors).toEqual([]);
    await closeAll(ana, ben);
  });
}

test('the grid is laid out again when the window changes shape', async ({ browser }) => {
  const room = await createRoom({ privacy: 'public', knocking: false });
  const ana = await joinWithToken(browser, room, 'Ana', { owner: true, viewport: sizes.desktop });
  const pia = await openRoom(browser, room);
  await joinAs(pia.page, room, 'Pia');
  await expect(ana.page.locator('figure.tile')).toHaveCount(2);

  const sideBySide = async () => {
    const [a, b] = await tiles(ana.page);
    return Math.abs(a.y - b.y) < 1 && b.x > a.x;
  };
  await expect.poll(sideBySide).toBe(true);
  // A tall window: the two tiles stack, each as wide as the stage allows.
  await ana.page.setViewportSize({ width: 600, height: 900 });
  await expect.poll(sideBySide).toBe(false);
  await expect.poll(async () => (await tiles(ana.page))[0].width).toBeGreaterThan(550);
  // Wide again: side by side again.
  await ana.page.setViewportSize(sizes.desktop);
  await expect.poll(sideBySide).toBe(true);

  await closeAll(ana, pia);
});
