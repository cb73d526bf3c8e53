// What a guest's browser downloads for the room page: the HTML never cached, with the
// stylesheet in it, and the page's JavaScript and wasm under content-hashed names, compressed
// (Brotli or gzip) and cached for a year as immutable, as the stylesheet is on other pages. A functional check of the headers, not a timing. And what the
// room page loads before it is hydrated: its main wasm alone, no chunk; and what comes after,
// each in its chunk: the call client, its event stream and the call view as the visitor turns to
// the form, the stream itself on their click.
import { expect, test, type Page, type Response } from '@playwright/test';
import {
  base,
  closeAll,
  createRoom,
  createToken,
  expectInCall,
  expectPrejoin,
  hydrated,
  openRoom,
} from './support';

const hashedName = /\/pkg\/knock\.[A-Za-z0-9_-]{8,}\.(js|wasm|css)$/;

test('the room page is never cached; its assets are hashed, compressed and immutable', async ({
  browser,
}) => {
  const room = await createRoom();
  const context = await browser.newContext();
  const page = await context.newPage();
  const responses: Response[] = [];
  page.on('response', (response) => responses.push(response));
  const document = await page.goto(`${process.env.KNOCK_URL}/${room}`);
  await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expectPrejoin(page, 'Ask to join');

  const html = await document!.allHeaders();
  expect(html['content-type']).toContain('text/html');
  expect(html['cache-control']).toBe('no-store');
  expect(['br', 'gzip']).toContain(html['content-encoding']);

  for (const kind of ['js', 'wasm']) {
    const asset = responses.find((response) => {
      const path = new URL(response.url()).pathname;
      return path.startsWith('/pkg/knock.') && path.endsWith(`.${kind}`);
    });
    expect(asset, `the page loaded its .${kind}`).toBeDefined();
    const url = new URL(asset!.url()).pathname;
    expect(url, `${kind} has a hashed name`).toMatch(hashedName);
    expect(asset!.status()).toBe(200);
    const headers = await asset!.allHeaders();
    expect(['br', 'gzip'], `${url} is compressed`).toContain(headers['content-encoding']);
    expect(headers['cache-control'], `${url} is cached for good`).toBe(
      'public, max-age=31536000, immutable',
    );
    // ...by a shared cache too, which must keep one answer per Accept-Encoding.
    expect(headers['vary'], `${url} depends on Accept-Encoding`).toBe('accept-encoding');
  }

  // The head asks for the script and the wasm before anything else, and carries the stylesheet
  // after them: the page requests no stylesheet, and is styled.
  const head = await page.evaluate(() =>
    [...window.document.head.children].map((element) =>
      [element.tagName.toLowerCase(), element.getAttribute('rel') ?? ''].join(' ').trim(),
    ),
  );
  expect(head.slice(0, 3), 'the head starts with the charset, the script and the wasm').toEqual([
    'meta',
    'link modulepreload',
    'link preload',
  ]);
  expect(head.filter((element) => element === 'style'), 'one stylesheet in the page').toHaveLength(1);
  expect(head.indexOf('style'), 'the stylesheet after the preloads').toBeGreaterThan(
    head.lastIndexOf('link modulepreload'),
  );
  expect(head, 'no stylesheet link').not.toContain('link stylesheet');
  expect(
    responses.filter((response) => new URL(response.url()).pathname.endsWith('.css')),
    'no stylesheet request',
  ).toEqual([]);
  await expect(page.locator('main.page.narrow')).toHaveCSS('max-width', '512px');

  // The other pages link the same stylesheet, hashed, compressed and immutable.
  const home = await context.newPage();
  await home.goto(`${process.env.KNOCK_URL}/`);
  const linked = await home.locator('head link[rel="stylesheet"]').getAttribute('href');
  expect(linked, 'the home page links the stylesheet').toMatch(hashedName);
  const stylesheet = await context.request.get(`${process.env.KNOCK_URL}${linked}`, {
    headers: { 'accept-encoding': 'br' },
  });
  expect(stylesheet.status()).toBe(200);
  expect(stylesheet.headers()['content-encoding']).toBe('br');
  expect(stylesheet.headers()['cache-control']).toBe('public, max-age=31536000, immutable');
  expect(await page.locator('head style').textContent(), 'the same stylesheet').toBe(
    await stylesheet.text(),
  );

  // The split loader the script imports is linked from the head, so the browser fetches it
  // beside the script and the wasm, not once the script has come.
  const loader = await page
    .locator('head link[rel="modulepreload"][href*="__wasm_split"]')
    .getAttribute('href');
  expect(loader, 'the split loader is preloaded').toMatch(
    /^\/pkg\/__wasm_split\.[A-Za-z0-9_-]{8,}\.js$/,
  );
  const loaded = responses.filter((response) => new URL(response.url()).pathname === loader);
  expect(loaded, 'the linked loader is the one the script imports, fetched once').toHaveLength(1);
  expect(['br', 'gzip'], `${loader} is compressed`).toContain(
    await loaded[0].headerValue('content-encoding'),
  );
  expect(await loaded[0].headerValue('cache-control')).toBe('public, max-age=31536000, immutable');

  // The main wasm imports its bindings from the script under short names, not wasm-bindgen's
  // hashed ones (scripts/hash-names.mjs): the page still hydrated above with them.
  const wasm = responses.find((response) => /\/pkg\/knock\.[^/]*\.wasm$/.test(response.url()));
  const imports = await page.evaluate(async (url) => {
    const module = await WebAssembly.compileStreaming(fetch(url));
    return WebAssembly.Module.imports(module).map((entry) => entry.name);
  }, wasm!.url());
  expect(imports.length, 'the main wasm imports its bindings').toBeGreaterThan(100);
  expect(imports.filter((name) => /_[0-9a-f]{16}$/.test(name)), 'hashed import names').toEqual([]);

  // The script asks V8 to compile it whole as it streams in, so the bindings the wasm calls as
  // it hydrates are not compiled one by one on the main thread then.
  const script = responses.find((response) => /\/pkg\/knock\.[^/]*\.js$/.test(response.url()));
  expect((await script!.text()).startsWith('//# allFunctionsCalledOnLoad\n')).toBe(true);
  await context.close();
});

test('a second visit takes the assets from the cache and still hydrates', async ({ browser }) => {
  const room = await createRoom();
  const guest = await openRoom(browser, room);
  // Bytes received per /pkg/ request, as Chromium's network layer counts them (0 when the
  // response came from the cache without asking the server).
  const cdp = await guest.context.newCDPSession(guest.page);
  await cdp.send('Network.enable');
  const urls = new Map<string, string>();
  const received = new Map<string, number>();
  cdp.on('Network.requestWillBeSent', (event) => urls.set(event.requestId, event.request.url));
  cdp.on('Network.loadingFinished', (event) => {
    const url = urls.get(event.requestId);
    if (url && new URL(url).pathname.startsWith('/pkg/')) received.set(url, event.encodedDataLength);
  });
  await guest.page.goto(`${process.env.KNOCK_URL}/${room}`);
  await expect(guest.page.locator('body')).toHaveAttribute('data-hydrated', 'true');
  await expectPrejoin(guest.page, 'Ask to join');
  expect(received.size, 'the second visit used the page assets').toBeGreaterThan(0);
  for (const [url, bytes] of received) expect(bytes, `${url} from the cache`).toBe(0);
  await closeAll(guest);
});

// The wasm chunks of the lazy parts (`cargo leptos build --split`): each split file is named
// after its entry point (the room page's call client, the call view, the call client's event
// stream, the dashboard route).
const roomChunk = /\/pkg\/split_+room_client_[0-9]+\.[A-Za-z0-9_-]+\.wasm$/;
const callChunk = /\/pkg\/split_+in_call_view_[0-9]+\.[A-Za-z0-9_-]+\.wasm$/;
const eventsChunk = /\/pkg\/split_+call_events_[0-9]+\.[A-Za-z0-9_-]+\.wasm$/;
const dashboardChunk = /\/pkg\/split_+dashboard_route_view_[0-9]+\.[A-Za-z0-9_-]+\.wasm$/;
// The router's application, which hydrates every page but a room's.
const routerChunk = /\/pkg\/split_+hydrate_routed_[0-9]+\.[A-Za-z0-9_-]+\.wasm$/;
const mainWasm = /\/pkg\/knock\.[A-Za-z0-9_-]+\.wasm$/;

/** Runs in the page before its scripts: records when <body> is marked hydrated (ms since the
 * navigation started, the clock of the page's resource timings). */
function recordHydration() {
  new MutationObserver(() => {
    const w = window as any;
    if (document.body?.getAttribute('data-hydrated') === 'true' && w.hydratedAt === undefined) {
      w.hydratedAt = performance.now();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
}

/** The page's requests (resource timings), split at the moment it was hydrated. */
async function requests(page: Page): Promise<{ before: string[]; after: string[] }> {
  return page.evaluate(() => {
    const at = (window as any).hydratedAt as number;
    const all = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
    return {
      before: all.filter((entry) => entry.startTime < at).map((entry) => entry.name),
      after: all.filter((entry) => entry.startTime >= at).map((entry) => entry.name),
    };
  });
}

test('the prejoin page hydrates with the main wasm alone; the call client, its stream and the call view come in chunks of their own, as the visitor turns to the form', async ({
  browser,
}) => {
  const room = await createRoom();
  const token = await createToken(room, { is_owner: true });
  const context = await browser.newContext();
  await context.addInitScript(recordHydration);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // The event stream's requests (an open stream has no resource timing until it ends).
  const streams: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/api/events/')) streams.push(request.url());
  });
  await page.goto(`${base()}/${room}?t=${encodeURIComponent(token)}`);
  await hydrated(page);
  await expectPrejoin(page, 'Join');

  // Before hydration: the main wasm and no chunk at all.
  const first = await requests(page);
  expect(first.before.filter((url) => mainWasm.test(url)), 'the main wasm').toHaveLength(1);
  for (const [chunk, what] of [
    [routerChunk, 'the router'],
    [roomChunk, 'the call client'],
    [callChunk, 'the call'],
    [eventsChunk, 'the stream'],
  ] as const) {
    expect(first.before.filter((url) => chunk.test(url)), `${what} before hydration`).toEqual([]);
  }
  // Left alone, the page fetches no call client and opens no event stream (nothing is sent to
  // a visitor before they knock or join); turning to the form fetches the chunks of the call
  // client, its stream and the call view, ahead of the click that needs them. The stream opens
  // on the click.
  await page.waitForTimeout(1000);
  const idle = (await requests(page)).after;
  expect(idle.filter((url) => roomChunk.test(url)), 'the call client unasked').toEqual([]);
  expect(idle.filter((url) => callChunk.test(url)), 'the call unasked').toEqual([]);
  expect(idle.filter((url) => eventsChunk.test(url)), "the stream's code unasked").toEqual([]);
  expect(streams, 'the stream unasked').toEqual([]);
  await page.getByRole('textbox', { name: 'Your name' }).fill('Ana');
  for (const chunk of [roomChunk, eventsChunk, callChunk]) {
    await expect
      .poll(async () => (await requests(page)).after.filter((url) => chunk.test(url)).length)
      .toBe(1);
  }
  expect(streams, 'the stream before the click').toEqual([]);
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await expectInCall(page, room, 'Ana');
  await expect.poll(() => streams.length).toBe(1);
  const inCall = await requests(page);

  // A reload in the call: the server renders the call view, and the page loads the call
  // client's chunk and the call view's before hydrating them.
  await page.reload();
  await hydrated(page);
  await expectInCall(page, room, 'Ana');
  const reloaded = await requests(page);
  expect(reloaded.before.filter((url) => roomChunk.test(url)), 'the call client before hydration').toHaveLength(1);
  expect(reloaded.before.filter((url) => callChunk.test(url)), 'the call before hydration').toHaveLength(1);

  for (const visit of [inCall, reloaded]) {
    const all = [...visit.before, ...visit.after];
    expect(all.filter((url) => dashboardChunk.test(url)), 'the dashboard').toEqual([]);
    expect(all.filter((url) => routerChunk.test(url)), 'the router').toEqual([]);
  }
  expect(errors).toEqual([]);
  await context.close();
});

test('every other page hydrates with the router, in a chunk of its own; a room page is always a document of its own', async ({
  browser,
}) => {
  const room = await createRoom({ privacy: 'public' });
  const context = await browser.newContext();
  await context.addInitScript(recordHydration);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${base()}/`);
  await hydrated(page);
  const home = await requests(page);
  expect(home.before.filter((url) => routerChunk.test(url)), 'the router').toHaveLength(1);
  expect(home.before.filter((url) => dashboardChunk.test(url)), 'the dashboard').toEqual([]);

  // The home page's link to the room is external to the router, so the browser loads the room
  // page, whose request opens the visitor's session.
  await page.getByLabel('Room name').fill(room);
  const link = page.getByTestId('room-link');
  await expect(link).toHaveAttribute('rel', 'external');
  await link.click();
  await expect(page).toHaveURL(`${base()}/${room}`);
  await hydrated(page);
  await expectPrejoin(page, 'Join');
  expect((await requests(page)).before.filter((url) => routerChunk.test(url)), 'the router').toEqual([]);

  // A link the router takes (not marked external) loads the room page all the same.
  await page.goto(`${base()}/`);
  await hydrated(page);
  await page.getByLabel('Room name').fill(room);
  await link.evaluate((anchor) => anchor.removeAttribute('rel'));
  await link.click();
  await expect(page).toHaveURL(`${base()}/${room}`);
  await expectPrejoin(page, 'Join');
  await page.getByRole('textbox', { name: 'Your name' }).fill('Ana');
  await page.getByRole('button', { name: 'Join', exact: true }).click();
  await expectInCall(page, room, 'Ana');
  expect(errors).toEqual([]);
  await context.close();
});
