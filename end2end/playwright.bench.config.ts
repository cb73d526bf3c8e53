// `make bench` (after the Rust bench): how long a WebRTC mesh takes to connect, and the frame
// rate it delivers, for 2, 3 and 4 participants in one room, every browser on this machine.
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './bench',
  timeout: 600_000,
});
