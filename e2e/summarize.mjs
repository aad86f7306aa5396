// Adds up the Playwright JSON report and the in-host result into test-results/e2e-summary.json and prints
// the closing "e2e: N passed, N failed" line. A suite that exited non-zero without reporting a failed test
// (crashed, server did not start) counts as one failure.
// Usage: node e2e/summarize.mjs <playwright exit code> <in-host exit code>
import fs from 'node:fs';
import path from 'node:path';
import { e2eDir, repoRoot } from './codeServer.mjs';

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function uiCounts(exitCode) {
  const stats = readJson(path.join(e2eDir, '.run/ui-report.json'))?.stats;
  const passed = (stats?.expected ?? 0) + (stats?.flaky ?? 0);
  const failed = stats?.unexpected ?? 0;
  return { passed, failed: exitCode !== 0 && failed === 0 ? 1 : failed };
}

function hostCounts(exitCode) {
  const result = readJson(path.join(e2eDir, '.run/host-result.json'));
  const passed = result?.passed ?? 0;
  const failed = result?.failed ?? 0;
  return { passed, failed: exitCode !== 0 && failed === 0 ? 1 : failed };
}

const [uiExit, hostExit] = process.argv.slice(2).map(Number);
const ui = uiCounts(uiExit);
const host = hostCounts(hostExit);
const summary = { passed: ui.passed + host.passed, failed: ui.failed + host.failed };
const outFile = path.join(repoRoot, 'test-results/e2e-summary.json');
fs.mkdirSync(path.dirname(outFile), { recursive: true });
fs.writeFileSync(outFile, JSON.stringify(summary) + '\n');
process.stdout.write(
  `UI (Playwright): ${ui.passed} passed, ${ui.failed} failed; in-host (mocha): ${host.passed} passed, ${host.failed} failed\n` +
    `e2e: ${summary.passed} passed, ${summary.failed} failed\n`,
);
process.exit(summary.failed > 0 ? 1 : 0);
