# Sourced by e2e/setup.sh and e2e/installCodeServer.sh (bash, with pipefail): `log MESSAGE` and
# `npm_ci_if_needed DIR [NAME=value…]`, which runs `npm ci` in DIR only when its node_modules is missing or was
# installed from another lockfile or Node version. Its output goes to the terminal and to `npm_ci_log DIR`.

e2e_run_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.run"

log() { printf '[e2e setup] %s\n' "$*"; }

# Run under `npm test` or `npm run demo`, the scripts inherit npm's npm_config_* variables, e.g. the root .npmrc's
# ignore-scripts=true or `call`, which breaks node-pty's nested npx. Each install starts from a clean npm
# environment with only the settings its caller passes.
npm_scrub=()
for name in $(compgen -e); do
  if [[ "$name" == npm_* ]]; then npm_scrub+=(-u "$name"); fi
done

# Where the last `npm ci` in DIR wrote its output.
npm_ci_log() { printf '%s/npm-ci-%s.log' "$e2e_run_dir" "$(basename "$1")"; }

# The stamp (inside node_modules, so removing node_modules removes it) holds the hash of the lockfile and of
# the Node version the native modules were built for.
npm_ci_if_needed() {
  local dir="$1"
  shift
  local stamp="$dir/node_modules/.e2e-stamp" want npm_log
  want="$(cat "$dir/package-lock.json" <(node -p 'process.version + " " + process.versions.modules') | sha256sum | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "$(basename "$dir"): node_modules up to date"
    return 0
  fi
  npm_log="$(npm_ci_log "$dir")"
  mkdir -p "$e2e_run_dir"
  log "$(basename "$dir"): npm ci (log: $npm_log)"
  local t0=$SECONDS
  (cd "$dir" && env "${npm_scrub[@]}" npm_config_ignore_scripts=false "$@" npm ci --no-audit --no-fund --loglevel=error) 2>&1 |
    tee "$npm_log" || return 1
  echo "$want" >"$stamp"
  log "$(basename "$dir"): npm ci took $((SECONDS - t0)) s"
}
