// Starts the built `knock` binary on 127.0.0.1:0 on a given database, waits until it answers,
// and stops it (by PID) on request: the one server of global-setup.ts, and the two servers on
// one PostgreSQL database of the multi-server journey.
import { spawn } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '..');

export type KnockServer = { url: string; stop: () => Promise<void> };

export async function startKnock(databaseUrl: string, apiKey: string): Promise<KnockServer> {
  const bin = process.env.KNOCK_BIN ?? path.join(root, 'target', 'debug', 'knock');
  const server = spawn(bin, [], {
    cwd: root,
    env: {
      ...process.env,
      KNOCK_API_KEY: apiKey,
      DATABASE_URL: databaseUrl,
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
  if (!health.ok) {
    server.kill('SIGTERM');
    throw new Error(`knock is not healthy: ${health.status}`);
  }

  return {
    url,
    stop: async () => {
      if (server.exitCode !== null || server.signalCode !== null) return;
      const exited = new Promise((resolve) => server.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    },
  };
}
