#!/usr/bin/env bash
# Documents' memory benchmark (issue 15): aura-api on a fresh PostgreSQL database, then
# `aura-loadtest documents`, which uploads and downloads a 25 MiB PDF and prints the
# server's idle and peak resident memory (/proc/PID/status), the bound 2 × idle + a fixed
# buffer and the growth over idle within that buffer, and PASS/FAIL (exit 1 on FAIL). Debug binaries by default, as the other scripts;
# AURA_PROFILE=release measures the release build (built if missing).
#
#   bash scripts/docbench.sh                       # 25 MiB, 16 MiB fixed buffer
#   bash scripts/docbench.sh --size-mib 10 --buffer-mib 8
set -euo pipefail
source "$(dirname "$0")/lib.sh"

aura_create_db docbench
# One worker pair as everywhere else; the pool and the limits at their defaults.
aura_start_api api DATABASE_URL="$AURA_APP_URL" MIGRATION_DATABASE_URL="$AURA_OWNER_URL" \
    RUN_MIGRATIONS=true RATE_LIMIT_ENABLED=false \
    PASSWORD_PEPPER="$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')"
pid=${AURA_PIDS[-1]}
echo "== aura-api ($(basename "$(dirname "$(aura_bin aura-api)")")) pid $pid on 127.0.0.1:$AURA_PORT (database $AURA_DB)"
"$(aura_bin aura-loadtest)" --base-url "http://127.0.0.1:$AURA_PORT" documents --server-pid "$pid" "$@"
