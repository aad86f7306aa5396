#!/usr/bin/env bash
# Installs what the end-to-end tests need, offline-safe and idempotent: Debian packages (chromium for
# Playwright, libkrb5-dev and ripgrep for code-server's install, python3-venv for .venv-torch), then e2e/ via
# `npm ci` when its node_modules is missing or its lockfile changed, then code-server (e2e/installCodeServer.sh,
# which is all that `npm run demo` needs), then CPU torch in .venv-torch/ for PyTorch models
# (scripts/torchVenv.mjs). The apt step needs root (CI runs as root).
# Recipe and pitfalls: shared/notes/e2e-code-server.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
apt_log="$here/.run/apt.log"
source "$here/npmCi.sh"

# --- 1. Debian packages -------------------------------------------------------------------------------
apt_install() {
  local missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
  dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
  # Debian's python3 makes virtual environments (.venv-torch) only with python3-venv (ensurepip).
  python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
  ((${#missing[@]} == 0)) && return 0

  log "apt-get install ${missing[*]} (log: $apt_log)"
  export DEBIAN_FRONTEND=noninteractive
  mkdir -p "$(dirname "$apt_log")"
  : >"$apt_log"
  # Update the package lists only when they are absent or too old to know the packages.
  if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1 ||
    apt-cache policy "${missing[@]}" 2>/dev/null | grep -q 'Candidate: (none)'; then
    apt-get update -q >>"$apt_log" 2>&1 || { tail -20 "$apt_log"; return 1; }
  fi
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$apt_log" 2>&1; then
    log 'install failed; retrying after apt-get update'
    apt-get update -q >>"$apt_log" 2>&1 &&
      apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$apt_log" 2>&1 ||
      { tail -20 "$apt_log"; return 1; }
  fi
}
apt_install

# --- 2. e2e/ and code-server ----------------------------------------------------------------------------
npm_ci_if_needed "$here"
bash "$here/installCodeServer.sh"

# --- 3. CPU torch for Python models --------------------------------------------------------------------
node "$here/../scripts/torchVenv.mjs" >/dev/null || log 'torch could not be installed: tests of Python models skip'
log 'ready'
