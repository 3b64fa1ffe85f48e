"""The names the platform publishes under are the platform's.

The statistics table, the platform catalogue and each department's files are
found by dataset name; a department editor who took one of those names first
would have the platform write into a dataset they control. So the names are
refused to everyone but the platform itself, and the publishing code writes
only into a dataset of the right organisation that the platform created."""
from __future__ import annotations

import json

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from ckanext.govservice import catalogue_publish, publishing, statistics_publish

from .. import factories as gov


@pytest.fixture
def editor(dept):
    user = factories.User()
    helpers.call_action("organization_member_create", id=dept["id"], username=user["name"], role="editor")
    gov.department(name="tax-bureau")
    return {"user": user["name"], "ignore_auth": False}


@pytest.mark.parametrize("name", ["service-statistics", "service-catalogue", "tax-bureau-service-statistics",
                                  "tax-bureau-service-catalogue", "market-regulation-service-catalogue"])
def test_a_department_editor_may_not_create_a_dataset_under_a_platform_name(editor, dept, name):
    with pytest.raises(tk.ValidationError) as e:
        helpers.call_action("package_create", context=dict(editor), name=name, owner_org=dept["id"])
    assert "reserved" in e.value.error_dict["name"][0]


def test_nor_may_a_sysadmin(sysadmin, dept):
    with pytest.raises(tk.ValidationError) as e:
        helpers.call_action("package_create", context={**sysadmin, "ignore_auth": False},
                            name="service-statistics", owner_org=dept["id"])
    assert "name" in e.value.error_dict


def test_a_department_editor_may_not_rename_a_dataset_to_a_platform_name(editor, dept):
    mine = helpers.call_action("package_create", context=dict(editor), name="my-data", owner_org=dept["id"])
    for action in ("package_update", "package_patch"):
        with pytest.raises(tk.ValidationError) as e:
            helpers.call_action(action, context=dict(editor), id=mine["id"], name="service-catalogue",
                                owner_org=dept["id"])
        assert "reserved" in e.value.error_dict["name"][0]
    # An ordinary edit of an ordinary dataset goes through.
    helpers.call_action("package_patch", context=dict(editor), id=mine["id"], title="Mine")


def _squat(name, owner_org):
    """A dataset that took a platform name before the platform did (say, before this check)."""
    from ckan import model
    squatter = factories.Dataset(name=name + "-x", owner_org=owner_org, user=factories.User())
    pkg = model.Package.get(squatter["id"])
    pkg.name = name
    model.Session.commit()
    return squatter


def test_the_platform_does_not_write_its_catalogue_into_a_squatted_dataset(dept):
    squatter = _squat("service-catalogue", dept["id"])
    with pytest.raises(publishing.NotThePlatformsDataset, match="service-catalogue"):
        catalogue_publish.build_platform()
    assert helpers.call_action("package_show", id=squatter["id"])["resources"] == []


def test_the_platform_does_not_write_a_departments_files_into_another_departments_dataset(dept):
    tax = gov.department(name="tax-bureau")
    squatter = _squat("tax-bureau-service-catalogue", dept["id"])
    with pytest.raises(publishing.NotThePlatformsDataset, match="tax-bureau-service-catalogue"):
        catalogue_publish.build_department(tax["name"])
    assert helpers.call_action("package_show", id=squatter["id"])["resources"] == []


def test_nor_into_its_own_departments_dataset_made_by_an_editor(dept):
    squatter = _squat("market-regulation-service-catalogue", dept["id"])
    with pytest.raises(publishing.NotThePlatformsDataset):
        catalogue_publish.build_department(dept["name"])
    assert helpers.call_action("package_show", id=squatter["id"])["resources"] == []


def test_the_statistics_table_is_not_created_in_a_squatted_dataset(statistics_db, dept):
    squatter = _squat("service-statistics", dept["id"])
    with pytest.raises(publishing.NotThePlatformsDataset, match="service-statistics"):
        statistics_publish.statistics_table()
    assert helpers.call_action("package_show", id=squatter["id"])["resources"] == []


def test_the_platform_still_publishes_into_its_own_datasets(dept):
    first = catalogue_publish.build_department(dept["name"])
    again = catalogue_publish.build_department(dept["name"])
    assert first["dataset"] == again["dataset"] == "market-regulation-service-catalogue"
    assert catalogue_publish.build_platform()["dataset"] == "service-catalogue"


def test_datasets_that_took_a_platform_name_before_the_check_are_found(dept, sysadmin):
    from click.testing import CliRunner
    from ckanext.govservice.cli import govservice
    gov.department(name="tax-bureau")
    _squat("service-statistics", dept["id"])                 # the platform's name, a department's dataset
    _squat("tax-bureau-service-catalogue", dept["id"])       # another department's name
    publishing.ensure_dataset(publishing.site_context(), f"{dept['name']}-service-catalogue", dept,
                              title="ours", notes="ours", scope="catalogue")   # the platform's own: not listed

    found = publishing.squatted_datasets()

    assert [(d["name"], d["organization"], d["why"]) for d in found] == [
        ("service-statistics", dept["name"],
         f"in {dept['name']}, not {publishing.PLATFORM_ORG}, and not created by the platform"),
        ("tax-bureau-service-catalogue", dept["name"],
         f"in {dept['name']}, not tax-bureau, and not created by the platform")]
    printed = CliRunner().invoke(govservice, ["reserved-names"])
    assert printed.exit_code == 1
    assert [d["name"] for d in json.loads(printed.output)] == ["service-statistics", "tax-bureau-service-catalogue"]
