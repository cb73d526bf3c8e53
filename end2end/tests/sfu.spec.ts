// Live video through the SFU (Janus): with the room's `sfu_switchover` below the call's size,
// three participants each receive the two others' video and audio through Janus, a waiting
// guest has no media and cannot reach Janus through Knock, a removed participant stops
// receiving within 2 s and Janus then lists the two who stay, and Janus refuses whoever lacks
// its API secret. A call that grows past the switchover moves to the SFU for everyone, and back
// to the mesh when it shrinks. Needs a Janus (`scripts/with-janus.sh`, which `make e2e` uses):
// without KNOCK_JANUS_URL these tests are skipped.
import { expect, test, type Page } from '@playwright/test';
import { fakeMediaLaunchOptions } from '../playwright.config';
import {
  api,
  base,
  closeAll,
  closePeople,
  createRoom,
  expectEveryoneSeesEveryone,
  expectLiveVideo,
  joinLive,
  knockAlert,
  knockAs,
  openPeople,
  openRoom,
  participants,
  presence,
  received,
} from './support';

const JANUS_URL = process.env.KNOCK_JANUS_URL ?? '';
const JANUS_SECRET = process.env.KNOCK_JANUS_API_SECRET ?? '';

test.skip(!JANUS_URL, 'needs Janus: KNOCK_JANUS_URL is unset (run under scripts/with-janus.sh, as make e2e does)');
test.use({ launchOptions: fakeMediaLaunchOptions });
// Three encoders and decoders on two cores, and Janus, take a while to reach their stride.
test.setTimeout(180_000);
/** Through Janus, video may take longer to appear than in a mesh; everyone also hears everyone. */
const overJanus = { appearWithin: 45_000, hears: true };

/** A request to Janus's HTTP API, with its secret unless `secret` is given. */
async function janus(path: string, body: Record<string, unknown>, secret: string | null = JANUS_SECRET): Promise<any> {
  const response = await fetch(`${JANUS_URL}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ transaction: `t${Math.random()}`, ...(secret === null ? {} : { apisecret: secret }), ...body }),
  });
  return response.json();
}

/** A synchronous VideoRoom request on a fresh Janus session of the test's own. */
async function videoroom(body: Record<string, unknown>): Promise<any> {
  const session = (await janus('', { janus: 'create' })).data.id;
  const handle = (await janus(`/${session}`, { janus: 'attach', plugin: 'janus.plugin.videoroom' })).data.id;
  const answer = await janus(`/${session}/${handle}`, { janus: 'message', body });
  await janus(`/${session}`, { janus: 'destroy' });
  return answer.plugindata.data;
}

/** Who Janus lists (their display names: Knock session ids) in the room `someone` is in. */
async function janusRoomOf(someone: string): Promise<string[]> {
  const rooms = (await videoroom({ request: 'list' })).list as { room: unknown }[];
  for (const { room } of rooms) {
    const listed = ((await videoroom({ request: 'listparticipants', room })).participants ?? []) as {
      display: string;
    }[];
    const names = listed.map((p) => p.display);
    if (names.includes(someone)) return names.sort();
  }
  return [];
}

/** A room whose call moves to the SFU beyond `switchover` people. */
async function roomSwitchingOverAt(switchover: number): Promise<string> {
  const room = await createRoom();
  await api('POST', `/v1/rooms/${room}`, { properties: { sfu_switchover: switchover } });
  return room;
}

/** How the call's media flows, as `page` asks the server (daily-js' getNetworkTopology()). */
async function topologyOf(page: Page, room: string): Promise<string> {
  const answer = await page.request.post(`${base()}/api/network_topology`, { form: { room } });
  return (await answer.json()).topology;
}

test('three people see and hear each other through Janus; the lobby never reaches it; a removed one is cut off', async ({
  browser,
}) => {
  const room = await roomSwitchingOverAt(0.5);
  const ana = await joinLive(browser, room, 'Ana', { owner: true });
  const max = await joinLive(browser, room, 'Max');
  const cy = await joinLive(browser, room, 'Cy');
  expect(await topologyOf(ana.page, room)).toBe('sfu');

  await expectEveryoneSeesEveryone({ Ana: ana, Max: max, Cy: cy }, overJanus);
  // One connection publishes, one receives: no mesh.
  expect((await received(ana.page)).open).toBe(2);

  const ids = Object.fromEntries((await presence(room)).map((p) => [p.userName, p.id]));
  expect(await janusRoomOf(ids.Ana)).toEqual([ids.Ana, ids.Cy, ids.Max].sort());

  // A waiting guest: no connection, nothing from Knock about the call's media, and the SFU is
  // refused to them.
  const ben = await openRoom(browser, room, { watchPeers: true });
  await knockAs(ben.page, 'Ben');
  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();
  const offer = { description: { type: 'offer', sdp: 'v=0\r\n' } };
  const refused = await ben.page.request.post(`${base()}/api/signal`, { data: { room, to: 'sfu', messages: [offer] } });
  expect(refused.status()).toBe(403);
  expect(await topologyOf(ben.page, room)).toBe('none');
  await ben.page.waitForTimeout(1_000);
  expect(await ben.page.evaluate(() => (window as any).knockPeers.length)).toBe(0);
  const benId = (await ben.page.request.post(`${base()}/api/pre_auth`, { form: { room } }).then((r) => r.json()))
    .session_id;
  expect(await janusRoomOf(ids.Ana)).not.toContain(benId);

  // Ana removes Cy: within 2 s Cy receives nothing more, and Janus lists Ana and Max.
  await openPeople(ana.page);
  await ana.page.getByRole('button', { name: 'Remove Cy', exact: true }).click();
  const confirm = ana.page.getByRole('group', { name: 'Remove Cy from the call?' });
  await confirm.getByRole('button', { name: 'Remove', exact: true }).click();
  const removedAt = Date.now();
  await expect(participants(ana.page).getByRole('listitem').filter({ hasText: 'Cy' })).toHaveCount(0);
  await closePeople(ana.page);
  await cy.page.waitForTimeout(Math.max(0, removedAt + 2_000 - Date.now()));
  const afterTwo = await received(cy.page);
  await cy.page.waitForTimeout(1_000);
  const afterThree = await received(cy.page);
  expect(afterThree.frames, 'no frame reaches Cy 2 s after the removal').toBe(afterTwo.frames);
  await expect.poll(() => janusRoomOf(ids.Ana), { timeout: 2_000 }).toEqual([ids.Ana, ids.Max].sort());
  await expectLiveVideo(ana.page, 'Max', overJanus);
  await expectLiveVideo(max.page, 'Ana', overJanus);

  // Janus itself refuses anyone without its API secret.
  for (const secret of [null, 'not-the-secret']) {
    const answer = await janus('', { janus: 'create' }, secret);
    expect(answer.janus).toBe('error');
    expect(answer.error.code).toBe(403);
  }

  for (const person of [ana, max]) expect(person.errors).toEqual([]);
  await closeAll(ana, max, cy, ben);
});

test('the call moves to the SFU when a third person joins, live for everyone, and back when they leave', async ({
  browser,
}) => {
  const room = await roomSwitchingOverAt(2);
  const ana = await joinLive(browser, room, 'Ana', { owner: true });
  const max = await joinLive(browser, room, 'Max');
  await expectEveryoneSeesEveryone({ Ana: ana, Max: max }, overJanus);
  expect(await topologyOf(ana.page, room)).toBe('peer');
  const ids = Object.fromEntries((await presence(room)).map((p) => [p.userName, p.id]));
  expect(await janusRoomOf(ids.Ana)).toEqual([]);

  const cy = await joinLive(browser, room, 'Cy');
  await expect.poll(() => topologyOf(ana.page, room)).toBe('sfu');
  await expectEveryoneSeesEveryone({ Ana: ana, Max: max, Cy: cy }, overJanus);
  await expect
    .poll(async () => janusRoomOf(ids.Ana), { timeout: 30_000 })
    .toEqual([ids.Ana, ids.Max, (await presence(room)).find((p) => p.userName === 'Cy')!.id].sort());

  await cy.page.getByRole('button', { name: 'Leave', exact: true }).click();
  await expect.poll(() => topologyOf(ana.page, room)).toBe('peer');
  await expectEveryoneSeesEveryone({ Ana: ana, Max: max }, overJanus);

  for (const person of [ana, max, cy]) expect(person.errors).toEqual([]);
  await closeAll(ana, max, cy);
});
