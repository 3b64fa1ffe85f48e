#!/usr/bin/env bash
# Run once by the postgres image, when its data volume is empty
# (/docker-entrypoint-initdb.d): the databases the platform uses, as
# stack/stack.sh creates them locally, a role per container
# (docker/postgres/roles.sql, mounted at /govservice/roles.sql) and the
# statistics table's guard against DROP/ALTER in the DataStore database (event
# triggers, which only a superuser may create: statistics_store/database_guard.sql,
# mounted at /govservice/database_guard.sql). Passwords come from the secret files.
# The tables, and the DataStore's read-only grants, are made by the ckan-init
# service (stack/entrypoints/govservice migrate), which also runs roles.sql and
# the guard again at every `up`.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<'SQL'
CREATE ROLE govservice LOGIN;
CREATE DATABASE govservice OWNER govservice ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE govservice_datastore OWNER govservice ENCODING 'UTF8' TEMPLATE template0;
CREATE DATABASE govharvest OWNER govservice ENCODING 'UTF8' TEMPLATE template0;
SQL
# every role with its password (read from the files the *_PASSWORD_FILE variables name)
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -f /govservice/roles.sql
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname govservice_datastore \
     -f /govservice/database_guard.sql
