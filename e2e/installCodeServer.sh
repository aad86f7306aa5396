#!/usr/bin/env bash
# Installs code-server 4.100.3 into e2e/code-server/ as an ordinary user: no root, no apt, no browser.
# `npm run demo` runs only this; e2e/setup.sh runs it after installing the tests' Debian packages.
# code-server's install builds native modules (make, g++, python3). Where GitHub cannot be reached (this
# project's machines), those that download prebuilt binaries from it build from source, and two then need a
# package: kerberos compiles against the Kerberos headers (Debian: libkrb5-dev), and @vscode/ripgrep fails
# unless its download cache holds rg, which we seed from the system's rg (Debian: ripgrep) when there is one.
# A failed install names what is missing rather than installing it. Details: shared/notes/e2e-code-server.md.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/npmCi.sh"

# @vscode/ripgrep 1.15.11 takes a tarball in its cache with the exact expected name instead of downloading.
seed_ripgrep() {
  local cache tarball tmp
  rg --version >/dev/null 2>&1 || return 0
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

# Turns the two failures seen without GitHub into the package that prevents them.
explain_failure() {
  local npm_log="$1" named=0
  if grep -q 'gssapi/gssapi.h' "$npm_log"; then
    log "code-server's kerberos module could not download its prebuilt binary, and compiling it needs the" \
      'Kerberos headers: install libkrb5-dev (Debian/Ubuntu: sudo apt-get install libkrb5-dev; Fedora: krb5-devel).'
    named=1
  fi
  if grep -q 'Downloading ripgrep failed' "$npm_log"; then
    log "code-server's @vscode/ripgrep could not download rg from GitHub: install ripgrep" \
      '(Debian/Ubuntu: sudo apt-get install ripgrep), whose rg this script then hands to it.'
    named=1
  fi
  ((named)) || log 'code-server could not be installed; its native modules need make, g++ and python3' \
    '(Debian/Ubuntu: build-essential python3).'
  log "Then run this again. npm's output: $npm_log"
}

seed_ripgrep
# unsafe_perm: code-server's postinstall refuses to run as root without it. yes: node-pty's postinstall
# runs `npx node-gyp`, which ~/.npmrc's `yes=false` would cancel. nodedir: node-gyp would download Node's
# headers; Debian's nodejs ships them under /usr/include/node.
cs_env=(npm_config_unsafe_perm=true npm_config_yes=true)
if [[ -f /usr/include/node/node.h ]]; then cs_env+=(npm_config_nodedir=/usr); fi
if ! npm_ci_if_needed "$here/code-server" "${cs_env[@]}"; then
  explain_failure "$(npm_ci_log "$here/code-server")"
  exit 1
fi

"$here/code-server/node_modules/.bin/code-server" --version >/dev/null
