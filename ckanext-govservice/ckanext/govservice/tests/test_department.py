"""Each department is a CKAN organisation with its level and area."""
import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import helpers

from . import factories as gov


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
