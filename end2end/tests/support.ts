// Shared helpers for the lobby and call journeys: the REST API (rooms, tokens, the lobby, presence),
// one browser context per person, the page steps every journey repeats (prejoin, join, knock),
// and live media (video frames and audio packets rising).
import AxeBuilder from '@axe-core/playwright';
import { expect, type Browser, type BrowserContext, type Page } from '@playwright/test';

/** The server global-setup.ts started. */
export const base = () => process.env.KNOCK_URL!;
const apiKey = () => process.env.KNOCK_API_KEY!;

/** A room name no other test uses (all tests share one server). */
export function uniqueRoom(prefix = 'room'): string {
  return `${prefix}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;
}

/** One REST call with the API key; fails the test on a non-2xx answer. `server` and `key`
 * default to the server global-setup.ts started. */
export async function api<T = any>(
  method: string,
  path: string,
  body?: unknown,
  server: { url: string; key: string } = { url: base(), key: apiKey() },
): Promise<T> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      Authorization: `Bearer ${server.key}`,
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Creates a private room (knocking on unless told otherwise) and returns its name. */
export async function createRoom(
  options: { knocking?: boolean; privacy?: 'public' | 'private'; prefix?: string } = {},
): Promise<string> {
  const name = uniqueRoom(options.prefix);
  const knocking = options.knocking ?? true;
  await api('POST', '/v1/rooms', {
    name,
    privacy: options.privacy ?? 'private',
    properties: knocking ? { enable_knocking: true } : {},
  });
  return name;
}

export type TokenProperties = {
  is_owner?: boolean;
  user_name?: string;
  knocking?: boolean;
  permissions?: { canAdmin?: boolean | string[] };
  [property: string]: unknown;
};

/** Mints a meeting token for `room`. */
export async function createToken(room: string, properties: TokenProperties = {}): Promise<string> {
  const { token } = await api<{ token: string }>('POST', '/v1/meeting-tokens', {
    properties: { room_name: room, ...properties },
  });
  return token;
}

/** The lobby of `room`, as the REST API lists it. */
export async function waitingList(
  room: string,
): Promise<{ total_count: number; data: { id: string; name: string }[] }> {
  return api('GET', `/v1/rooms/${room}/waiting`);
}

/** One person: their own browser context and page, and any uncaught page errors. */
export type Person = { context: BrowserContext; page: Page; errors: string[] };

/** How openRoom opens a room. */
export type OpenOptions = {
  token?: string;
  javaScriptEnabled?: boolean;
  watchPeers?: boolean;
  server?: string;
  viewport?: { width: number; height: number };
};

/**
 * Opens a new context for one person and goes to the room: with `token`, through
 * `/<room>?t=<token>` (the server redirects to `/<room>`); without, as a guest. Waits for
 * hydration unless JavaScript is off. `server` is the base URL of the server to use (the one
 * global-setup.ts started, unless told otherwise); `viewport` the window's size (1280x720
 * unless told otherwise).
 */
export async function openRoom(browser: Browser, room: string, options: OpenOptions = {}): Promise<Person> {
  const javaScriptEnabled = options.javaScriptEnabled ?? true;
  const context = await browser.newContext({
    javaScriptEnabled,
    ...(options.viewport ? { viewport: options.viewport } : {}),
  });
  if (options.watchPeers) await context.addInitScript(watchPeers);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  const server = options.server ?? base();
  const url = options.token
    ? `${server}/${room}?t=${encodeURIComponent(options.token)}`
    : `${server}/${room}`;
  await page.goto(url);
  if (javaScriptEnabled) await hydrated(page);
  return { context, page, errors };
}

/**
 * Runs in the page before its own scripts: keeps every RTCPeerConnection the page creates in
 * `window.knockPeers`, so a test can read their statistics (or see that none exists).
 */
function watchPeers() {
  const Native = window.RTCPeerConnection;
  const peers: RTCPeerConnection[] = [];
  (window as any).knockPeers = peers;
  window.RTCPeerConnection = class extends Native {
    constructor(...args: ConstructorParameters<typeof RTCPeerConnection>) {
      super(...args);
      peers.push(this);
    }
  } as typeof RTCPeerConnection;
}

/** Waits until the wasm has hydrated the page. */
export async function hydrated(page: Page): Promise<void> {
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

/** The prejoin page, with the button it should offer. */
export async function expectPrejoin(page: Page, button: 'Join' | 'Ask to join'): Promise<void> {
  await expect(page.getByRole('heading', { name: 'Ready to join?' })).toBeVisible();
  await expect(page.getByRole('textbox', { name: 'Your name' })).toBeVisible();
  await expect(page.getByRole('button', { name: button, exact: true })).toBeVisible();
  const other = button === 'Join' ? 'Ask to join' : 'Join';
  await expect(page.getByRole('button', { name: other, exact: true })).toHaveCount(0);
}

/** The `Participants` list (in the people panel: see openPeople). */
export const participants = (page: Page) => page.getByRole('list', { name: 'Participants' });

/** The tray's `People` button, which opens and closes the people panel. */
export const peopleButton = (page: Page) => page.getByRole('button', { name: /^People\b/ });

/** Opens the people panel (`Participants`, and the `Waiting room` for admins) unless it is
 * open; says whether it was closed. */
export async function openPeople(page: Page): Promise<boolean> {
  await hydrated(page);
  const button = peopleButton(page);
  if ((await button.getAttribute('aria-expanded')) === 'true') return false;
  await button.click();
  await expect(button).toHaveAttribute('aria-expanded', 'true');
  await expect(participants(page)).toBeVisible();
  return true;
}

/** Closes the people panel (its close button). */
export async function closePeople(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Close people panel' }).click();
  await expect(peopleButton(page)).toHaveAttribute('aria-expanded', 'false');
}

/** Runs `check` with the people panel open, leaving the panel as it found it (an open panel
 * shows the `Waiting room`, whose buttons a later step must not find twice). */
async function withPeople(page: Page, check: () => Promise<void>): Promise<void> {
  const opened = await openPeople(page);
  try {
    await check();
  } finally {
    if (opened) await closePeople(page);
  }
}

/** Fills the name, clicks `Join`, and waits to be in the call. */
export async function joinAs(page: Page, room: string, name: string): Promise<void> {
  await expectPrejoin(page, 'Join');
  await page.getByRole('textbox', { name: 'Your name' }).fill(name);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await expectInCall(page, room, name);
}

/** How long a soft check waits: it runs after a hard check showed the page is in place. */
const SOFT = 5_000;

/**
 * In the call: the room heading, `Leave`, and oneself (`(you)`) in `Participants`. The own name
 * is a soft check, so a missing name is reported without hiding what the journey does next.
 */
export async function expectInCall(page: Page, room: string, name: string): Promise<void> {
  await expect(page.getByRole('heading', { level: 1, name: room, exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Leave', exact: true })).toBeVisible();
  await withPeople(page, async () => {
    const me = participants(page).getByRole('listitem').filter({ hasText: '(you)' });
    await expect(me).toHaveCount(1);
    await expect.soft(me, `own name "${name}" in Participants`).toContainText(name, { timeout: SOFT });
  });
}

/** `Participants` on `page` shows `name` (a soft check: see expectInCall). */
export async function expectListed(page: Page, name: string, owner?: boolean): Promise<void> {
  await withPeople(page, async () => {
    const entry = participants(page).getByRole('listitem').filter({ hasText: name });
    await expect.soft(entry, `"${name}" in Participants`).toHaveCount(1, { timeout: SOFT });
    if ((await entry.count()) !== 1) return;
    if (owner === true) await expect.soft(entry, `"${name}" marked Owner`).toContainText('Owner', { timeout: SOFT });
    if (owner === false) await expect.soft(entry, `"${name}" not marked Owner`).not.toContainText('Owner', { timeout: SOFT });
  });
}

/** Fills the name, clicks `Ask to join`, and waits in the lobby. */
export async function knockAs(page: Page, name: string): Promise<void> {
  await expectPrejoin(page, 'Ask to join');
  await page.getByRole('textbox', { name: 'Your name' }).fill(name);
  await page.getByRole('button', { name: 'Ask to join', exact: true }).click();
  await expectWaiting(page);
}

/** The lobby page: `Waiting to be let in` and `Cancel request`. */
export async function expectWaiting(page: Page): Promise<void> {
  await expect(page.getByRole('heading', { name: 'Waiting to be let in' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Cancel request' })).toBeVisible();
}

/** The admin alert's text for one knocker. */
export const knockAlert = (page: Page, name: string) =>
  page.getByText(`${name} would like to join the call`, { exact: true });

/** Any admin-alert text at all (used to check a non-admin never sees one). */
export const anyKnockText = (page: Page) => page.getByText('would like to join the call');

/** The `Denied` page: `Request denied` and the `Knock again` link. */
export async function expectDenied(page: Page): Promise<void> {
  await expect(page.getByRole('heading', { name: 'Request denied' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Knock again' })).toBeVisible();
}

/** The two window sizes the layout is proven at: a laptop and a small phone. */
export const sizes = {
  desktop: { width: 1280, height: 800 },
  phone: { width: 375, height: 667 },
} as const;

/** Closes every person's context. */
export async function closeAll(...people: Person[]): Promise<void> {
  for (const person of people) await person.context.close();
}

/** Fills the name and `Note for the host`, clicks `Ask to join`, and waits in the lobby. */
export async function knockWithNote(page: Page, name: string, note: string): Promise<void> {
  await expectPrejoin(page, 'Ask to join');
  await page.getByRole('textbox', { name: 'Your name' }).fill(name);
  await page.getByRole('textbox', { name: 'Note for the host' }).fill(note);
  await page.getByRole('button', { name: 'Ask to join', exact: true }).click();
  await expectWaiting(page);
}

/** The waiting page's place in line, "You're number <n> in line". */
export const placeInLine = (page: Page, n: number) =>
  page.getByText(`You're number ${n} in line`, { exact: true });

/** The waiting page's `Message from the host` region. */
export const hostMessage = (page: Page) => page.getByRole('region', { name: 'Message from the host' });

/** The tile of another participant in the call, by name. */
export const tileOf = (page: Page, name: string) =>
  page.locator('figure.tile:not([data-you])').filter({ hasText: name });

/** The participants of the call, as the REST API lists them. */
export async function presence(room: string): Promise<{ id: string; userName: string }[]> {
  const answer = await api<{ data: { id: string; userName: string }[] }>('GET', `/v1/rooms/${room}/presence`);
  return answer.data;
}

/** Who a token is for: an owner with `owner`, and any further token `properties`. */
export type TokenFor = { owner?: boolean; properties?: TokenProperties };

/** Opens `room` (see openRoom) for `name` with a meeting token minted for them, without
 * joining yet. */
export async function openWithToken(
  browser: Browser,
  room: string,
  name: string,
  { owner, properties, ...options }: TokenFor & Omit<OpenOptions, 'token'> = {},
): Promise<Person> {
  const token = await createToken(room, { user_name: name, ...(owner ? { is_owner: true } : {}), ...properties });
  return openRoom(browser, room, { ...options, token });
}

/** `name` in the call of `room` with a meeting token (see openWithToken), through `Join`. */
export async function joinWithToken(
  browser: Browser,
  room: string,
  name: string,
  options: TokenFor & Omit<OpenOptions, 'token'> = {},
): Promise<Person> {
  const person = await openWithToken(browser, room, name, options);
  await joinAs(person.page, room, name);
  return person;
}

/** `name` in the call of `room` with a token (an owner's with `owner`) and live media: their
 * connections watched, and the prejoin page has their camera on. */
export async function joinLive(
  browser: Browser,
  room: string,
  name: string,
  { owner }: { owner?: boolean } = {},
): Promise<Person> {
  const person = await openWithToken(browser, room, name, { owner, watchPeers: true });
  await expect(person.page.getByRole('button', { name: 'Camera' })).toHaveAttribute('aria-pressed', 'true');
  await joinAs(person.page, room, name);
  return person;
}

/** Frames decoded so far by the video in `name`'s tile, and its width. */
export async function videoOf(page: Page, name: string): Promise<{ width: number; frames: number }> {
  return tileOf(page, name)
    .locator('video')
    .evaluate((video: HTMLVideoElement) => ({
      width: video.videoWidth,
      frames: video.getVideoPlaybackQuality().totalVideoFrames,
    }));
}

/** What the page's open connections (see `watchPeers` in openRoom) have received so far: video
 * frames decoded, audio packets; and how many connections are open. */
export async function received(page: Page): Promise<{ frames: number; packets: number; open: number }> {
  return page.evaluate(async () => {
    let frames = 0;
    let packets = 0;
    let open = 0;
    for (const peer of (window as any).knockPeers as RTCPeerConnection[]) {
      if (peer.connectionState === 'closed') continue;
      open += 1;
      (await peer.getStats()).forEach((report: any) => {
        if (report.type !== 'inbound-rtp') return;
        if (report.kind === 'video') frames += report.framesDecoded ?? 0;
        if (report.kind === 'audio') packets += report.packetsReceived ?? 0;
      });
    }
    return { frames, packets, open };
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

/** How long live media may take to show: `appearWithin` ms for a video element to become visible
 * (30 s unless told). */
export type LiveOptions = { appearWithin?: number };

/** `page` shows `name`'s live video: visible, with a width, and frames still arriving. */
export async function expectLiveVideo(page: Page, name: string, options: LiveOptions = {}): Promise<void> {
  const tile = tileOf(page, name);
  await expect(tile).toHaveCount(1);
  try {
    await expect(tile.locator('video')).toBeVisible({ timeout: options.appearWithin ?? 30_000 });
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

/** `page` receives audio packets, more and more. */
export async function expectLiveAudio(page: Page): Promise<void> {
  await expect.poll(async () => (await received(page)).packets, { timeout: 30_000 }).toBeGreaterThan(0);
  const before = (await received(page)).packets;
  await page.waitForTimeout(2_000);
  expect((await received(page)).packets, 'audio packets keep coming').toBeGreaterThan(before);
}

/** Every one of `people` (by name) sees every other's live video; with `hears`, each also
 * receives live audio. */
export async function expectEveryoneSeesEveryone(
  people: Record<string, Person>,
  options: LiveOptions & { hears?: boolean } = {},
): Promise<void> {
  for (const [name, person] of Object.entries(people)) {
    for (const other of Object.keys(people).filter((n) => n !== name)) {
      await expectLiveVideo(person.page, other, options);
    }
    if (options.hears) await expectLiveAudio(person.page);
  }
}

/** axe-core (@axe-core/playwright) finds no serious or critical violation on `page` as it is;
 * a failure names `state` and lists each violation with where it is. */
export async function expectAccessible(page: Page, state: string): Promise<void> {
  const { violations } = await new AxeBuilder({ page }).analyze();
  const serious = violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.help} at ${violation.nodes
      .map((node) => node.target.join(' '))
      .join(', ')}`);
  expect(serious, `axe on ${state}`).toEqual([]);
}
