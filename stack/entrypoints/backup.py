#!/usr/bin/env python3
"""Back up and restore the platform's state: ``backup.py backup|restore DIR``.

What is kept, in DIR:
  ckan.dump        pg_dump (custom format) of CKAN's database (sqlalchemy.url)
  datastore.dump   pg_dump of the DataStore (ckan.datastore.write_url)
  harvest.dump     pg_dump of the harvest database (GOVHARVEST_DB_URL), when set
  manifest.json    when, from which site, and what it holds (datasets, tables, sources)

The Solr index is not copied: it is derived, document for document, from CKAN's
database, so ``restore`` rebuilds it (``ckan search-index rebuild``) from the
database it has just restored. Index and catalogue then always agree, the dump
does not depend on the Solr version or schema, and there is nothing to copy out
of the Solr server's file system (docker/README.md, "Backup and restore").

``restore`` loads each dump into the databases the *current* configuration
names (CKAN_INI, GOVHARVEST_DB_URL), replacing the objects the dump holds, in
one transaction per database: a failed restore leaves that database as it was.
Stop the web servers and workers first. The databases must exist (an empty one
is fine) and belong to the role in the URLs, as the stack and the containers
set them up.

Settings: CKAN_INI (required); CKAN_SQLALCHEMY_URL, CKAN_DATASTORE_WRITE_URL
override the file as they do for CKAN; GOVHARVEST_DB_URL or GOVHARVEST_ENV_FILE
for the harvest database.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

DUMPS = ("ckan", "datastore", "harvest")


def ckan_urls() -> dict[str, str]:
    from ckan.cli import CKANConfigLoader

    config = CKANConfigLoader(os.environ["CKAN_INI"]).get_config()
    urls = {
        "ckan": os.environ.get("CKAN_SQLALCHEMY_URL") or config["sqlalchemy.url"],
        "datastore": os.environ.get("CKAN_DATASTORE_WRITE_URL") or config["ckan.datastore.write_url"],
    }
    harvest = harvest_url()
    if harvest:
        urls["harvest"] = harvest
    return urls


def harvest_url() -> str | None:
    if os.environ.get("GOVHARVEST_DB_URL"):
        return os.environ["GOVHARVEST_DB_URL"]
    env_file = os.environ.get("GOVHARVEST_ENV_FILE")
    if env_file and Path(env_file).exists():
        for line in Path(env_file).read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "GOVHARVEST_DB_URL":
                return value.strip()
    return None


def pg_env(url: str) -> tuple[dict[str, str], str]:
    """libpq settings for a SQLAlchemy-style URL, the password kept out of argv."""
    parts = urlsplit(url.replace("postgresql+psycopg2://", "postgresql://", 1))
    env = {**os.environ, "PGHOST": parts.hostname or "127.0.0.1", "PGPORT": str(parts.port or 5432),
           "PGUSER": unquote(parts.username or "")}
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return env, parts.path.lstrip("/")


def psql_value(url: str, sql: str) -> str:
    env, db = pg_env(url)
    return subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-d", db, "-c", sql],
                          env=env, check=True, capture_output=True, text=True).stdout.strip()


def census(urls: dict[str, str]) -> dict[str, int]:
    """What a restore should find again: counts a reader can check by eye."""
    counts = {
        "datasets": int(psql_value(urls["ckan"], "SELECT count(*) FROM package WHERE state = 'active'")),
        "datastore_tables": int(psql_value(
            urls["datastore"],
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE '\\_%'")),
    }
    if "harvest" in urls:
        counts["harvest_sources"] = int(psql_value(urls["harvest"], "SELECT count(*) FROM source"))
    return counts


def backup(target: Path) -> None:
    urls = ckan_urls()
    target.mkdir(parents=True, exist_ok=True)
    for name, url in urls.items():
        env, db = pg_env(url)
        out = target / f"{name}.dump"
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(out), db],
                       env=env, check=True)
        print(f"{name}: {db} -> {out} ({out.stat().st_size // 1024} KiB)")
    manifest = {
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "databases": {name: pg_env(url)[1] for name, url in urls.items()},
        "counts": census(urls),
        "solr": "rebuilt from the CKAN database on restore",
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"backup complete: {target} {manifest['counts']}")


def restore(source: Path) -> None:
    manifest = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    urls = ckan_urls()
    for name in DUMPS:
        dump = source / f"{name}.dump"
        if not dump.exists():
            continue
        if name not in urls:
            sys.exit(f"restore: {dump} needs a harvest database: set GOVHARVEST_DB_URL")
        env, db = pg_env(urls[name])
        only = []
        if name == "datastore":
            # it replaces the statistics table on purpose, past the database's guard against
            # DROP (statistics_store/database_guard.sql); that guard, a superuser's event
            # triggers, is the target's own, put there by its set-up: not restored by the owner
            env["PGOPTIONS"] = "-c govservice.statistics_writer=replace"
            listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True,
                                     check=True).stdout.splitlines()
            kept = tempfile.NamedTemporaryFile("w", suffix=".list", delete=False)   # noqa: SIM115
            with kept:
                kept.write("\n".join(line for line in listing
                                     if "EVENT TRIGGER" not in line and "govservice_guard" not in line) + "\n")
            only = ["--use-list", kept.name]
        subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction",
                        "--exit-on-error", *only, "--dbname", db, str(dump)], env=env, check=True)
        if only:
            os.unlink(only[1])
        print(f"{name}: {dump} -> {db}")
    # The index follows the catalogue just restored (a full rebuild also drops
    # this site's documents for datasets the restored database does not have).
    subprocess.run(["ckan", "-c", os.environ["CKAN_INI"], "search-index", "rebuild", "--quiet"],
                   check=True)
    found = census(urls)
    expected = manifest["counts"]
    print(f"restore complete: {found} (backup had {expected})")
    if found != expected:
        sys.exit(f"restore: the restored databases hold {found}, the backup recorded {expected}")


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[0] not in ("backup", "restore"):
        sys.exit("usage: backup.py backup|restore DIR")
    if "CKAN_INI" not in os.environ:
        sys.exit("backup.py: set CKAN_INI")
    (backup if argv[0] == "backup" else restore)(Path(argv[1]))


if __name__ == "__main__":
    main(sys.argv[1:])
