// Starts the built `knock` binary on 127.0.0.1:0 with a fresh SQLite database, hands its URL
// and API key to the tests, and stops it (by PID) when they end.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { startKnock } from './knock-server';

export default async function globalSetup() {
  const dir = mkdtempSync(path.join(tmpdir(), 'knock-e2e-'));
  // KNOCK_API_KEY must have at least 32 characters.
  const apiKey = 'e2e-' + randomBytes(32).toString('hex');
  const server = await startKnock(`sqlite://${path.join(dir, 'knock.db')}`, apiKey);

  process.env.KNOCK_URL = server.url;
  process.env.KNOCK_API_KEY = apiKey;

  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
