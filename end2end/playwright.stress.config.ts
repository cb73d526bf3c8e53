// `make stress-mesh`: the three- and four-person mesh journeys, many times in a row, joins in
// every order (end2end/stress). Each run has its own room and browsers; failures go on to the next.
import { defineConfig } from '@playwright/test';
import os from 'node:os';
import path from 'node:path';
import base from './playwright.config';

// Each invocation collects its runs' outcomes in a new file (the workers inherit the name).
process.env.STRESS_RESULTS ??= path.join(os.tmpdir(), `knock-stress-${Date.now()}.jsonl`);

export default defineConfig({
  ...base,
  testDir: './stress',
  timeout: 180_000,
});
