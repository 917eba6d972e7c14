#!/usr/bin/env bash
# The consultant's portfolio benchmark (issue 16): aura-api on a fresh PostgreSQL
# database, then `aura-loadtest portfolio`, which sets up one account with memberships in
# 50 tenants with realistic data (the invitations accepted through the links in their
# mails) and prints the cold and cached latency of GET /api/v1/me/portfolio (p50/p95/max)
# against the targets (cold p95 < 1 s, cached p95 < 10 ms; exit 1 when missed). The
# server keeps a summary PORTFOLIO_CACHE_SECS=3 here, so a cold sample waits 3.5 s, not
# the default 30. Debug binaries by default, as the other scripts; AURA_PROFILE=release
# measures the release build (built if missing).
#
#   bash scripts/portfoliobench.sh                     # 49 clients + the consultant's own
#   bash scripts/portfoliobench.sh --clients 9 --samples 5
set -euo pipefail
source "$(dirname "$0")/lib.sh"

aura_create_db portfoliobench
# The in-process worker sends the invitation mails (file transport, MAIL_DIR below).
aura_start_api api DATABASE_URL="$AURA_APP_URL" MIGRATION_DATABASE_URL="$AURA_OWNER_URL" \
    RUN_MIGRATIONS=true RATE_LIMIT_ENABLED=false INVITATIONS_PER_DAY=100 \
    WORKER_ENABLED=true WORKER_POLL_MS=200 PORTFOLIO_CACHE_SECS=3 \
    PASSWORD_PEPPER="$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')"
echo "== aura-api ($(basename "$(dirname "$(aura_bin aura-api)")")) pid ${AURA_PIDS[-1]} on 127.0.0.1:$AURA_PORT (database $AURA_DB)"
"$(aura_bin aura-loadtest)" --base-url "http://127.0.0.1:$AURA_PORT" \
    portfolio --mail-dir "$AURA_TMP/api/mail" --cache-secs 3 "$@"
