// The home page: rendered on the server (readable without JavaScript) and then hydrated.
import { expect, test } from '@playwright/test';

const base = () => process.env.KNOCK_URL!;

test('the home page is complete without JavaScript', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(base() + '/');
  await expect(page.getByRole('heading', { level: 1, name: 'Knock' })).toBeVisible();
  await expect(page.getByTestId('create-room')).toContainText(`${base()}/v1/rooms`);
  await expect(page.getByTestId('create-room')).toContainText('"name": "my-room"');
  await expect(page.locator('body')).not.toHaveAttribute('data-hydrated', 'true');
  await context.close();
});

test('the home page hydrates and the example follows the room name', async ({ page }) => {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));

  await page.goto(base() + '/');
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await page.getByLabel('Room name').fill('standup');
  await expect(page.getByTestId('create-room')).toContainText('"name": "standup"');
  await expect(page.getByTestId('create-token')).toContainText('"room_name": "standup"');
  await expect(page.getByTestId('room-link')).toHaveAttribute('href', `${base()}/standup`);
  expect(errors).toEqual([]);
});
