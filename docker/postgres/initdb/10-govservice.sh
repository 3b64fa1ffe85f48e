#!/usr/bin/env bash
# Run once by the postgres image, when its data volume is empty
# (/docker-entrypoint-initdb.d): the roles and databases the platform uses, as
# stack/stack.sh creates them locally. Passwords come from the secret files.
# The tables, and the DataStore's read-only grants, are made by the ckan-init
# service (stack/entrypoints/govservice migrate).
set -euo pipefail

db_password=$(cat "${GOVSERVICE_DB_PASSWORD_FILE:?}")
ro_password=$(cat "${GOVSERVICE_DATASTORE_RO_PASSWORD_FILE:?}")

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v db_password="$db_password" -v ro_password="$ro_password" <<'SQL'
CREATE ROLE govservice LOGIN PASSWORD :'db_password';
CREATE ROLE govservice_datastore_ro LOGIN PASSWORD :'ro_password';
CREATE DATABASE govservice OWNER govservice ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE govservice_datastore OWNER govservice ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE govharvest OWNER govservice ENCODING 'UTF8' TEMPLATE template0;
SQL
