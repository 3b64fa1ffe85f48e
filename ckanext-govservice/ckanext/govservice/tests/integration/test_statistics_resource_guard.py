"""The statistics table's resource is changed only by the platform's own code.

resource_delete on it drops the whole DataStore table (the DataStore's own
hook), and resource_update/resource_patch from the form drop the marker that
finds the table, after which the next load starts an empty one: either way a
department's KPI history is gone. So both are refused, to sysadmins too and
to internal (ignore_auth) calls made for anyone but the site user."""
from __future__ import annotations

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import helpers

from .test_statistics import HEADER, load_csv, published, services, table_id  # noqa: F401 (fixture)


@pytest.fixture
def loaded(services):
    load_csv(services["context"], "market-regulation", HEADER + "SR-1,2026-01,online,1,1,1,1,,,,,,,,,\n")
    return {**services["context"], "ignore_auth": False}


def test_even_a_sysadmin_may_not_delete_the_statistics_resource(loaded):
    with pytest.raises(tk.NotAuthorized, match="only by govservice_statistics_load"):
        helpers.call_action("resource_delete", context=dict(loaded), id=table_id())
    assert [r["received"] for r in published()] == [1]


@pytest.mark.parametrize("action", ["resource_update", "resource_patch"])
def test_even_a_sysadmin_may_not_edit_the_statistics_resource(loaded, action):
    with pytest.raises(tk.NotAuthorized, match="only by govservice_statistics_load"):
        helpers.call_action(action, context=dict(loaded), id=table_id(), name="renamed",
                            url="http://example.org/x.csv")
    resource = helpers.call_action("resource_show", id=table_id())
    assert resource["govservice_statistics"] == "rows" and resource["name"] == "service-statistics"


@pytest.mark.parametrize("action", ["resource_delete", "resource_update"])
def test_an_internal_call_for_someone_else_is_refused_as_well(loaded, action):
    context = {**loaded, "ignore_auth": True}
    with pytest.raises(tk.NotAuthorized, match="only by govservice_statistics_load"):
        helpers.call_action(action, context=context, id=table_id(), url="http://example.org/x.csv")
    load_csv(loaded, "market-regulation", HEADER + "SR-1,2026-02,online,2,1,1,1,,,,,,,,,\n")
    assert [r["received"] for r in published()] == [1, 2]      # the history is still there


def test_even_a_sysadmin_may_not_drop_the_statistics_resource_through_the_dataset(loaded):
    for action, extra in (("package_patch", {"resources": []}), ("package_delete", {})):
        with pytest.raises(tk.NotAuthorized, match="only by govservice_statistics_load"):
            helpers.call_action(action, context=dict(loaded), id="service-statistics", **extra)
    assert helpers.call_action("package_show", id="service-statistics")["resources"][0]["id"] == table_id()
    # The dataset's own fields stay editable.
    helpers.call_action("package_patch", context=dict(loaded), id="service-statistics", title="KPI rows")
