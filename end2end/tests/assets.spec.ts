// What a guest's browser downloads for the room page: the HTML never cached, and the page's
// JavaScript, wasm and stylesheet under content-hashed names, compressed (Brotli or gzip) and
// cached for a year as immutable. A functional check of the headers, not a timing.
import { expect, test, type Response } from '@playwright/test';
import { closeAll, createRoom, expectPrejoin, openRoom } from './support';

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

  for (const kind of ['js', 'wasm', 'css']) {
    const asset = responses.find((response) => new URL(response.url()).pathname.endsWith(`.${kind}`));
    expect(asset, `the page loaded its .${kind}`).toBeDefined();
    const url = new URL(asset!.url()).pathname;
    expect(url, `${kind} has a hashed name`).toMatch(hashedName);
    expect(asset!.status()).toBe(200);
    const headers = await asset!.allHeaders();
    expect(['br', 'gzip'], `${url} is compressed`).toContain(headers['content-encoding']);
    expect(headers['cache-control'], `${url} is cached for good`).toBe(
      'public, max-age=31536000, immutable',
    );
  }
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
