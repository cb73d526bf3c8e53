// The custom-UI example (/custom/<room>), built only on the Rust call client: a guest knocks,
// the owner admits one knocker and turns another away.
import { expect, test, type BrowserContext } from '@playwright/test';
import { base, createRoom, createToken, hydrated } from './support';

test('a page built only on the call client knocks, admits and denies', async ({ browser }) => {
  const room = await createRoom({ prefix: 'custom' });
  const token = await createToken(room, { is_owner: true, user_name: 'Ana' });
  const people: BrowserContext[] = [];

  const open = async (path: string) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    people.push(context);
    await page.goto(`${base()}${path}`);
    await hydrated(page);
    return page;
  };

  const owner = await open(`/custom/${room}?t=${token}`);
  await expect(owner).toHaveURL(`${base()}/custom/${room}`);
  await owner.getByLabel('Name').fill('Ana');
  await owner.getByRole('button', { name: 'Enter' }).click();
  await expect(owner.getByTestId('status')).toContainText('InCall');

  const ben = await open(`/custom/${room}`);
  await expect(ben.getByTestId('status')).toContainText('access Lobby');
  await ben.getByLabel('Name').fill('Ben');
  await ben.getByRole('button', { name: 'Enter' }).click();
  await expect(ben.getByTestId('status')).toContainText('Waiting');

  const cy = await open(`/custom/${room}`);
  await cy.getByLabel('Name').fill('Cy');
  await cy.getByRole('button', { name: 'Enter' }).click();
  await expect(cy.getByTestId('status')).toContainText('Waiting');

  const knocks = owner.getByRole('list').first();
  await expect(knocks.getByRole('listitem')).toHaveCount(2);
  await knocks.getByRole('listitem').filter({ hasText: 'Ben' }).getByRole('button', { name: 'Admit' }).click();
  await knocks.getByRole('listitem').filter({ hasText: 'Cy' }).getByRole('button', { name: 'Turn away' }).click();

  await expect(ben.getByTestId('status')).toContainText('InCall');
  await expect(cy.getByTestId('status')).toContainText('Join request rejected');
  await expect(owner.getByRole('list').nth(1)).toContainText('Ben');

  for (const context of people) await context.close();
});
