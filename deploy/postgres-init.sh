#!/usr/bin/env bash
# Creates the AURA-GDPR roles and database on the first start of the postgres container
# (the official image runs /docker-entrypoint-initdb.d/* only while the data volume is
# empty). It does what `aura db init` does (crates/adapter-postgres/src/setup.rs):
#   aura_owner  owns the database and every table, and runs the migrations;
#   aura_app    is what the API connects as: a LOGIN role that is not the owner, not a
#               member of it, not SUPERUSER and not BYPASSRLS, so row-level security
#               binds it. It is made a member of aura_app_aura, this installation's app
#               role, to which the migrations' grants are moved (AURA_APP_ROLE, migration
#               000023); CONNECT on the database is for that role (and the owner) only.
# Passwords come from AURA_OWNER_PASSWORD and AURA_APP_PASSWORD (docker-compose.yml) and
# are read by psql itself (\getenv), so they never appear on a command line. Changing
# them later: ALTER ROLE ... PASSWORD, or `aura db init` (it resets them from the URLs).
set -euo pipefail
: "${AURA_OWNER_PASSWORD:?AURA_OWNER_PASSWORD must be set}"
: "${AURA_APP_PASSWORD:?AURA_APP_PASSWORD must be set}"

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<'SQL'
\getenv owner_pw AURA_OWNER_PASSWORD
\getenv app_pw AURA_APP_PASSWORD
CREATE ROLE aura_owner LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'owner_pw';
CREATE ROLE aura_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD :'app_pw';
CREATE ROLE aura_app_aura NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
GRANT aura_app_aura TO aura_app;
CREATE DATABASE aura OWNER aura_owner;
REVOKE CONNECT, TEMPORARY ON DATABASE aura FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE aura TO aura_app_aura;
GRANT CONNECT, TEMPORARY ON DATABASE aura TO aura_app;
ALTER DATABASE aura SET aura.app_role = 'aura_app_aura';
SQL
