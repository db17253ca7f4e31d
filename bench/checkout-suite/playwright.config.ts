import { defineConfig } from '@playwright/test';

/** The checkout journey as a QA team's Playwright Test suite: bench/journeys.ts's `spec` variant runs it. */
export default defineConfig({
  testDir: '.',
  timeout: 30_000,
  use: { baseURL: process.env.DEMO_SHOP_URL ?? 'http://127.0.0.1:4601' },
  projects: [{ name: 'chromium' }],
});
