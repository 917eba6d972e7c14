#!/usr/bin/env bash
# Creates the AURA-GDPR roles and database on first start of the postgres container:
# aura_owner owns the schema and runs migrations; aura_app is what the API connects as
# (not owner, not superuser, not BYPASSRLS, so row-level security binds it).
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" \
  -v owner_pw="$AURA_OWNER_PASSWORD" -v app_pw="$AURA_APP_PASSWORD" <<'SQL'
CREATE ROLE aura_owner LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE PASSWORD :'owner_pw';
CREATE ROLE aura_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE PASSWORD :'app_pw';
CREATE DATABASE aura OWNER aura_owner;
SQL
