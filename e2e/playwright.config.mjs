// Playwright UI tests against a real VS Code workbench served by code-server (see e2e/codeServer.mjs).
// Run through e2e/run.sh, or: npx --prefix e2e playwright test -c e2e/playwright.config.mjs
import { defineConfig } from '@playwright/test';
import path from 'node:path';
import { e2eDir, freePortSync } from './codeServer.mjs';

// Fixed once in the main process; workers inherit the environment, so they all see the same port.
process.env.E2E_PORT ||= String(freePortSync());
const port = Number(process.env.E2E_PORT);
const runDir = path.join(e2eDir, '.run/ui');

export default defineConfig({
  testDir: path.join(e2eDir, 'ui'),
  testMatch: '*.spec.ts',
  outputDir: path.join(e2eDir, '.run/pw-output'),
  // One code-server, two cores: tests run one after another.
  workers: 1,
  fullyParallel: false,
  // One retry covers the context-menu race described in shared/notes/e2e-code-server.md.
  retries: 1,
  timeout: 120_000,
  expect: { timeout: 30_000 },
  reporter: [['list'], ['json', { outputFile: path.join(e2eDir, '.run/ui-report.json') }]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    viewport: { width: 1280, height: 800 },
    launchOptions: { executablePath: '/usr/bin/chromium' },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
  webServer: {
    command: `node ${JSON.stringify(path.join(e2eDir, 'codeServer.mjs'))} --run-dir ${JSON.stringify(runDir)} --port ${port}`,
    url: `http://127.0.0.1:${port}/healthz`,
    reuseExistingServer: false,
    timeout: 90_000,
    stdout: 'pipe',
    gracefulShutdown: { signal: 'SIGTERM', timeout: 10_000 },
  },
});
