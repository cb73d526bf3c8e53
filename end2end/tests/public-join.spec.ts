// Beside journey 1: a tokenless visitor of a public room joins directly under the name they typed.
import { expect, test } from '@playwright/test';
import { closeAll, createRoom, expectInCall, expectListed, joinAs, joinWithToken, openRoom } from './support';

test('a guest in a public room joins with the name they typed and sees who is there', async ({ browser }) => {
  const room = await createRoom({ privacy: 'public', knocking: false });
  const ana = await joinWithToken(browser, room, 'Ana', { owner: true });

  const pia = await openRoom(browser, room);
  await joinAs(pia.page, room, 'Pia'); // prejoin offers Join; the own-name check is soft
  await expectListed(ana.page, 'Pia', false);
  await expectListed(pia.page, 'Ana', true);

  // After a reload (server-rendered state) the name and the others are there.
  await pia.page.reload();
  await expectInCall(pia.page, room, 'Pia');
  await expectListed(pia.page, 'Ana', true);

  for (const person of [ana, pia]) expect(person.errors).toEqual([]);
  await closeAll(ana, pia);
});
