#!/usr/bin/env bash
# Headless-browser scenarios (scripts/browser/scenarios/*.mjs) in Debian's Chromium, driven
# by playwright-core, against the debug aura-api on a fresh PostgreSQL database. The browser
# reaches the API under a host name that is not a loopback one (aura-api.test, mapped to
# 127.0.0.1 inside Chromium), so the pages behave as they would on a real host. Every
# request to another host is aborted and fails the scenario.
#
#   bash scripts/browser.sh                           # as CI runs it
#   bash scripts/browser.sh scripts/browser/scenarios/docs.mjs   # some scenario files only
#   AURA_KEEP_TMP=1 bash scripts/browser.sh           # keep the API log and captured mail
#
# Chromium: /usr/bin/chromium (or CHROMIUM_PATH); installed with apt-get when missing, which
# needs root (CI runs as root; elsewhere run `sudo apt-get install -y chromium` once).
# playwright-core is pinned by scripts/browser/package-lock.json and installed with `npm ci`
# into scripts/browser/node_modules (git-ignored) when missing or stale; it downloads no
# browser. Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
started=$SECONDS

HARNESS=$AURA_ROOT/scripts/browser
export CHROMIUM_PATH=${CHROMIUM_PATH:-/usr/bin/chromium}

if [ ! -x "$CHROMIUM_PATH" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "$CHROMIUM_PATH is missing: install Debian's chromium (sudo apt-get install -y chromium)" >&2
        exit 1
    fi
    echo "== installing Debian's chromium"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# node_modules is reinstalled when the pinned manifest or lock changes (a stamp inside it).
lock_hash=$(cat "$HARNESS/package.json" "$HARNESS/package-lock.json" | sha256sum | cut -c1-16)
stamp=$HARNESS/node_modules/.aura-lock-hash
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
    echo "== npm ci in scripts/browser"
    (cd "$HARNESS" && npm ci --silent --no-audit --no-fund)
    echo "$lock_hash" >"$stamp"
fi

aura_create_db browser
# The port is chosen first: the links in the intake's confirmation mails carry
# PUBLIC_BASE_URL, and the scenario follows them in the browser as a person would.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
aura_start_api api DATABASE_URL="$AURA_APP_URL" MIGRATION_DATABASE_URL="$AURA_OWNER_URL" \
    RUN_MIGRATIONS=true BIND_ADDR="127.0.0.1:$port" PUBLIC_BASE_URL="http://aura-api.test:$port" \
    PASSWORD_PEPPER="$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')"
echo "== aura-api on 127.0.0.1:$AURA_PORT (database $AURA_DB), seen by Chromium as aura-api.test"

set +e
AURA_BASE_URL="http://aura-api.test:$AURA_PORT" AURA_BROWSER_RESOLVE="aura-api.test=127.0.0.1" \
    AURA_API_URL="http://127.0.0.1:$AURA_PORT" AURA_MAIL_DIR="$AURA_TMP/api/mail" \
    node "$HARNESS/run.mjs" "$@"
status=$?
set -e
if [ "$status" -ne 0 ]; then
    echo "-- last lines of the aura-api log:"
    tail -n 20 "$AURA_TMP/api.log"
    echo "browser: FAILED (exit $status) after $((SECONDS - started)) s"
    exit "$status"
fi
echo "browser: OK in $((SECONDS - started)) s"
