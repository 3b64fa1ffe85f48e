"""The duplicate service-code check on every save (issue 13): a lookup in an
index of (department, code) on CKAN's package table (migration f13d0a1b2c3d),
not a read of every package row, which at a province's 100,000 services cost
180 ms a save. The planner is asked to avoid sequential scans, as it would on
a large table, and must then be able to use the index for the very query the
validator runs."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

import ckan.model as model

from ckanext.govservice.logic import validators


def _plan(query) -> str:
    sql = str(query.statement.compile(dialect=model.Session.bind.dialect, compile_kwargs={"literal_binds": True}))
    model.Session.execute(sa.text("SET LOCAL enable_seqscan = off"))
    try:
        return "\n".join(r[0] for r in model.Session.execute(sa.text(f"EXPLAIN {sql}")))
    finally:
        model.Session.rollback()


def test_the_index_of_department_and_code_is_on_the_package_table():
    found = model.Session.execute(sa.text(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'govservice_service_department_code_idx'")).scalar()
    assert found is not None
    assert "(owner_org, ((extras ->> 'service_code'::text)))" in found
    assert "WHERE (type = 'service'::text)" in found


@pytest.mark.parametrize("own_id", [None, "00000000-0000-0000-0000-000000000001"], ids=["new", "updated"])
def test_the_duplicate_code_check_is_a_lookup_in_that_index(own_id):
    plan = _plan(validators.duplicate_code_query("SR-0001", "00000000-0000-0000-0000-0000000000aa", own_id))
    assert "govservice_service_department_code_idx" in plan
