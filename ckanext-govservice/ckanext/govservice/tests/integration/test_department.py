"""Each department is a CKAN organisation with its level and area."""
import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import helpers

from .. import factories as gov
from ..pages import fetch


@pytest.mark.usefixtures("clean_db")
def test_a_department_keeps_its_level_area_and_english_name():
    dept = gov.department(name="dongcheng-civil-affairs", title="东城区民政局",
                          title_en="Dongcheng Civil Affairs Bureau", level="district",
                          area="滨江市东城区", area_code="330102")

    shown = helpers.call_action("organization_show", id=dept["id"])

    assert (shown["level"], shown["area"], shown["area_code"], shown["title_en"]) == (
        "district", "滨江市东城区", "330102", "Dongcheng Civil Affairs Bureau")


@pytest.mark.usefixtures("clean_db")
def test_an_unknown_level_is_refused():
    with pytest.raises(tk.ValidationError) as e:
        gov.department(name="x-bureau", level="galaxy")
    assert e.value.error_dict["level"] == [
        "'galaxy' is not a known level (expected one of: province, city, district, township)"]


def signed_in(context: dict) -> dict:
    from ckan.tests import factories
    return {"Authorization": factories.APIToken(user=context["user"])["token"]}


class TestWhatAVisitorIsShown:
    """Links a visitor who is not logged in is shown lead to pages that visitor may open."""

    @pytest.fixture
    def dept_with_a_service(self, dept, sysadmin):
        gov.service(dept["id"], context=dict(sysadmin), name="business-licence")
        return dept

    def test_no_members_tab_for_a_visitor_but_for_its_admin(self, app, dept_with_a_service, sysadmin):
        page = f"/organization/{dept_with_a_service['name']}"
        assert "/organization/members/" not in fetch(app, page)
        assert app.get(f"/organization/members/{dept_with_a_service['name']}", status=403)
        assert f"/organization/members/{dept_with_a_service['name']}" in fetch(app,
            page, headers=signed_in(sysadmin))

    def test_the_department_tabs_keep_activity_and_performance(self, app, dept_with_a_service):
        body = fetch(app, f"/organization/{dept_with_a_service['name']}")
        assert f"/organization/activity/{dept_with_a_service['name']}" in body
        assert f"/performance/{dept_with_a_service['name']}" in body

    def test_the_activity_stream_names_the_publisher_without_a_dead_link(self, app, dept_with_a_service,
                                                                         sysadmin):
        from ckan import model
        body = fetch(app, "/dataset/activity/business-licence")
        assert model.User.get(sysadmin["user"]).display_name in body
        assert f'href="/user/{sysadmin["user"]}"' not in body
        assert f'href="/user/{sysadmin["user"]}"' in fetch(app, "/dataset/activity/business-licence",
                                                                headers=signed_in(sysadmin))
