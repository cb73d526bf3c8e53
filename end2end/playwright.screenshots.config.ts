// `make screenshots`: drives the real app (started by global-setup.ts) through the lobby and
// saves the README's pictures in docs/screenshots/, at a laptop's size and a phone's (the
// journey passes each size to its browser contexts). Chromium's fake camera and microphone stand
// in for real devices (a moving test pattern).
import { defineConfig } from '@playwright/test';
import base, { fakeMediaLaunchOptions } from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './screenshots',
  use: {
    ...base.use,
    colorScheme: 'light',
    launchOptions: fakeMediaLaunchOptions,
  },
});
