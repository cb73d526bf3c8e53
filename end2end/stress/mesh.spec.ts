// Stress of the WebRTC mesh (`make stress-mesh`): the three- and four-person journeys, run again
// and again, with the guests let in in every order: one at a time (each admitted as soon as they
// knock), all at once (`Allow all`), and one leaving and knocking again once everyone is
// connected. Every run must converge: every page shows live video from every other (width > 0,
// decoded frames rising). A run that does not prints each page's signaling log and connections.
import { expect, test, type Page } from '@playwright/test';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { fakeMediaLaunchOptions } from '../playwright.config';
import {
  closeAll,
  createRoom,
  createToken,
  expectInCall,
  joinAs,
  knockAlert,
  knockAs,
  openRoom,
  type Person,
} from '../tests/support';

test.use({ launchOptions: fakeMediaLaunchOptions });

const RUNS = Number(process.env.STRESS_RUNS ?? 20);
const SIZES = (process.env.STRESS_SIZES ?? '3,4').split(',').map(Number);
const ORDERS = ['one at a time', 'all at once', 'leave and come back'] as const;
type Order = (typeof ORDERS)[number];
/** The orders to run (all unless STRESS_ORDERS names some, comma-separated). */
const ORDERS_RUN = ORDERS.filter((order) => !process.env.STRESS_ORDERS || process.env.STRESS_ORDERS.split(',').includes(order));
const NAMES = ['Ana', 'Ben', 'Cy', 'Dee'];
/** How long a run may take to converge after its last admission. */
const CONVERGE_MS = 60_000;

/** One page in a run: who, their browser, and their mesh's signaling log. */
type Member = Person & { name: string; log: string[] };

/** One run's outcome: its connect time in seconds, or null when it did not converge. */
type Result = { size: number; order: Order; seconds: number | null };
/** Where the outcomes go, one JSON line per run (the config names a new file per invocation):
 * a failed test restarts the worker, so they cannot stay in memory. */
const RESULTS = process.env.STRESS_RESULTS!;
const record = (result: Result) => appendFileSync(RESULTS, JSON.stringify(result) + '\n');

async function open(browser: any, room: string, name: string, token?: string): Promise<Member> {
  const person = await openRoom(browser, room, { token, watchPeers: true });
  const log: string[] = [];
  person.page.on('console', (message) => {
    const text = message.text();
    if (text.startsWith('knock-mesh ')) log.push(text.slice('knock-mesh '.length));
  });
  return { ...person, name, log };
}

/** Live remote videos on `page`, by the name in their tile, with their decoded frames. */
async function remoteVideos(page: Page): Promise<Record<string, number>> {
  return page.evaluate(() => {
    const live: Record<string, number> = {};
    for (const tile of document.querySelectorAll<HTMLElement>('figure.tile:not([data-you])')) {
      const video = tile.querySelector('video');
      const name = tile.querySelector('figcaption')?.firstChild?.textContent?.trim() ?? '?';
      if (video && !video.hidden && video.videoWidth > 0) {
        live[name] = video.getVideoPlaybackQuality().totalVideoFrames;
      }
    }
    return live;
  });
}

/** The page's connections and remote tiles, for a failure message. */
async function connections(page: Page): Promise<string> {
  return page.evaluate(() =>
    JSON.stringify({
      connections: ((window as any).knockPeers as RTCPeerConnection[]).map((pc) => ({
        connection: pc.connectionState,
        signaling: pc.signalingState,
        ice: pc.iceConnectionState,
        receivers: pc.getReceivers().map((r) => `${r.track.kind}:${r.track.readyState}:${r.track.muted ? 'muted' : 'live'}`),
      })),
      tiles: Array.from(document.querySelectorAll<HTMLElement>('figure.tile:not([data-you])')).map((tile) => {
        const video = tile.querySelector('video');
        const stream = video?.srcObject as MediaStream | null;
        return {
          name: tile.querySelector('figcaption')?.textContent,
          class: tile.className,
          hidden: video?.hidden,
          width: video?.videoWidth,
          tracks: stream?.getTracks().map((t) => `${t.kind}:${t.readyState}:${t.muted ? 'muted' : 'live'}`) ?? null,
        };
      }),
    }),
  );
}

/** Every member shows live video from every other, with frames still rising a moment later. */
async function converged(members: Member[]): Promise<void> {
  for (const member of members) {
    const others = members.filter((other) => other !== member).map((other) => other.name).sort();
    await expect
      .poll(async () => Object.keys(await remoteVideos(member.page)).sort(), {
        timeout: CONVERGE_MS,
        intervals: [100],
        message: `${member.name} sees live video from ${others.join(', ')}`,
      })
      .toEqual(others);
  }
}

async function framesRising(members: Member[]): Promise<void> {
  const before = await Promise.all(members.map((member) => remoteVideos(member.page)));
  await members[0].page.waitForTimeout(2_000);
  for (const [index, member] of members.entries()) {
    const after = await remoteVideos(member.page);
    for (const [name, frames] of Object.entries(before[index])) {
      expect(after[name] ?? 0, `frames from ${name} on ${member.name}'s page keep coming`).toBeGreaterThan(frames);
    }
  }
}

/** Admits whoever knocks on `owner`'s page: the single alert's `Allow`, or `Allow all`. */
async function allow(owner: Page, names: string[]): Promise<void> {
  if (names.length === 1) {
    await expect(knockAlert(owner, names[0])).toBeVisible();
    // The alert's `Allow`, or the same knock's in the waiting room if that panel is open.
    await owner.getByRole('button', { name: 'Allow', exact: true }).first().click();
    return;
  }
  await expect(owner.getByText(`${names.length} people would like to join the call`, { exact: true })).toBeVisible();
  await owner.getByRole('button', { name: 'View all' }).click();
  await owner.getByRole('region', { name: 'Waiting room' }).getByRole('button', { name: 'Allow all' }).click();
}

async function printLogs(members: Member[]): Promise<void> {
  for (const member of members) {
    console.log(`--- ${member.name}: ${await connections(member.page).catch(() => '?')}`);
    console.log(member.log.join('\n'));
  }
}

for (const size of SIZES) {
  for (let run = 0; run < RUNS; run++) {
    const order = ORDERS_RUN[run % ORDERS_RUN.length];
    test(`${size} people, run ${run + 1}: ${order}`, async ({ browser }) => {
      test.setTimeout(180_000);
      const room = await createRoom();
      const owner = await open(browser, room, 'Ana', await createToken(room, { is_owner: true, user_name: 'Ana' }));
      await joinAs(owner.page, room, 'Ana');
      const members: Member[] = [owner];
      const guests = NAMES.slice(1, size);
      let start = 0;
      try {
        if (order === 'one at a time') {
          for (const name of guests) {
            const guest = await open(browser, room, name);
            members.push(guest);
            await knockAs(guest.page, name);
            start = Date.now();
            await allow(owner.page, [name]);
          }
        } else {
          for (const name of guests) {
            const guest = await open(browser, room, name);
            members.push(guest);
            await knockAs(guest.page, name);
          }
          start = Date.now();
          await allow(owner.page, guests);
        }
        for (const guest of members.slice(1)) await expectInCall(guest.page, room, guest.name);
        await converged(members);
        if (order === 'leave and come back') {
          const leaver = members[1];
          await leaver.page.getByRole('button', { name: 'Leave', exact: true }).click();
          await knockAs(leaver.page, leaver.name);
          start = Date.now();
          await allow(owner.page, [leaver.name]);
          await expectInCall(leaver.page, room, leaver.name);
          await converged(members);
        }
        const seconds = (Date.now() - start) / 1000;
        await framesRising(members);
        for (const member of members) expect(member.errors).toEqual([]);
        record({ size, order, seconds });
      } catch (error) {
        record({ size, order, seconds: null });
        await printLogs(members);
        throw error;
      } finally {
        await closeAll(...members);
      }
    });
  }
}

test.afterAll(() => {
  const results: Result[] = existsSync(RESULTS)
    ? readFileSync(RESULTS, 'utf8').trim().split('\n').filter(Boolean).map((line) => JSON.parse(line))
    : [];
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
  const lines = ['', `Mesh stress on this machine (${os.cpus().length} cores), connect time after the last admission:`];
  lines.push(`${results.length} runs recorded so far (a failed run restarts the worker, so each summary covers every run before it)`);
  for (const size of SIZES) {
    for (const order of [...ORDERS, 'all'] as const) {
      const runs = results.filter((r) => r.size === size && (order === 'all' || r.order === order));
      if (runs.length === 0) continue;
      const times = runs.flatMap((r) => (r.seconds === null ? [] : [r.seconds]));
      const summary = times.length
        ? `median ${median(times).toFixed(1)} s, max ${Math.max(...times).toFixed(1)} s; ${times.map((t) => t.toFixed(1)).join(' ')}`
        : 'no run converged';
      lines.push(`${size} people, ${order}: converged ${times.length}/${runs.length}; ${summary}`);
    }
  }
  console.log(lines.join('\n'));
});
