// Runs the mocha suite in e2e/host/ inside code-server's Node extension host, in place of
// @vscode/test-electron (which needs a desktop VS Code download). The workbench URL's `payload` parameter
// names the extension under development and the tests; the workbench calls `codeAutomationExit(code)`
// when the tests settle. Writes {passed, failed} to e2e/.run/host-result.json and exits non-zero on failure.
import { chromium } from '@playwright/test';
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import { e2eDir, extensionPath, freePort, prepareRun, startCodeServer } from './codeServer.mjs';

const outDir = path.join(e2eDir, '.run/host-out');
const resultFile = path.join(e2eDir, '.run/host-result.json');
const timeoutMs = 180_000;
// Workbench chatter that the console forwarding also carries; mocha's report is what matters.
const noise = /Ignoring fetching additional builtin extensions|Creating a socket|connection token/;

function print(line) {
  process.stdout.write(line.endsWith('\n') ? line : line + '\n');
}

async function bundleTests() {
  fs.rmSync(outDir, { recursive: true, force: true });
  const hostDir = path.join(e2eDir, 'host');
  await esbuild.build({
    entryPoints: fs
      .readdirSync(hostDir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join(hostDir, f)),
    outdir: outDir,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'inline',
    external: ['vscode', 'mocha'],
    logLevel: 'warning',
  });
}

/** Mocha's closing "N passing" / "N failing" lines, for when the result file was never written. */
function countsFromLog(lines) {
  const count = (word) => {
    const line = lines.findLast((l) => new RegExp(`^\\s*\\d+ ${word}\\b`).test(l));
    return line ? Number(/\d+/.exec(line)[0]) : 0;
  };
  return { passed: count('passing'), failed: count('failing') };
}

async function main() {
  await bundleTests();
  fs.rmSync(resultFile, { force: true });
  const dirs = prepareRun(path.join(e2eDir, '.run/host'), { installExtension: false });
  const port = await freePort();
  const server = await startCodeServer({
    dirs,
    port,
    env: { E2E_HOST_RESULT: resultFile },
    logFile: path.join(dirs.root, 'code-server.log'),
  });
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
  const logLines = [];
  let exitCode;
  try {
    const page = await browser.newPage();
    let onExit;
    const exited = new Promise((resolve) => {
      onExit = resolve;
    });
    await page.exposeFunction('codeAutomationExit', (code) => onExit(code));
    // The workbench forwards the extension host's console calls as (type, [format, ...args]).
    await page.exposeFunction('codeAutomationLog', (_type, args) => {
      const text = Array.isArray(args) ? format(...args) : String(args);
      for (const line of text.split('\n')) {
        logLines.push(line);
        if (!noise.test(line)) print(`  [ext host] ${line}`);
      }
    });
    const remote = (p) => `vscode-remote://127.0.0.1:${port}${p}`;
    const payload = [
      ['extensionDevelopmentPath', remote(extensionPath)],
      ['extensionTestsPath', remote(path.join(outDir, 'index.js'))],
    ];
    const query = new URLSearchParams({ folder: dirs.workspace, payload: JSON.stringify(payload) });
    await page.goto(`${server.url}/?${query}`);
    let timer;
    const timedOut = new Promise((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    exitCode = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
  } finally {
    await browser.close();
    await server.stop();
  }

  let result;
  if (fs.existsSync(resultFile)) {
    result = JSON.parse(fs.readFileSync(resultFile, 'utf8'));
  } else {
    result = countsFromLog(logLines);
    // The suite never got to report: count the run itself as a failure.
    if (result.failed === 0) result.failed = 1;
    fs.writeFileSync(resultFile, JSON.stringify(result) + '\n');
  }
  if (exitCode === 'timeout') print(`in-host tests: no exit code within ${timeoutMs / 1000} s`);
  else print(`in-host tests: exit code ${exitCode}`);
  print(`in-host tests: ${result.passed} passed, ${result.failed} failed`);
  process.exit(exitCode === 0 && result.failed === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
