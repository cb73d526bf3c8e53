// The dashboard: sign in with the API key, create / edit / delete a room, mint an owner token
// whose link joins directly, and revoke it.
import { expect, test } from '@playwright/test';
import { api, base, expectListed, hydrated, joinAs, uniqueRoom } from './support';

test('the dashboard manages rooms and tokens', async ({ browser }) => {
  const admin = await browser.newContext();
  const page = await admin.newPage();
  await page.goto(base() + '/dashboard');
  await hydrated(page);

  // A wrong key is refused with a message.
  await page.getByLabel('API key').fill('not-the-key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'API key is not right' })).toBeVisible();

  await page.getByLabel('API key').fill(process.env.KNOCK_API_KEY!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Create room' })).toBeVisible();

  const form = page.locator('section', { has: page.getByRole('heading', { name: 'Create a room' }) });

  // A validation error is shown at its field, and nothing is created.
  await form.getByLabel('Name', { exact: true }).fill('bad name');
  await form.getByRole('button', { name: 'Create room' }).click();
  await expect(page.locator('#room-name-error')).toContainText('name must be');

  // Create a private room with knocking; the REST API sees it.
  const room = uniqueRoom('dash');
  await form.getByLabel('Name', { exact: true }).fill(room);
  await form.getByLabel('Privacy').selectOption('private');
  await form.getByLabel('Knocking').check();
  await form.getByLabel('Maximum participants (optional)').fill('12');
  await form.getByRole('button', { name: 'Create room' }).click();
  const row = page.locator(`tr[data-room="${room}"]`);
  await expect(row).toBeVisible();
  const created = await api('GET', `/v1/rooms/${room}`);
  expect(created.privacy).toBe('private');
  expect(created.config).toEqual({ enable_knocking: true, max_participants: 12 });

  // Edit it: knocking off; what the edit form does not show (the maximum) is kept.
  await row.getByText('Edit').click();
  await row.getByLabel('Knocking').uncheck();
  await row.getByRole('button', { name: 'Save changes' }).click();
  await expect(async () => {
    const edited = await api('GET', `/v1/rooms/${room}`);
    expect(edited.config).toEqual({ max_participants: 12 });
    expect(edited.privacy).toBe('private');
  }).toPass();

  // Mint an owner token; its link joins directly as owner in another browser.
  await row.getByText('Tokens').click();
  await row.getByLabel('Owner').check();
  await row.getByLabel('User name').fill('Dana');
  await row.getByRole('button', { name: 'Create token' }).click();
  const link = await row.getByTestId('join-link').inputValue();
  expect(link).toMatch(new RegExp(`^${base()}/${room}\\?t=`));
  await expect(row.getByText('Owner, named Dana')).toBeVisible();

  const owner = await browser.newContext();
  const ownerPage = await owner.newPage();
  await ownerPage.goto(link);
  await hydrated(ownerPage);
  await joinAs(ownerPage, room, 'Dana');
  await expectListed(ownerPage, 'Dana', true);
  await expect(row.getByTestId('in-call')).toHaveText('1');

  // Revoke it: the link no longer works.
  await row.getByRole('button', { name: 'Revoke token' }).click();
  await expect(row.getByText('Revoked: this link no longer opens the room.')).toBeVisible();
  const again = await browser.newContext();
  const againPage = await again.newPage();
  await againPage.goto(link);
  await expect(againPage.getByRole('heading', { name: 'This meeting link cannot be used' })).toBeVisible();

  // Delete the room (with a confirmation step).
  await row.getByText('Delete', { exact: true }).click();
  await row.getByRole('button', { name: `Delete ${room}` }).click();
  await expect(row).toHaveCount(0);
  const gone = await fetch(`${base()}/v1/rooms/${room}`, {
    headers: { Authorization: `Bearer ${process.env.KNOCK_API_KEY}` },
  });
  expect(gone.status).toBe(404);

  for (const context of [admin, owner, again]) await context.close();
});
