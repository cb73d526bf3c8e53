// `make screenshots`: drives the real app (started by global-setup.ts) through the lobby and
// saves the README's pictures in docs/screenshots/.
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './screenshots',
  use: { ...base.use, viewport: { width: 1000, height: 640 }, colorScheme: 'light' },
});
