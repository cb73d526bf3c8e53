// Figure j (guest.rs runs it): a guest opening a room page in Chromium, as on a slow phone.
// Chromium's CPU is slowed 4x and its network is DevTools' "Fast 3G" (562.5 ms latency,
// 180,000 B/s down, 84,375 B/s up), both through the DevTools protocol. Per run:
//
// - first visit (a new browser context, so an empty cache): every byte the network layer
//   received (`Network.loadingFinished`'s encodedDataLength: headers and compressed bodies)
//   until the page is hydrated, by kind (html, js, wasm, css, other), and the time from the
//   start of the navigation until `Ask to join` is hydrated and clickable;
// - second visit (the same context navigates to the page again, cache warm): the same two.
//
// "Hydrated" is the moment the app sets `data-hydrated` on <body> (a MutationObserver installed
// before any page script records `performance.now()`, which counts from the navigation start);
// the button must then be visible and enabled. The page reports that moment through a DevTools
// protocol binding, so this script evaluates nothing in the page until the time is taken:
// waiting with Playwright's `waitForFunction` instead injects Playwright's own script (about
// 330 KB) into every new page, which a trace showed running on the main thread in the middle of
// a second visit's load (about 100 ms more in the median of 24 second visits, the first visit
// unchanged). Prints one JSON object on stdout.
//
//   node guest.mjs --url http://127.0.0.1:3000/room --runs 5 [--chromium /usr/bin/chromium]
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../../end2end/package.json'));
const { chromium } = require('@playwright/test');

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
};
const url = arg('url');
const runs = Number(arg('runs', '5'));
if (!url || !(runs > 0)) {
  console.error('usage: guest.mjs --url <room page URL> [--runs N] [--chromium <path>]');
  process.exit(2);
}

const FAST_3G = {
  offline: false,
  latency: 562.5,
  downloadThroughput: 180_000,
  uploadThroughput: 84_375,
};
const CPU_SLOWDOWN = 4;

function kindOf(resourceUrl, mime) {
  const name = new URL(resourceUrl).pathname;
  if (name.endsWith('.wasm')) return 'wasm';
  if (name.endsWith('.js')) return 'js';
  if (name.endsWith('.css')) return 'css';
  if ((mime ?? '').startsWith('text/html')) return 'html';
  return 'other';
}

/** The binding (Runtime.addBinding) through which the page reports that it is hydrated. */
const HYDRATED = '__knockHydrated';

/** Reports when <body> gets data-hydrated, in ms since the navigation started. */
function watchHydration() {
  const record = () => {
    if (document.body?.getAttribute('data-hydrated') === 'true' && !window.__hydratedAt) {
      window.__hydratedAt = performance.now();
      window.__knockHydrated?.(String(window.__hydratedAt));
    }
  };
  new MutationObserver(record).observe(document, {
    subtree: true,
    attributes: true,
    attributeFilter: ['data-hydrated'],
  });
}

async function throttled(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', FAST_3G);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  await cdp.send('Runtime.enable');
  await cdp.send('Runtime.addBinding', { name: HYDRATED });
  let hydrated = null;
  cdp.on('Runtime.bindingCalled', (event) => {
    if (event.name === HYDRATED) hydrated?.(Number(event.payload));
  });
  const requests = new Map();
  const bytes = { html: 0, js: 0, wasm: 0, css: 0, other: 0 };
  cdp.on('Network.requestWillBeSent', (event) =>
    requests.set(event.requestId, { url: event.request.url, mime: '' }),
  );
  cdp.on('Network.responseReceived', (event) => {
    const request = requests.get(event.requestId);
    if (request) request.mime = event.response.mimeType;
  });
  cdp.on('Network.loadingFinished', (event) => {
    const request = requests.get(event.requestId);
    if (request) bytes[kindOf(request.url, request.mime)] += event.encodedDataLength;
  });
  return {
    /** Resolves with the page's report of its hydration, in ms since the navigation started. */
    hydration() {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('not hydrated within 120 s')), 120_000);
        hydrated = (ms) => {
          clearTimeout(timer);
          hydrated = null;
          resolve(ms);
        };
      });
    },
    take() {
      const taken = { ...bytes };
      for (const kind of Object.keys(bytes)) bytes[kind] = 0;
      // A request still under way (a chunk the hydrated page fetched) is nobody's: not this
      // visit's, which ended at hydration, nor the next one's.
      requests.clear();
      return taken;
    },
  };
}

/** Navigates to the room page and waits for a hydrated, clickable Ask to join; its time in ms. */
async function visit(page, network) {
  const hydration = network.hydration();
  await page.goto(url, { waitUntil: 'commit', timeout: 120_000 });
  const ms = await hydration;
  const button = page.getByRole('button', { name: 'Ask to join', exact: true });
  await button.waitFor({ state: 'visible', timeout: 30_000 });
  if (!(await button.isEnabled())) throw new Error('Ask to join is disabled after hydration');
  // Let the last responses of the load finish so their bytes are counted.
  await page.waitForLoadState('load');
  return ms;
}

const browser = await chromium.launch({
  executablePath: arg('chromium', process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'),
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--no-default-browser-check',
  ],
});
const result = { runs, first: [], second: [] };
try {
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext();
    await context.addInitScript(watchHydration);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (error) => errors.push(error.message));
    const network = await throttled(context, page);
    const firstMs = await visit(page, network);
    result.first.push({ ms: firstMs, bytes: network.take() });
    const secondMs = await visit(page, network);
    result.second.push({ ms: secondMs, bytes: network.take() });
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    await context.close();
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
