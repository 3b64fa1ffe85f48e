-- The statistics table's guard in the database itself, against DDL (issue 19).
--
-- Run as a PostgreSQL superuser in the DataStore database (event triggers are a
-- superuser's): stack/stack.sh does at every `up` for each DataStore database,
-- the containers' migrate step (stack/entrypoints/govservice, with
-- GOVSERVICE_PG_ADMIN_URL) and the postgres image's first start
-- (docker/postgres/initdb) likewise. Safe to rerun, and to run from several
-- processes at once (one at a time, under an advisory lock).
--
-- What it guards. The statistics table (the DataStore table behind the
-- service-statistics resource) carries a statement trigger,
-- govservice_loader_only, that refuses INSERT, UPDATE, DELETE and TRUNCATE from
-- any transaction but a load's (loader.guard_table puts it on at the first
-- load). Its owner, CKAN's DataStore write role, could still DROP the table,
-- DROP a column, disable or drop the trigger, or rewrite a column away
-- (ALTER ... TYPE ... USING NULL): datastore_delete without filters (called
-- with ignore_auth, which skips our CKAN-side guard), a future CKAN change or
-- a bug would lose every department's KPI history. These event triggers
-- refuse that, for every table that carries the guard trigger:
--   sql_drop          dropping the table, one of its columns, or its guard
--                     trigger (or the trigger's function, which takes the
--                     trigger with it);
--   ddl_command_end   an ALTER that leaves the guard trigger disabled, renamed
--                     or firing only on replicas;
--   table_rewrite     a rewrite of the table (a column's type changed);
--   ddl_command_start and ddl_command_end, together
--                     renaming the table, moving it to another schema, or
--                     renaming one of its columns, by whatever command (ALTER
--                     TABLE, but also ALTER INDEX, which PostgreSQL lets rename
--                     a table: every command is compared, not only some tags).
--                     For CKAN a table no longer at
--                     public."<resource id>" is as good as dropped, and the
--                     loader finds its columns by name. The start notes each
--                     guarded table's schema, name and column names (in a
--                     setting of the transaction's, a stack for nested DDL), the
--                     end compares: PostgreSQL hands an event trigger no parse
--                     tree to tell a RENAME from an ADD COLUMN.
-- Adding columns (datastore_create when statistics.yaml gains fields),
-- comments, indexes and other triggers stay allowed: the platform's own
-- migration path (statistics_publish) and tune_table use them.
--
-- Why event triggers rather than a table owned by a NOLOGIN role with only
-- DML granted to the write role: the write role owns the DataStore database
-- and its public schema, and a schema's owner may drop any table in it
-- whoever owns the table; and the DataStore itself ALTERs the table (new
-- columns, its full-text trigger and indexes), which only the owner may. The
-- event triggers and their function belong to the superuser in a schema of
-- its own, so the write role can neither change nor disable them.
--
-- The one way past: a transaction that says it replaces the table on purpose
-- (SET LOCAL govservice.statistics_writer = 'replace'; statistics_store's
-- allow_replacing() does), as a restore (pg_restore --clean) or a test's
-- reset does; and a superuser, who could switch these triggers off anyway.

BEGIN;
SELECT pg_advisory_xact_lock(hashtext('govservice statistics database guard'));

CREATE SCHEMA IF NOT EXISTS govservice_guard;
-- usage only (the event triggers' functions run as whoever issues the DDL); no
-- one but the superuser may create or replace anything in it
REVOKE ALL ON SCHEMA govservice_guard FROM PUBLIC;
GRANT USAGE ON SCHEMA govservice_guard TO PUBLIC;
COMMENT ON SCHEMA govservice_guard IS
  'The superuser''s guard of the statistics table against DDL (statistics_store/database_guard.sql)';

-- Is this transaction allowed past: it replaces the table on purpose, or it is a superuser's?
CREATE OR REPLACE FUNCTION govservice_guard.replacing() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
  SELECT coalesce(current_setting('govservice.statistics_writer', true), '') = 'replace'
      OR (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
$$;

-- Does the table carry the statistics guard trigger (by its function, whatever its name)?
CREATE OR REPLACE FUNCTION govservice_guard.guarded(rel oid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
  SELECT EXISTS (SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                 WHERE t.tgrelid = rel AND p.proname = 'statistics_loader_only')
$$;

CREATE OR REPLACE FUNCTION govservice_guard.refuse(tag text, what text, tab text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  RAISE EXCEPTION 'the statistics table % keeps every department''s service statistics: % refused (%)',
      tab, tag, what
    USING ERRCODE = 'insufficient_privilege',
          HINT = 'It is changed only by govservice_statistics_load, one department''s file at a time; '
                 'a step that replaces the table on purpose sets govservice.statistics_writer to replace '
                 'in its transaction.';
END $$;

CREATE OR REPLACE FUNCTION govservice_guard.statistics_drop() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
  o record;
BEGIN
  IF govservice_guard.replacing() THEN RETURN; END IF;
  FOR o IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
    -- the table, or the guard itself: its trigger goes with it (by name,
    -- which ddl_command_end keeps; the catalogue row is gone by now)
    IF o.object_type = 'trigger' AND o.address_names[3] = 'govservice_loader_only' THEN
      PERFORM govservice_guard.refuse(tg_tag, 'its guard trigger would go with it', o.address_names[2]);
    ELSIF o.object_type = 'table column' AND govservice_guard.guarded(o.objid) THEN
      PERFORM govservice_guard.refuse(tg_tag, 'column ' || o.address_names[3] || ' would be dropped',
                                      o.address_names[2]);
    END IF;
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION govservice_guard.statistics_alter() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
  rel oid;
BEGIN
  IF govservice_guard.replacing() THEN RETURN; END IF;
  FOR rel IN
    SELECT CASE WHEN c.classid = 'pg_trigger'::regclass
                THEN (SELECT tgrelid FROM pg_trigger WHERE oid = c.objid) ELSE c.objid END
    FROM pg_event_trigger_ddl_commands() c
    WHERE c.classid IN ('pg_class'::regclass, 'pg_trigger'::regclass)
  LOOP
    IF govservice_guard.guarded(rel) AND NOT EXISTS (
        SELECT 1 FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
        WHERE t.tgrelid = rel AND p.proname = 'statistics_loader_only'
          AND t.tgname = 'govservice_loader_only' AND t.tgenabled IN ('O', 'A')) THEN
      PERFORM govservice_guard.refuse(tg_tag, 'its guard trigger would be disabled or renamed',
                                      (SELECT relname FROM pg_class WHERE oid = rel));
    END IF;
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION govservice_guard.statistics_rewrite() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  IF NOT govservice_guard.replacing() AND govservice_guard.guarded(pg_event_trigger_table_rewrite_oid()) THEN
    PERFORM govservice_guard.refuse(tg_tag, 'its rows would be rewritten',
                                    (SELECT relname FROM pg_class WHERE oid = pg_event_trigger_table_rewrite_oid()));
  END IF;
END $$;

-- Each guarded table's schema, name and columns (attnum -> name), by its oid.
CREATE OR REPLACE FUNCTION govservice_guard.shapes() RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
  SELECT coalesce(jsonb_object_agg(c.oid::text, jsonb_build_object(
           'schema', n.nspname, 'name', c.relname,
           'columns', (SELECT jsonb_object_agg(a.attnum::text, a.attname) FROM pg_attribute a
                       WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped))), '{}')
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.oid IN (SELECT t.tgrelid FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
                  WHERE p.proname = 'statistics_loader_only')
$$;

-- The stack of shapes noted at the start of each DDL command still running in
-- this transaction (a local setting: gone with the transaction or its
-- savepoint when the command fails).
CREATE OR REPLACE FUNCTION govservice_guard.noted() RETURNS jsonb
LANGUAGE sql STABLE SET search_path = pg_catalog AS $$
  SELECT coalesce(nullif(current_setting('govservice_guard.shapes', true), ''), '[]')::jsonb
$$;

CREATE OR REPLACE FUNCTION govservice_guard.statistics_note() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
BEGIN
  IF govservice_guard.replacing() THEN RETURN; END IF;
  PERFORM set_config('govservice_guard.shapes',
                     (govservice_guard.noted() || jsonb_build_array(govservice_guard.shapes()))::text, true);
END $$;

CREATE OR REPLACE FUNCTION govservice_guard.statistics_rename() RETURNS event_trigger
LANGUAGE plpgsql SET search_path = pg_catalog AS $$
DECLARE
  stack jsonb := govservice_guard.noted();
  was record;
  cur record;
  col record;
BEGIN
  IF govservice_guard.replacing() OR jsonb_array_length(stack) = 0 THEN RETURN; END IF;
  PERFORM set_config('govservice_guard.shapes', (stack - (-1))::text, true);
  FOR was IN SELECT key::oid AS rel, value->>'schema' AS schema, value->>'name' AS name,
                    value->'columns' AS columns
             FROM jsonb_each(stack -> -1) LOOP
    SELECT n.nspname AS schema, c.relname AS name INTO cur
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = was.rel;
    CONTINUE WHEN NOT FOUND;   -- dropped: the sql_drop trigger judged that
    IF cur.schema <> was.schema THEN
      PERFORM govservice_guard.refuse(tg_tag, 'it would be moved to schema ' || cur.schema, was.name);
    ELSIF cur.name <> was.name THEN
      PERFORM govservice_guard.refuse(tg_tag, 'it would be renamed to ' || cur.name, was.name);
    END IF;
    -- columns it had (added ones are new attnums, allowed), by attnum: renamed?
    FOR col IN SELECT was.columns->>a.attnum::text AS old, a.attname AS new FROM pg_attribute a
               WHERE a.attrelid = was.rel AND a.attnum > 0 AND NOT a.attisdropped
                 AND was.columns ? a.attnum::text AND a.attname <> was.columns->>a.attnum::text LOOP
      PERFORM govservice_guard.refuse(tg_tag, 'column ' || col.old || ' would be renamed to ' || col.new,
                                      was.name);
    END LOOP;
  END LOOP;
END $$;

DROP EVENT TRIGGER IF EXISTS govservice_statistics_drop;
CREATE EVENT TRIGGER govservice_statistics_drop ON sql_drop
  EXECUTE FUNCTION govservice_guard.statistics_drop();
DROP EVENT TRIGGER IF EXISTS govservice_statistics_alter;
CREATE EVENT TRIGGER govservice_statistics_alter ON ddl_command_end
  WHEN TAG IN ('ALTER TABLE', 'ALTER TRIGGER')
  EXECUTE FUNCTION govservice_guard.statistics_alter();
DROP EVENT TRIGGER IF EXISTS govservice_statistics_rewrite;
CREATE EVENT TRIGGER govservice_statistics_rewrite ON table_rewrite
  EXECUTE FUNCTION govservice_guard.statistics_rewrite();
-- every command, not only ALTER TABLE: ALTER INDEX renames a table too, and other commands may move one
DROP EVENT TRIGGER IF EXISTS govservice_statistics_note;
CREATE EVENT TRIGGER govservice_statistics_note ON ddl_command_start
  EXECUTE FUNCTION govservice_guard.statistics_note();
DROP EVENT TRIGGER IF EXISTS govservice_statistics_rename;
CREATE EVENT TRIGGER govservice_statistics_rename ON ddl_command_end
  EXECUTE FUNCTION govservice_guard.statistics_rename();

COMMIT;
