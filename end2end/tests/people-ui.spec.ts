// Daily's `enable_people_ui: false`: guests in the call are not offered the people panel; an
// owner still is (the waiting room lives there).
import { expect, test } from '@playwright/test';
import { api, closeAll, expectPrejoin, hydrated, openRoom, openWithToken, peopleButton, uniqueRoom } from './support';

test('with enable_people_ui false a guest has no People control, the owner keeps it', async ({ browser }) => {
  const room = uniqueRoom('nopeople');
  await api('POST', '/v1/rooms', { name: room, privacy: 'public', properties: { enable_people_ui: false } });

  const ana = await openWithToken(browser, room, 'Ana', { owner: true });
  await expectPrejoin(ana.page, 'Join');
  await ana.page.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(ana.page.getByRole('button', { name: 'Leave', exact: true })).toBeVisible();
  await hydrated(ana.page);
  await expect(peopleButton(ana.page)).toBeVisible();

  const pia = await openRoom(browser, room);
  await expectPrejoin(pia.page, 'Join');
  await pia.page.getByRole('textbox', { name: 'Your name' }).fill('Pia');
  await pia.page.getByRole('button', { name: 'Join', exact: true }).click();
  await expect(pia.page.getByRole('button', { name: 'Leave', exact: true })).toBeVisible();
  await hydrated(pia.page);
  await expect(peopleButton(pia.page)).toBeHidden();
  await expect(pia.page.getByRole('list', { name: 'Participants' })).toBeHidden();

  for (const person of [ana, pia]) expect(person.errors).toEqual([]);
  await closeAll(ana, pia);
});
