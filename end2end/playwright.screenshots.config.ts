// `make screenshots`: drives the real app (started by global-setup.ts) through the lobby and
// saves the README's pictures in docs/screenshots/. Chromium's fake camera and microphone stand
// in for real devices (a moving test pattern).
import { defineConfig } from '@playwright/test';
import base, { chromiumArgs } from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './screenshots',
  use: {
    ...base.use,
    viewport: { width: 1000, height: 640 },
    colorScheme: 'light',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        ...chromiumArgs,
        '--use-fake-device-for-media-stream',
        '--use-fake-ui-for-media-stream',
        '--allow-loopback-in-peer-connection',
      ],
    },
  },
});
