#!/usr/bin/env bash
# `make run-prod`: production mode on this machine (README "Deployment").
# Reads deploy/production.env (or DIALOGA_PROD_ENV), fills missing secrets with random ones kept in
# var/prod/generated.env, creates the PostgreSQL database when missing, migrates and seeds it,
# renders nginx's configuration and starts every process of Procfile.prod under honcho.
set -euo pipefail
cd "$(dirname "$0")/.."

env_file="${DIALOGA_PROD_ENV:-deploy/production.env}"
[ -f "$env_file" ] || env_file=deploy/production.env.example
mkdir -p var/prod
generated=var/prod/generated.env
touch "$generated"
chmod 600 "$generated"

set -a
# shellcheck disable=SC1090
. "$env_file"
. "$generated"
set +a

for secret in DIALOGA_SECRET_KEY DIALOGA_RASA_API_TOKEN DIALOGA_METRICS_TOKEN TELEGRAM_WEBHOOK_SECRET; do
  if [ -z "${!secret:-}" ]; then
    value="$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(32))')"
    echo "$secret=$value" >> "$generated"
    export "$secret=$value"
    echo "run-prod: $secret was empty: generated one in $generated"
  fi
done
export DIALOGA_NGINX_PREFIX="$(realpath -m "${DIALOGA_NGINX_PREFIX:-var/prod/nginx}")"

# The database (on the machine's PostgreSQL, trust auth as the postgres user): created when missing.
db_name="${DIALOGA_TRACKER_DB_NAME:-dialoga}"
psql_admin=(psql -h "${DIALOGA_TRACKER_DB_HOST:-127.0.0.1}" -p "${DIALOGA_TRACKER_DB_PORT:-5432}" -U postgres -d postgres -tAq)
if [ "$("${psql_admin[@]}" -c "SELECT 1 FROM pg_database WHERE datname = '$db_name'")" != "1" ]; then
  echo "run-prod: creating the PostgreSQL database $db_name"
  createdb -h "${DIALOGA_TRACKER_DB_HOST:-127.0.0.1}" -p "${DIALOGA_TRACKER_DB_PORT:-5432}" -U postgres "$db_name"
fi

.venv/bin/dialoga db upgrade
.venv/bin/dialoga kb seed
.venv/bin/dialoga deploy nginx --prefix "$DIALOGA_NGINX_PREFIX"
nginx -t -q -c "$DIALOGA_NGINX_PREFIX/nginx.conf" -p "$DIALOGA_NGINX_PREFIX"

processes=(nginx assistant1 assistant2 actions1 actions2 desk worker)
[ -n "${TELEGRAM_BOT_TOKEN:-}" ] && processes+=(telegram)
exec .venv/bin/honcho start -f Procfile.prod "${processes[@]}"
