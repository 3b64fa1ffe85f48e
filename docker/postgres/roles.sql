-- docker/postgres/roles.sql: a database role per container, each with only the
-- databases and privileges it needs (issue 19, least privilege). Run by a
-- superuser with psql, connected to any database, after the three databases
-- exist: by initdb/10-govservice.sh at the postgres volume's first start, and
-- by ckan-init at every `up` (new roles and rotated passwords on an older
-- volume). Safe to rerun. tests/test_docker_roles.py runs it against the real
-- PostgreSQL and tries each role.
--
-- It reads each password from the file its variable names (the secrets compose
-- mounts): GOVSERVICE_DB_PASSWORD_FILE, GOVSERVICE_DATASTORE_RO_PASSWORD_FILE,
-- GOVSERVICE_{WEB,WORKER,SCHEDULER}_DB_PASSWORD_FILE and
-- GOVHARVEST_{WORKER,SCHEDULER,ADMIN}_DB_PASSWORD_FILE; the databases are
-- GOVSERVICE_DB, GOVSERVICE_DATASTORE_DB and GOVHARVEST_DB (defaults
-- govservice, govservice_datastore, govharvest).
--
--   govservice              owner of the three databases: migrations (ckan-init)
--                           and the operators' tools (ckan-cli) only
--   govservice_web          CKAN's web, workers and scheduler: each its own login
--   govservice_worker       and password, acting as govservice (SET ROLE at
--   govservice_scheduler    login): CKAN's DataStore makes and alters tables at
--                           run time, which needs their owner; the statistics
--                           table is kept from DROP/ALTER by the superuser's
--                           event triggers (statistics_store/database_guard.sql)
--   govservice_datastore_ro the public's reads (datastore_search_sql):
--                           SELECT only, granted by `ckan datastore set-permissions`
--   govharvest_worker       the harvest containers, which face department feeds
--   govharvest_scheduler    and uploads: the harvest database only, its rows only
--   govharvest_admin        (no DDL, no CKAN database, no DataStore); they write
--                           to CKAN over its API with a token, as any client
\set ON_ERROR_STOP on
\set ckan_db `echo "${GOVSERVICE_DB:-govservice}"`
\set datastore_db `echo "${GOVSERVICE_DATASTORE_DB:-govservice_datastore}"`
\set harvest_db `echo "${GOVHARVEST_DB:-govharvest}"`
\set db_password `cat "$GOVSERVICE_DB_PASSWORD_FILE"`
\set ro_password `cat "$GOVSERVICE_DATASTORE_RO_PASSWORD_FILE"`
\set web_password `cat "$GOVSERVICE_WEB_DB_PASSWORD_FILE"`
\set worker_password `cat "$GOVSERVICE_WORKER_DB_PASSWORD_FILE"`
\set scheduler_password `cat "$GOVSERVICE_SCHEDULER_DB_PASSWORD_FILE"`
\set harvest_worker_password `cat "$GOVHARVEST_WORKER_DB_PASSWORD_FILE"`
\set harvest_scheduler_password `cat "$GOVHARVEST_SCHEDULER_DB_PASSWORD_FILE"`
\set harvest_admin_password `cat "$GOVHARVEST_ADMIN_DB_PASSWORD_FILE"`
BEGIN;
SELECT pg_advisory_xact_lock(hashtext('govservice roles'));

SELECT format('CREATE ROLE %I NOLOGIN', r) FROM unnest(ARRAY[
    'govservice', 'govservice_datastore_ro', 'govservice_web', 'govservice_worker', 'govservice_scheduler',
    'govharvest_app', 'govharvest_worker', 'govharvest_scheduler', 'govharvest_admin']) r
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec

ALTER ROLE govservice WITH LOGIN PASSWORD :'db_password';
ALTER ROLE govservice_datastore_ro WITH LOGIN PASSWORD :'ro_password';
ALTER ROLE govservice_web WITH LOGIN PASSWORD :'web_password';
ALTER ROLE govservice_worker WITH LOGIN PASSWORD :'worker_password';
ALTER ROLE govservice_scheduler WITH LOGIN PASSWORD :'scheduler_password';
ALTER ROLE govharvest_app WITH NOLOGIN;
ALTER ROLE govharvest_worker WITH LOGIN PASSWORD :'harvest_worker_password';
ALTER ROLE govharvest_scheduler WITH LOGIN PASSWORD :'harvest_scheduler_password';
ALTER ROLE govharvest_admin WITH LOGIN PASSWORD :'harvest_admin_password';

-- CKAN's processes act as the owner (objects they make are the owner's, so the
-- web's tables can be altered by a worker's job and migrated by ckan-init)
GRANT govservice TO govservice_web, govservice_worker, govservice_scheduler;
ALTER ROLE govservice_web SET role = 'govservice';
ALTER ROLE govservice_worker SET role = 'govservice';
ALTER ROLE govservice_scheduler SET role = 'govservice';
GRANT govharvest_app TO govharvest_worker, govharvest_scheduler, govharvest_admin;

-- Nobody connects to a database unless named here (CKAN's set-permissions
-- grants the read-only role its DataStore database).
REVOKE CONNECT, TEMPORARY ON DATABASE :"ckan_db", :"datastore_db", :"harvest_db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"ckan_db", :"datastore_db", :"harvest_db" TO govservice;
GRANT CONNECT ON DATABASE :"harvest_db" TO govharvest_app;
COMMIT;

-- The harvest containers' rows: what exists now, and what the owner's
-- migrations make later (default privileges).
\connect :"harvest_db"
BEGIN;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO govharvest_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO govharvest_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO govharvest_app;
ALTER DEFAULT PRIVILEGES FOR ROLE govservice IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO govharvest_app;
ALTER DEFAULT PRIVILEGES FOR ROLE govservice IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO govharvest_app;
COMMIT;
