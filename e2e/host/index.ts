// Loaded by the extension host as `extensionTestsPath`: runs the compiled *.test.js files beside it with
// mocha and writes {passed, failed} to $E2E_HOST_RESULT for e2e/runHostTests.mjs.
import Mocha from 'mocha';
import fs from 'node:fs';
import path from 'node:path';

function writeResult(passed: number, failed: number): void {
  const file = process.env.E2E_HOST_RESULT;
  if (file) fs.writeFileSync(file, JSON.stringify({ passed, failed }) + '\n');
}

/** Runs the suite; rejects when a test failed, which makes the workbench report exit code 1. */
export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', reporter: 'spec', color: false, timeout: 60_000 });
  for (const file of fs.readdirSync(__dirname).sort()) {
    if (file.endsWith('.test.js')) mocha.addFile(path.join(__dirname, file));
  }
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        writeResult(runner.stats?.passes ?? 0, failures);
        if (failures > 0) reject(new Error(`${failures} in-host test(s) failed`));
        else resolve();
      });
    } catch (err) {
      writeResult(0, 1);
      reject(err);
    }
  });
}
