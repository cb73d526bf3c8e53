// Starts the built `knock` binary on 127.0.0.1:0 with a fresh database, waits until it
// answers, hands its URL and API key to the tests, and stops it (by PID) when they end.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

export default async function globalSetup() {
  const bin = process.env.KNOCK_BIN ?? path.join(root, 'target', 'debug', 'knock');
  const dir = mkdtempSync(path.join(tmpdir(), 'knock-e2e-'));
  // KNOCK_API_KEY must have at least 32 characters.
  const apiKey = 'e2e-' + randomBytes(32).toString('hex');
  const server = spawn(bin, [], {
    cwd: root,
    env: {
      ...process.env,
      KNOCK_API_KEY: apiKey,
      DATABASE_URL: `sqlite://${path.join(dir, 'knock.db')}`,
      LEPTOS_SITE_ADDR: '127.0.0.1:0',
      LEPTOS_SITE_ROOT: process.env.LEPTOS_SITE_ROOT ?? path.join(root, 'target', 'site'),
      RUST_LOG: process.env.RUST_LOG ?? 'info,tower_http=warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });

  const url = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      // Never leave a server behind: the tests that would have stopped it will not run.
      server.kill('SIGTERM');
      reject(new Error(`knock did not start (its log must say "knock is listening"; RUST_LOG below info hides it):\n${seen}`));
    }, 30_000);
    server.on('exit', (code) => reject(new Error(`knock exited with ${code}:\n${seen}`)));
    server.stdout!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const match = /knock is listening address=(\S+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(`http://${match[1]}`);
      }
    });
  });
  // Keep draining the log so the server never blocks on a full pipe.
  server.stdout!.on('data', (chunk: Buffer) => {
    if (process.env.KNOCK_LOG) process.stdout.write(chunk);
  });
  const health = await fetch(`${url}/healthz`);
  if (!health.ok) throw new Error(`knock is not healthy: ${health.status}`);

  process.env.KNOCK_URL = url;
  process.env.KNOCK_API_KEY = apiKey;

  return async () => {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    rmSync(dir, { recursive: true, force: true });
  };
}
