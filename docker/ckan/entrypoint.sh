#!/usr/bin/env bash
# Container entrypoint of the ckan image: docker/ckan/entrypoint.sh ROLE [ARGS]
#   1. reads the secrets from files (/run/secrets/…), never from the image or the environment
#   2. writes /etc/ckan/base.ini from stack/ckan.ini.in (the local stack's template)
#      and /etc/ckan/ckan.ini from docker/ckan/ckan.docker.ini.in (the service addresses)
#   3. waits for PostgreSQL and Redis (and Solr for CKAN itself)
#   4. runs ROLE through stack/entrypoints/govservice, the local stack's own start-up script.
# Extra roles here: `init` = migrate, then init-site (the one-shot ckan-init service);
# `config` = write the config files and stop (used by the tests).
# Every variable and its default: docker/README.md, "Configuration".
set -euo pipefail

# the source tree: /srv/govservice in the image (this file is docker/ckan/entrypoint.sh in it)
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ETC=${GOVSERVICE_ETC:-/etc/ckan}

# Secrets: NAME comes from the file NAME_FILE names (compose mounts them under /run/secrets).
for name in GOVSERVICE_SECRET GOVSERVICE_DB_PASSWORD GOVSERVICE_DATASTORE_RO_PASSWORD \
            GOVSERVICE_ADMIN_PASSWORD GOVSERVICE_PG_ADMIN_PASSWORD GOVHARVEST_ADMIN_SECRET; do
  file_var=${name}_FILE
  if [ -n "${!file_var:-}" ]; then
    [ -r "${!file_var}" ] || { echo "entrypoint: cannot read $file_var=${!file_var}" >&2; exit 1; }
    export "$name=$(cat "${!file_var}")"
  fi
done
: "${GOVSERVICE_DB_PASSWORD:?set GOVSERVICE_DB_PASSWORD_FILE}"
# The harvest admin app faces uploads and runs no CKAN code: it is not given CKAN's
# secret nor the DataStore's read password (compose mounts neither), so it needs none.
if [ "${1:-web}" != harvest-admin ]; then
  : "${GOVSERVICE_SECRET:?set GOVSERVICE_SECRET_FILE}"
  : "${GOVSERVICE_DATASTORE_RO_PASSWORD:?set GOVSERVICE_DATASTORE_RO_PASSWORD_FILE}"
fi

export GOVSERVICE_PG_HOST=${GOVSERVICE_PG_HOST:-postgres}
export GOVSERVICE_PG_PORT=${GOVSERVICE_PG_PORT:-5432}
export GOVSERVICE_DATASTORE_READ_HOST=${GOVSERVICE_DATASTORE_READ_HOST:-$GOVSERVICE_PG_HOST}
export GOVSERVICE_DATASTORE_READ_PORT=${GOVSERVICE_DATASTORE_READ_PORT:-$GOVSERVICE_PG_PORT}
export GOVSERVICE_DB=${GOVSERVICE_DB:-govservice}
# this container's database role (compose gives each its own: docker/postgres/roles.sql)
export GOVSERVICE_DB_USER=${GOVSERVICE_DB_USER:-govservice}
export GOVSERVICE_DATASTORE_DB=${GOVSERVICE_DATASTORE_DB:-govservice_datastore}
export GOVSERVICE_SOLR_URL=${GOVSERVICE_SOLR_URL:-http://solr:8983/solr/ckan}
export GOVSERVICE_REDIS_URL=${GOVSERVICE_REDIS_URL:-redis://redis:6379/0}
export GOVSERVICE_SITE_URL=${GOVSERVICE_SITE_URL:-http://localhost:8080}
export GOVSERVICE_INTERNAL_URL=${GOVSERVICE_INTERNAL_URL:-http://ckan:5000}
export GOVSERVICE_SITE_ID=${GOVSERVICE_SITE_ID:-govservice}
export GOVSERVICE_VAR=${GOVSERVICE_VAR:-/var/lib/ckan}
# base.ini's own placeholders (its URLs are replaced by ckan.ini's above)
export GOVSERVICE_CONFIG_ROLE=ckan.ini GOVSERVICE_REDIS_DB=0 GOVSERVICE_CKAN_PORT=5000 \
       GOVSERVICE_SOLR_PORT=8983 GOVSERVICE_REDIS_PORT=6379
export CKAN_INI=$ETC/ckan.ini
# The harvesters' settings, from the same secrets.
export GOVHARVEST_DB_URL=${GOVHARVEST_DB_URL:-postgresql://$GOVSERVICE_DB_USER:$GOVSERVICE_DB_PASSWORD@$GOVSERVICE_PG_HOST:$GOVSERVICE_PG_PORT/govharvest}
export GOVHARVEST_CKAN_URL=${GOVHARVEST_CKAN_URL:-$GOVSERVICE_INTERNAL_URL}
export GOVHARVEST_REDIS_URL=${GOVHARVEST_REDIS_URL:-redis://redis:6379/10}
export GOVSERVICE_TOKEN_FILE=${GOVSERVICE_TOKEN_FILE:-/var/lib/govservice-token/api-token}
export GOVHARVEST_CKAN_TOKEN_FILE=${GOVHARVEST_CKAN_TOKEN_FILE:-$GOVSERVICE_TOKEN_FILE}
export GOVSERVICE_CKAN_BIND=${GOVSERVICE_CKAN_BIND:-0.0.0.0:5000}
export GOVSERVICE_HARVEST_ADMIN_BIND=${GOVSERVICE_HARVEST_ADMIN_BIND:-0.0.0.0:8800}
if [ -n "${GOVSERVICE_PG_ADMIN_PASSWORD:-}" ]; then
  export GOVSERVICE_PG_ADMIN_URL="postgresql://postgres:$GOVSERVICE_PG_ADMIN_PASSWORD@$GOVSERVICE_PG_HOST:$GOVSERVICE_PG_PORT/postgres"
fi

render() {  # $1 template, $2 target: only when changed, readable by this user alone
  local tmp; tmp=$(mktemp "$ETC/.ini.XXXXXX")
  envsubst <"$1" >"$tmp"; chmod 600 "$tmp"; mv "$tmp" "$2"
}
mkdir -p "$ETC" "$GOVSERVICE_VAR/storage"
render "$SRC/stack/ckan.ini.in" "$ETC/base.ini"
render "$SRC/docker/ckan/ckan.docker.ini.in" "$ETC/ckan.ini"
[ "${1:-}" = config ] && exit 0

wait_for() {  # $1 what, then a check command; up to GOVSERVICE_WAIT seconds
  local what=$1 i; shift
  for ((i = 0; i < ${GOVSERVICE_WAIT:-120}; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done
  echo "entrypoint: $what did not answer within ${GOVSERVICE_WAIT:-120}s" >&2; exit 1
}
redis_host_port() { local hp=${1#redis://}; hp=${hp%%/*}; echo "${hp%:*} ${hp##*:}"; }
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

role=${1:-web}
set -- "$role" "${@:2}"
case $role in
  web|worker|scheduler|migrate|init|init-site|backup|restore|ckan|harvest-worker|harvest-scheduler|harvest-admin)
    wait_for PostgreSQL pg_isready -q -h "$GOVSERVICE_PG_HOST" -p "$GOVSERVICE_PG_PORT"
    # shellcheck disable=SC2046
    wait_for Redis tcp_open $(redis_host_port "$GOVSERVICE_REDIS_URL") ;;
esac
case $role in
  web|worker|scheduler|migrate|init|init-site|restore|ckan)
    wait_for Solr curl -fsS "$GOVSERVICE_SOLR_URL/admin/ping" ;;
esac

if [ "$role" = init ]; then
  if [ -n "${GOVSERVICE_PG_ADMIN_URL:-}" ] && [ -n "${GOVSERVICE_ROLES_SQL:-}" ]; then
    # every container's role and password (new roles on an older volume, rotated passwords)
    psql -X -q -v ON_ERROR_STOP=1 -f "$GOVSERVICE_ROLES_SQL" "$GOVSERVICE_PG_ADMIN_URL"
  elif [ -n "${GOVSERVICE_PG_ADMIN_URL:-}" ]; then
    # the secret files are the source of truth, as var/secrets.env is locally: a rotated
    # password takes effect at the next `docker compose up`
    psql -X -q -v ON_ERROR_STOP=1 -v db_password="$GOVSERVICE_DB_PASSWORD" \
         -v ro_password="$GOVSERVICE_DATASTORE_RO_PASSWORD" "$GOVSERVICE_PG_ADMIN_URL" <<'SQL'
ALTER ROLE govservice WITH LOGIN PASSWORD :'db_password';
ALTER ROLE govservice_datastore_ro WITH LOGIN PASSWORD :'ro_password';
SQL
  fi
  "$SRC/stack/entrypoints/govservice" migrate
  exec "$SRC/stack/entrypoints/govservice" init-site
fi
exec "$SRC/stack/entrypoints/govservice" "$@"
