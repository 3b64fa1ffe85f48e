"""The statistics store in the DataStore database: tables, loader, KPI queries.

* ``tables``: the KPI engine's schema ``govservice_kpi`` (what its tables
  hold, the sums they keep), the database it lives in (``engine``, which
  refuses a database the migrations have not brought to this code's revision)
  and the DataStore table of the statistics rows; the tables themselves are
  made by alembic migrations (``migration/govservice``, run by
  ``ckan db upgrade -p govservice``), never at run time;
* ``loader``: a department's file COPYed, checked against statistics.yaml's
  rules and merged in one transaction, the KPI sums folded in after it; the
  services synced from the catalogue; the per-service summaries;
* ``queries``: every read of those tables (KPI sums per group and period,
  catalogue sums, the latest month, summaries, trends, a department's
  services and rows).

Importers use the names below (``from ckanext.govservice import
statistics_store as store``; ``store.load``, ``store.kpi_sums`` …).
"""
from .loader import (
    FALSE_WORDS, MAX_REJECTIONS, TRUE_WORDS, affected_services, channel_vocabulary,
    load, months_up_to, read_header, records_to_csv, refresh_aggregates, refresh_summaries,
    allow_replacing, service_row, sync_services,
)
from .queries import (
    catalogue_sums, copy_department_rows, department_service_count, department_services, kpi_sums,
    latest_period, plain_number, service_trend, summary,
)
from .tables import (
    CATALOGUE_SUMS, DATASET, RESOURCE_KEY, SCHEMA, SUMMARY_KPIS, SUMS, NotMigrated, engine,
    read_engine, head_revision, require_migrated, revision, table_exists, tune_table, unique_key,
)

__all__ = [
    "CATALOGUE_SUMS", "DATASET", "FALSE_WORDS", "MAX_REJECTIONS", "NotMigrated", "RESOURCE_KEY", "SCHEMA", "SUMS",
    "SUMMARY_KPIS", "TRUE_WORDS", "affected_services", "allow_replacing", "catalogue_sums", "channel_vocabulary",
    "copy_department_rows", "department_service_count", "department_services",
    "engine", "head_revision", "kpi_sums", "latest_period", "load", "months_up_to", "plain_number",
    "read_engine", "read_header", "records_to_csv", "refresh_aggregates", "refresh_summaries", "require_migrated", "revision", "service_row",
    "service_trend", "summary", "sync_services", "table_exists", "tune_table", "unique_key",
]
