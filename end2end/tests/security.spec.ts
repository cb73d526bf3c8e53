// What a real browser is told and refused: pages forbid framing and sniffing, and a page of
// another origin than KNOCK_PUBLIC_URL cannot change state through a server function.
import { expect, test } from '@playwright/test';
import { base, createRoom } from './support';

test('a room page forbids framing, sniffing and referrers to other sites', async ({ page }) => {
  const room = await createRoom({ privacy: 'public', knocking: false, prefix: 'headers' });
  const response = await page.goto(`${base()}/${room}`);
  const headers = response!.headers();
  expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
  expect(headers['x-frame-options']).toBe('DENY');
  expect(headers['x-content-type-options']).toBe('nosniff');
  expect(headers['referrer-policy']).toBe('same-origin');
  await expect(page.getByRole('heading', { name: 'Ready to join?' })).toBeVisible();
});

test('a page reached under another origin cannot sign in to the dashboard', async ({ page }) => {
  // The same server under another name (localhost instead of 127.0.0.1) is another origin.
  const other = base().replace('127.0.0.1', 'localhost');
  expect(other).not.toBe(base());
  await page.goto(`${other}/healthz`);
  const answer = await page.evaluate(async (key) => {
    const response = await fetch('/api/dashboard_sign_in', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ api_key: key }),
    });
    return { status: response.status, body: await response.json() };
  }, process.env.KNOCK_API_KEY!);
  expect(answer.status).toBe(403);
  expect(answer.body.error).toBe('forbidden-error');
  expect(answer.body.info).toContain(base());
});
