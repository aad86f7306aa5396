#!/usr/bin/env bash
# Runs the end-to-end tests against the already-built extension (run `npm run build` in the repo root
# first): Playwright UI tests in a code-server workbench, then mocha inside the extension host.
# Writes test-results/e2e-summary.json ({"passed": n, "failed": n}) and screenshots to test-results/e2e/;
# exits non-zero if anything failed. Extra arguments go to `playwright test` (e.g. a spec file or -g).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"

# E2E_EXTENSION_PATH points the harness at a stand-in extension; by default it tests this repo.
ext="${E2E_EXTENSION_PATH:-$root}"
for built in dist/extension.js models/resnet50.onnx; do
  if [[ -z "${E2E_EXTENSION_PATH:-}" && ! -f "$ext/$built" ]]; then
    echo "e2e: $built is missing: run 'npm run build' in $root first" >&2
    exit 2
  fi
done

bash "$here/setup.sh" || {
  echo 'e2e: setup failed' >&2
  exit 2
}

t0=$SECONDS
"$here/node_modules/.bin/tsc" -p "$here/tsconfig.json" || {
  echo 'e2e: the test sources do not typecheck' >&2
  exit 2
}

rm -rf test-results/e2e "$here/.run/ui-report.json" "$here/.run/host-result.json"
mkdir -p test-results/e2e

echo '== e2e: UI tests (Playwright + code-server)'
"$here/node_modules/.bin/playwright" test -c "$here/playwright.config.mjs" "$@"
ui_rc=$?

echo '== e2e: in-host tests (mocha in the extension host)'
node "$here/runHostTests.mjs"
host_rc=$?

echo "e2e: tests took $((SECONDS - t0)) s"
node "$here/summarize.mjs" "$ui_rc" "$host_rc"
