// Shared helpers for the lobby journeys: the REST API (rooms, tokens, the lobby), one browser
// context per person, and the page steps every journey repeats (prejoin, join, knock).
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

/**
 * Opens a new context for one person and goes to the room: with `token`, through
 * `/<room>?t=<token>` (the server redirects to `/<room>`); without, as a guest. Waits for
 * hydration unless JavaScript is off. `server` is the base URL of the server to use (the one
 * global-setup.ts started, unless told otherwise); `viewport` the window's size (1280x720
 * unless told otherwise).
 */
export async function openRoom(
  browser: Browser,
  room: string,
  options: {
    token?: string;
    javaScriptEnabled?: boolean;
    watchPeers?: boolean;
    server?: string;
    viewport?: { width: number; height: number };
  } = {},
): Promise<Person> {
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
