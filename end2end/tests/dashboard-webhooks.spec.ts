// The dashboard's `Webhooks` section: a webhook made through the REST API is listed with its
// state and last deliveries; a receiver that answers 500 turns it `FAILED` (circuit breaker),
// and `Re-activate` makes it `ACTIVE` again, after which the deliveries it was owed arrive.
// The receiver is a small HTTP server inside the test, on port 0.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page } from '@playwright/test';
import { api, base, closeAll, createRoom, expectAccessible, hydrated, joinAs, openRoom, type Person } from './support';

test.setTimeout(120_000);

/** A webhook receiver: answers Knock's test POST with 200, and events with `eventStatus`. */
async function startReceiver(): Promise<{
  url: string;
  server: Server;
  events: { type: string; payload: { room?: string } }[];
  setEventStatus: (status: number) => void;
}> {
  const events: { type: string; payload: { room?: string } }[] = [];
  let eventStatus = 500;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      let parsed: any = {};
      try {
        parsed = JSON.parse(body);
      } catch {
        // Not JSON: answered like an event.
      }
      if (parsed.test === 'test') {
        response.writeHead(200).end('ok');
        return;
      }
      if (eventStatus === 200) events.push(parsed);
      response.writeHead(eventStatus).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    server,
    events,
    setEventStatus: (status) => (eventStatus = status),
  };
}

/** Opens the dashboard in its own context and signs in with the API key. */
async function signIn(browser: any): Promise<Person> {
  const context = await browser.newContext();
  const page: Page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(base() + '/dashboard');
  await hydrated(page);
  await page.getByLabel('API key').fill(process.env.KNOCK_API_KEY!);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Webhooks' })).toBeVisible();
  return { context, page, errors };
}

test('the dashboard lists a webhook, shows it FAILED after failed deliveries, and re-activates it', async ({
  browser,
}) => {
  const receiver = await startReceiver();
  const webhook = await api<{ uuid: string; state: string }>('POST', '/v1/webhooks', {
    url: receiver.url,
    eventTypes: ['meeting.started', 'participant.joined'],
    retryType: 'circuit-breaker',
  });
  const people: Person[] = [];
  try {
    expect(webhook.state).toBe('ACTIVE');
    const admin = await signIn(browser);
    people.push(admin);
    const { page } = admin;
    const entry = page.getByRole('region', { name: `Webhook ${receiver.url}` });
    await expect(entry).toBeVisible();
    await expect(entry.getByTestId('webhook-state')).toHaveText('ACTIVE');
    await expect(entry).toContainText('meeting.started, participant.joined');
    await expect(entry.getByRole('button', { name: 'Re-activate' })).toHaveCount(0);

    // Calls start in three rooms: each delivery fails (500) at once, three in a row trip the
    // circuit breaker.
    const rooms: string[] = [];
    for (const name of ['Ana', 'Ben', 'Cy']) {
      const room = await createRoom({ privacy: 'public', knocking: false, prefix: 'hooks' });
      rooms.push(room);
      const person = await openRoom(browser, room);
      people.push(person);
      await joinAs(person.page, room, name);
    }
    await expect(entry.getByTestId('webhook-state')).toHaveText('FAILED', { timeout: 45_000 });
    const deliveries = entry.getByRole('table', { name: 'Last deliveries' });
    for (const room of rooms) {
      const row = deliveries.getByRole('row').filter({ hasText: room });
      await expect(row.first()).toBeVisible();
      await expect(row.filter({ hasText: 'meeting.started' }).first()).toContainText('On hold (HTTP 500)');
    }
    expect((await api<{ state: string }>('GET', `/v1/webhooks/${webhook.uuid}`)).state).toBe('FAILED');
    await expectAccessible(page, 'the dashboard with a failed webhook');
    // On a phone, the section fits the width.
    await page.setViewportSize({ width: 375, height: 667 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await page.setViewportSize({ width: 1280, height: 720 });

    // The receiver recovers; `Re-activate` tests it and turns the webhook ACTIVE, and what it
    // was owed is delivered.
    receiver.setEventStatus(200);
    await entry.getByRole('button', { name: 'Re-activate' }).click();
    await expect(entry.getByTestId('webhook-state')).toHaveText('ACTIVE');
    await expect(entry.getByRole('button', { name: 'Re-activate' })).toHaveCount(0);
    for (const room of rooms) {
      const joined = deliveries.getByRole('row').filter({ hasText: room }).filter({ hasText: 'participant.joined' });
      await expect(joined.first()).toContainText('Delivered (HTTP 200)', { timeout: 45_000 });
    }
    for (const room of rooms) {
      const types = receiver.events.filter((event) => event.payload.room === room).map((event) => event.type);
      expect(types).toContain('meeting.started');
      expect(types).toContain('participant.joined');
    }
    expect((await api<{ state: string }>('GET', `/v1/webhooks/${webhook.uuid}`)).state).toBe('ACTIVE');
    expect(admin.errors).toEqual([]);
  } finally {
    await api('DELETE', `/v1/webhooks/${webhook.uuid}`);
    await closeAll(...people);
    receiver.server.closeAllConnections();
    await new Promise((resolve) => receiver.server.close(resolve));
  }
});
