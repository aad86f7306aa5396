#!/usr/bin/env bash
# Installs what the end-to-end tests need, offline-safe and idempotent: Debian packages (chromium for
# Playwright, libkrb5-dev and ripgrep for code-server's install, python3-venv for .venv-torch), then e2e/ and e2e/code-server/ via
# `npm ci`, each only when its node_modules is missing or its lockfile changed; then CPU torch in
# .venv-torch/ for PyTorch models (scripts/torchVenv.mjs).
# Recipe and pitfalls: shared/notes/e2e-code-server.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
apt_log="$here/.run/apt.log"
log() { printf '[e2e setup] %s\n' "$*"; }

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

# --- 2. ripgrep cache seed ------------------------------------------------------------------------------
# @vscode/ripgrep 1.15.11 (inside code-server) downloads rg from GitHub in its postinstall; a tarball in its
# cache with the exact expected name makes it use that instead. We hand it Debian's rg.
seed_ripgrep() {
  local cache tarball tmp
  cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-1.15.11"
  tarball="$cache/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"
  [[ -s "$tarball" ]] && return 0
  log "seeding ripgrep cache: $tarball"
  mkdir -p "$cache"
  tmp="$(mktemp -d)"
  cp "$(command -v rg)" "$tmp/rg"
  tar czf "$tarball" -C "$tmp" rg
  rm -rf "$tmp"
}

# --- 3. npm ci with a stamp -----------------------------------------------------------------------------
# Run under `npm test`, this script inherits npm's npm_config_* variables, e.g. the root .npmrc's
# ignore-scripts=true or `call`, which breaks node-pty's nested npx. Each install starts from a clean npm
# environment with only the settings below.
npm_scrub=()
for name in $(compgen -e); do
  if [[ "$name" == npm_* ]]; then npm_scrub+=(-u "$name"); fi
done

# The stamp (inside node_modules, so removing node_modules removes it) holds the hash of the lockfile and of
# the Node version the native modules were built for.
npm_ci_if_needed() {
  local dir="$1"
  shift
  local stamp="$dir/node_modules/.e2e-stamp" want
  want="$(cat "$dir/package-lock.json" <(node -p 'process.version + " " + process.versions.modules') | sha256sum | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "$(basename "$dir"): node_modules up to date"
    return 0
  fi
  log "$(basename "$dir"): npm ci"
  local t0=$SECONDS
  (cd "$dir" && env "${npm_scrub[@]}" npm_config_ignore_scripts=false "$@" npm ci --no-audit --no-fund --loglevel=error)
  echo "$want" >"$stamp"
  log "$(basename "$dir"): npm ci took $((SECONDS - t0)) s"
}

npm_ci_if_needed "$here"

seed_ripgrep
# unsafe_perm: code-server's postinstall refuses to run as root without it. yes: node-pty's postinstall
# runs `npx node-gyp`, which ~/.npmrc's `yes=false` would cancel. nodedir: node-gyp would download Node's
# headers; Debian's nodejs ships them under /usr/include/node.
cs_env=(npm_config_unsafe_perm=true npm_config_yes=true)
if [[ -f /usr/include/node/node.h ]]; then cs_env+=(npm_config_nodedir=/usr); fi
npm_ci_if_needed "$here/code-server" "${cs_env[@]}"

"$here/code-server/node_modules/.bin/code-server" --version >/dev/null

# --- 4. CPU torch for Python models --------------------------------------------------------------------
node "$here/../scripts/torchVenv.mjs" >/dev/null || log 'torch could not be installed: tests of Python models skip'
log 'ready'
