// `make screenshots`: drives the real app (started by global-setup.ts) through the lobby and
// saves the README's pictures in docs/screenshots/. Chromium's fake camera and microphone stand
// in for real devices (a moving test pattern).
import { defineConfig } from '@playwright/test';
import base, { fakeMediaLaunchOptions } from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './screenshots',
  use: {
    ...base.use,
    viewport: { width: 1000, height: 640 },
    colorScheme: 'light',
    launchOptions: fakeMediaLaunchOptions,
  },
});
