// Journey: two Knock servers on one PostgreSQL database, as behind a load balancer without sticky
// sessions. The guest's browser talks to server A only, the owner's to server B only: the knock
// reaches the owner, the owner's answer reaches the guest, and each then sees the other in the
// call. Needs PostgreSQL (`make test` runs Playwright with a throwaway cluster).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

import { expect, test } from '@playwright/test';

import { type KnockServer, startKnock } from '../knock-server';
import { api, expectInCall, expectListed, joinAs, knockAlert, knockAs, openRoom } from './support';

const postgres = process.env.KNOCK_TEST_POSTGRES;

test.describe('two servers on one database', () => {
  test.skip(!postgres, 'needs PostgreSQL: make test runs Playwright with KNOCK_TEST_POSTGRES set');

  const key = 'e2e-' + randomBytes(32).toString('hex');
  let a: KnockServer | undefined;
  let b: KnockServer | undefined;

  test.beforeAll(async () => {
    const name = `knock_e2e_${randomBytes(6).toString('hex')}`;
    execFileSync('psql', [postgres!, '-q', '-c', `CREATE DATABASE ${name}`]);
    const database = postgres!.replace(/\/[^/]*$/, `/${name}`);
    a = await startKnock(database, key);
    b = await startKnock(database, key);
  });

  test.afterAll(async () => {
    await a?.stop();
    await b?.stop();
  });

  test('a guest knocking on server A is let in by the owner on server B', async ({ browser }) => {
    const onA = { url: a!.url, key };
    const onB = { url: b!.url, key };
    const room = `several-${Date.now()}`;
    await api('POST', '/v1/rooms', { name: room, privacy: 'private', properties: { enable_knocking: true } }, onA);
    const { token } = await api<{ token: string }>(
      'POST',
      '/v1/meeting-tokens',
      { properties: { room_name: room, is_owner: true, user_name: 'Ana' } },
      onB,
    );

    const ana = await openRoom(browser, room, { token, server: b!.url });
    await joinAs(ana.page, room, 'Ana');
    const ben = await openRoom(browser, room, { server: a!.url });
    await knockAs(ben.page, 'Ben');

    await expect(knockAlert(ana.page, 'Ben')).toBeVisible();
    await ana.page.getByRole('button', { name: 'Allow', exact: true }).click();

    await expectInCall(ben.page, room, 'Ben');
    await expectListed(ben.page, 'Ana', true);
    await expectListed(ana.page, 'Ben', false);
    // Each browser only ever talked to its own server.
    expect(new URL(ben.page.url()).origin).toBe(a!.url);
    expect(new URL(ana.page.url()).origin).toBe(b!.url);

    for (const person of [ana, ben]) expect(person.errors).toEqual([]);
    await ana.context.close();
    await ben.context.close();
  });
});
