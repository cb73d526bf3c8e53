// Live video: an owner and an admitted guest see and hear each other over WebRTC, a waiting
// guest gets nothing and is refused signaling, three people connect in a full mesh, two guests
// let in together (`Allow all`) see each other, a camera turned off shows the name tile, and
// whoever leaves disappears from the others' tiles. (`make stress-mesh` repeats the three- and
// four-person journeys with joins in every order.)
// Chromium runs with its fake camera and microphone (a moving test pattern and a beep).
import { expect, test, type Page } from '@playwright/test';
import { fakeMediaLaunchOptions } from '../playwright.config';
import {
  api,
  base,
  closeAll,
  createRoom,
  createToken,
  expectInCall,
  expectListed,
  joinAs,
  knockAlert,
  knockAs,
  openRoom,
  type Person,
} from './support';

test.use({ launchOptions: fakeMediaLaunchOptions });
// Three encoders and decoders on two cores take a while to reach their stride.
test.setTimeout(120_000);

/** The tile of another participant, by name. */
const tileOf = (page: Page, name: string) =>
  page.locator('figure.tile:not([data-you])').filter({ hasText: name });

/** Frames decoded so far by the video in `name`'s tile, and its width. */
async function videoOf(page: Page, name: string): Promise<{ width: number; frames: number }> {
  return tileOf(page, name)
    .locator('video')
    .evaluate((video: HTMLVideoElement) => ({
      width: video.videoWidth,
      frames: video.getVideoPlaybackQuality().totalVideoFrames,
    }));
}

/** Audio packets received so far over every connection of the page. */
async function audioPacketsReceived(page: Page): Promise<number> {
  return page.evaluate(async () => {
    let packets = 0;
    for (const peer of (window as any).knockPeers as RTCPeerConnection[]) {
      if (peer.connectionState === 'closed') continue;
      (await peer.getStats()).forEach((report: any) => {
        if (report.type === 'inbound-rtp' && report.kind === 'audio') packets += report.packetsReceived;
      });
    }
    return packets;
  });
}

/** The page's connections, for a failure message. */
async function connections(page: Page): Promise<string> {
  return page.evaluate(() =>
    JSON.stringify(
      ((window as any).knockPeers as RTCPeerConnection[]).map((pc) => ({
        connection: pc.connectionState,
        signaling: pc.signalingState,
        ice: pc.iceConnectionState,
        remoteCandidates: (pc.remoteDescription?.sdp.match(/a=candidate/g) ?? []).length,
        receivers: pc.getReceivers().map((r) => `${r.track.kind}:${r.track.readyState}:${r.track.muted ? 'muted' : 'live'}`),
      })),
    ),
  );
}

/** `page` shows `name`'s live video, with frames still arriving. */
async function expectLiveVideo(page: Page, name: string): Promise<void> {
  const tile = tileOf(page, name);
  await expect(tile).toHaveCount(1);
  await expect(tile.locator('video')).toBeVisible({ timeout: 30_000 });
  try {
    await expect.poll(async () => (await videoOf(page, name)).width, { timeout: 45_000 }).toBeGreaterThan(0);
  } catch (error) {
    throw new Error(`no video from ${name}; connections: ${await connections(page)}\n${error}`);
  }
  // Frames keep coming: more decoded one second than the second before. Polled, because a camera
  // turned back on brings a new track whose count starts again from zero.
  await expect
    .poll(
      async () => {
        const before = (await videoOf(page, name)).frames;
        await page.waitForTimeout(1_000);
        return (await videoOf(page, name)).frames - before;
      },
      { message: `frames from ${name} keep coming`, timeout: 15_000 },
    )
    .toBeGreaterThan(0);
}

/** `page` keeps receiving audio packets. */
async function expectLiveAudio(page: Page): Promise<void> {
  await expect.poll(() => audioPacketsReceived(page), { timeout: 30_000 }).toBeGreaterThan(0);
  const before = await audioPacketsReceived(page);
  await page.waitForTimeout(2_000);
  expect(await audioPacketsReceived(page), 'audio packets keep coming').toBeGreaterThan(before);
}

/** The participants of the call, as the REST API lists them. */
async function presence(room: string): Promise<{ id: string; userName: string }[]> {
  const answer = await api<{ data: { id: string; userName: string }[] }>('GET', `/v1/rooms/${room}/presence`);
  return answer.data;
}

async function joinOwner(browser: any, room: string, name: string): Promise<Person> {
  const person = await openRoom(browser, room, {
    token: await createToken(room, { is_owner: true, user_name: name }),
    watchPeers: true,
  });
  await expect(person.page.getByRole('button', { name: 'Camera' })).toHaveAttribute('aria-pressed', 'true');
  await joinAs(person.page, room, name);
  return person;
}

test('an owner and an admitted guest see and hear each other; a waiting guest gets nothing', async ({
  browser,
}) => {
  const room = await createRoom();
  const ana = await joinOwner(browser, room, 'Ana');

  const ben = await openRoom(browser, room, { watchPeers: true });
  // The prejoin page previews the camera, mirrored, with both devices on.
  const preview = ben.page.getByLabel('Your camera preview');
  await expect(preview).toBeVisible();
  await expect.poll(() => preview.evaluate((v: HTMLVideoElement) => v.videoWidth)).toBeGreaterThan(0);
  await expect(ben.page.getByRole('button', { name: 'Microphone' })).toHaveAttribute('aria-pressed', 'true');
  await knockAs(ben.page, 'Ben');
  await expect(knockAlert(ana.page, 'Ben')).toBeVisible();

  // Waiting: no connection exists, and the server refuses Ben's signaling outright.
  const [anaId] = (await presence(room)).map((p) => p.id);
  const offer = { description: { type: 'offer', sdp: 'v=0\r\n' } };
  const refused = await ben.page.request.post(`${base()}/api/signal`, {
    data: { room, to: anaId, messages: [offer] },
  });
  expect(refused.status()).toBe(403);
  for (const [name, form] of [
    ['update_media', { room, video: 'true', audio: 'true' }],
    ['ice_servers', { room }],
  ] as const) {
    const answer = await ben.page.request.post(`${base()}/api/${name}`, { form });
    expect(answer.status(), name).toBe(403);
  }
  await ben.page.waitForTimeout(1_000);
  expect(await ben.page.evaluate(() => (window as any).knockPeers.length)).toBe(0);
  await expect(tileOf(ana.page, 'Ben')).toHaveCount(0);

  await ana.page.getByRole('button', { name: 'Allow', exact: true }).click();
  await expectInCall(ben.page, room, 'Ben');
  await expectLiveVideo(ana.page, 'Ben');
  await expectLiveVideo(ben.page, 'Ana');
  await expectLiveAudio(ana.page);
  await expectLiveAudio(ben.page);
  // Your own tile is mirrored; the others' are not.
  await expect(ana.page.locator('figure.tile[data-you] video')).toHaveClass(/mirrored/);
  await expect(tileOf(ana.page, 'Ben').locator('video')).not.toHaveClass(/mirrored/);

  for (const person of [ana, ben]) expect(person.errors).toEqual([]);
  await closeAll(ana, ben);
});

test('three people connect in a full mesh; a camera turned off shows the name; whoever leaves disappears', async ({
  browser,
}) => {
  const room = await createRoom();
  const ana = await joinOwner(browser, room, 'Ana');
  const max = await openRoom(browser, room, {
    token: await createToken(room, { user_name: 'Max' }),
    watchPeers: true,
  });
  await joinAs(max.page, room, 'Max');
  const cy = await openRoom(browser, room, {
    token: await createToken(room, { user_name: 'Cy' }),
    watchPeers: true,
  });
  await joinAs(cy.page, room, 'Cy');

  const people = { Ana: ana, Max: max, Cy: cy };
  for (const [name, person] of Object.entries(people)) {
    for (const other of Object.keys(people).filter((n) => n !== name)) {
      await expectLiveVideo(person.page, other);
    }
  }

  // Cy turns her camera off: the others see her name instead, and her muted state follows.
  await cy.page.getByRole('button', { name: 'Camera' }).click();
  await expect(cy.page.getByRole('button', { name: 'Camera' })).toHaveAttribute('aria-pressed', 'false');
  for (const person of [ana, max]) {
    const tile = tileOf(person.page, 'Cy');
    await expect(tile).toHaveClass(/camera-off/);
    await expect(tile.locator('video')).toBeHidden();
    await expect(tile.locator('.tile-name')).toHaveText('Cy');
  }
  await cy.page.getByRole('button', { name: 'Microphone' }).click();
  await expect(tileOf(ana.page, 'Cy')).toContainText('Muted');
  // And back on: live video again.
  await cy.page.getByRole('button', { name: 'Camera' }).click();
  await expectLiveVideo(ana.page, 'Cy');

  // Max leaves: gone from both other pages' tiles (and lists).
  await max.page.getByRole('button', { name: 'Leave', exact: true }).click();
  for (const person of [ana, cy]) await expect(tileOf(person.page, 'Max')).toHaveCount(0);
  await expectListed(ana.page, 'Cy', false);

  for (const person of [ana, max, cy]) expect(person.errors).toEqual([]);
  await closeAll(ana, max, cy);
});

test('two guests let in together with Allow all see each other and the owner', async ({ browser }) => {
  const room = await createRoom();
  const ana = await joinOwner(browser, room, 'Ana');
  const guests: Person[] = [];
  for (const name of ['Ben', 'Cy']) {
    const guest = await openRoom(browser, room, { watchPeers: true });
    await knockAs(guest.page, name);
    guests.push(guest);
  }
  await expect(ana.page.getByText('2 people would like to join the call', { exact: true })).toBeVisible();
  await ana.page.getByRole('button', { name: 'View all' }).click();
  await ana.page.getByRole('region', { name: 'Waiting room' }).getByRole('button', { name: 'Allow all' }).click();
  const [ben, cy] = guests;
  await expectInCall(ben.page, room, 'Ben');
  await expectInCall(cy.page, room, 'Cy');

  const people = { Ana: ana, Ben: ben, Cy: cy };
  for (const [name, person] of Object.entries(people)) {
    for (const other of Object.keys(people).filter((n) => n !== name)) {
      await expectLiveVideo(person.page, other);
    }
  }
  for (const person of [ana, ben, cy]) expect(person.errors).toEqual([]);
  await closeAll(ana, ben, cy);
});
