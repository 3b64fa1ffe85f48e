"""Run statements on CKAN's own database from a revision of this plugin.

This plugin's revisions change the DataStore database (see env.py); the few
that add indexes to CKAN's ``package`` table open CKAN's database themselves
(``sqlalchemy.url``) through ``execute``. Offline (``--sql``), the statements
are printed as comments instead, since they would run elsewhere.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ckan.common import config as ckan_config


def execute(statements: list[str]) -> None:
    """Run ``statements`` in one transaction on CKAN's database."""
    if op.get_context().as_sql:
        for statement in statements:
            op.execute(f"-- on CKAN's database: {statement}")
        return
    engine = sa.create_engine(ckan_config["sqlalchemy.url"], poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()
