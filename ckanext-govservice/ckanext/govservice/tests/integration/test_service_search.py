"""Citizens find services in their own words (issue 15), on the real Solr core:
shipped and runtime synonyms, pinyin, ranking, typing help, bad input."""
from __future__ import annotations

import json
import uuid

import pytest

import ckan.plugins.toolkit as tk
from ckan.tests import factories, helpers

from .. import factories as gov
from ... import search

SERVICES = [
    # (name, title, title_en, output_name, status)
    ("home-transfer", "国有建设用地使用权及房屋所有权转移登记（存量房买卖）", "Transfer registration of a home (resale)",
     "不动产权证书", "active"),
    ("food-renew", "食品经营许可（延续）", "Food business licence (renewal)", "食品经营许可证", "active"),
    ("food-cancel", "食品经营许可（注销）", "Food business licence (cancellation)", "食品经营许可证", "active"),
    ("food-new", "食品经营许可（新办）", "Food business licence (new)", "食品经营许可证", "active"),
    ("driving", "机动车驾驶证申领（初次申领）", "Driving licence application (first application)",
     "机动车驾驶证", "active"),
    ("bus-card", "公交IC卡优惠办理", "Concession bus card", "优惠公交卡", "active"),
    ("jobless-old", "失业保险金申领（旧）", "Unemployment benefit claim (old)", "失业保险金", "withdrawn"),
    ("jobless", "失业保险金申领", "Unemployment benefit claim", "失业保险金", "active"),
    ("id-card", "居民身份证申领", "Resident identity card application", "居民身份证", "active"),
]


@pytest.fixture(scope="module")
def city(reset_db, migrate_db_for, reset_index):
    """Nine services of one department in a clean site, made once for the module
    (with the plugins loaded: the per-test fixtures load them only later)."""
    from ckan import plugins
    plugins.load_all()
    reset_db()
    migrate_db_for("activity")
    migrate_db_for("govservice")      # the KPI schema in the DataStore database: search analytics
    reset_index()
    tk.config["ckanext.govservice.catalogue.auto_rebuild"] = False
    tk.config["ckanext.govservice.statistics.background_jobs"] = False
    context = {"user": factories.Sysadmin()["name"]}
    dept = gov.department(name="market-regulation")
    for name, title, title_en, output, status in SERVICES:
        gov.service(dept["id"], context, name=name, title=title, title_en=title_en, output_name=output,
                    status=status, notes=f"办理{title}。", life_events=[], themes=["business"])
    search.suggestions_out_of_date()   # an earlier module's services may be in it
    yield dept
    reset_db()
    reset_index()


@pytest.fixture(scope="module")
def web(city):
    """One test client for the module's requests (CKAN's ``app`` builds a new app per test)."""
    return helpers._get_test_app()


def names(q: str, **params) -> list[str]:
    params.setdefault("fq", "+dataset_type:service")
    return [r["name"] for r in helpers.call_action("package_search", q=q, rows=10, **params)["results"]]


@pytest.mark.usefixtures("city")
class TestWords:
    def test_a_colloquial_name_of_the_shipped_dictionary_finds_the_official_service(self):
        assert names("房产证") == ["home-transfer"]

    def test_english_finds_the_english_title_and_a_synonym_crosses_languages(self):
        assert names("driving licence")[0] == "driving"
        assert names("驾照") == ["driving"]
        assert names("property certificate") == ["home-transfer"]

    def test_pinyin_and_initials_of_a_synonym_find_the_service(self):
        for q in ["fangchanzheng", "fang chan zheng", "fcz", "FCZ"]:
            assert names(q) == ["home-transfer"], q

    def test_pinyin_of_the_title_finds_the_service(self):
        assert names("gongjiao")[0] == "bus-card"
        assert names("jiashizheng")[0] == "driving"

    def test_the_service_that_first_issues_a_licence_ranks_first(self):
        found = names("食品经营许可证")
        assert found[0] == "food-new"
        assert set(found) == {"food-new", "food-renew", "food-cancel"}

    def test_withdrawn_services_only_when_asked_for(self):
        assert names("失业保险金") == ["jobless"]
        asked = names("失业保险金", fq="+dataset_type:service +status_ss:withdrawn")
        assert asked == ["jobless-old"]

    def test_a_homophone_typo_is_found_by_its_pinyin(self):
        result = helpers.call_action("package_search", q="失业保显金", fq="+dataset_type:service")
        assert [r["name"] for r in result["results"]] == ["jobless"]
        assert "govservice_relaxed" not in result

    def test_a_misspelling_is_searched_relaxed_and_the_answer_says_so(self):
        result = helpers.call_action("package_search", q="unemploymant benefit", fq="+dataset_type:service")
        assert [r["name"] for r in result["results"]] == ["jobless"]
        assert result["govservice_relaxed"] is True

    def test_a_question_is_searched_by_its_words(self):
        assert names("驾照丢了怎么补办") == ["driving"]

    def test_the_stock_query_when_tuning_is_off(self, monkeypatch):
        monkeypatch.setitem(tk.config, "ckanext.govservice.search.tuned", False)
        assert names("房产证") == []


@pytest.mark.usefixtures("city")
class TestRuntimeSynonyms:
    def test_added_works_at_once_and_removed_stops(self):
        sysadmin = {"user": factories.Sysadmin()["name"], "ignore_auth": False}
        term = "乘车优待" + uuid.uuid4().hex[:4]     # the core's map is shared by every test site
        assert names(term) == []
        entry = helpers.call_action("govservice_synonym_create", context=dict(sysadmin), term=term,
                                    synonyms=["公交IC卡优惠办理"])
        try:
            assert entry["synonyms"] == ["公交IC卡优惠办理"]
            assert names(term) == ["bus-card"]
            listed = helpers.call_action("govservice_synonym_list", context={})
            assert [e["term"] for e in listed["entries"]] == [term]
            assert listed["shipped_terms"] > 600
        finally:
            helpers.call_action("govservice_synonym_delete", context=dict(sysadmin), term=term)
        assert names(term) == []
        assert helpers.call_action("govservice_synonym_list", context={})["entries"] == []

    def test_an_added_term_is_found_by_its_pinyin_and_initials_without_a_reindex(self):
        sysadmin = {"user": factories.Sysadmin()["name"], "ignore_auth": False}
        term = "老人乘车优待"
        assert names("laorenchengcheyoudai") == []
        helpers.call_action("govservice_synonym_create", context=dict(sysadmin), term=term,
                            synonyms=["公交IC卡优惠办理"])
        try:
            assert names("laorenchengcheyoudai") == ["bus-card"]
            assert names("lao ren cheng che you dai") == ["bus-card"]
            assert names("lrccyd") == ["bus-card"]
        finally:
            helpers.call_action("govservice_synonym_delete", context=dict(sysadmin), term=term)
        assert names("laorenchengcheyoudai") == []

    def test_a_bad_entry_is_refused_with_its_reason(self):
        sysadmin = factories.Sysadmin()["name"]
        for term, synonyms, field, reason in [
            ("", ["公交IC卡"], "term", "is empty"),
            ("乘车证", [], "synonyms", "is empty"),
            ("乘车证", ["乘车证"], "synonyms", "is the term itself"),
            ("不动产权证书", ["房产证"], "synonyms", "would loop"),
            ("房产证", ["房屋"], "term", "shipped dictionary"),
        ]:
            with pytest.raises(tk.ValidationError) as e:
                helpers.call_action("govservice_synonym_create", context={"user": sysadmin},
                                    term=term, synonyms=synonyms)
            assert reason in e.value.error_dict[field][0], (term, synonyms)

    def test_a_department_admin_manages_entries_of_their_own_department_only(self, city):
        admin = factories.User()
        helpers.call_action("member_create", id=city["id"], object=admin["name"], object_type="user",
                            capacity="admin")
        context = {"user": admin["name"], "ignore_auth": False}
        with pytest.raises(tk.NotAuthorized):
            helpers.call_action("govservice_synonym_create", context=dict(context), term="乘车优待卡",
                                synonyms=["公交IC卡"])
        term = "乘车优待" + uuid.uuid4().hex[:4]
        entry = helpers.call_action("govservice_synonym_create", context=dict(context), term=term,
                                    synonyms=["公交IC卡"], owner_org=city["name"])
        assert entry["owner_org"] == "market-regulation"
        helpers.call_action("govservice_synonym_delete", context=dict(context), term=term)

    def test_an_entry_solr_lost_is_put_back_by_the_scheduler(self):
        """A Solr home made anew has only the shipped dictionary; CKAN keeps the
        runtime entries and the scheduler's synonyms_restore puts them back."""
        from ... import schedule
        from ...core import synonyms as core_synonyms
        sysadmin = {"user": factories.Sysadmin()["name"]}
        term = "乘车优待" + uuid.uuid4().hex[:4]
        helpers.call_action("govservice_synonym_create", context=dict(sysadmin), term=term,
                            synonyms=["公交IC卡优惠办理"])
        try:
            search.delete_synonym(core_synonyms.token_form(term))     # Solr forgets it; CKAN does not
            assert names(term) == []
            assert schedule.TASKS["synonyms_restore"]() == {"restored": 1}
            assert names(term) == ["bus-card"]
            assert schedule.TASKS["synonyms_restore"]() == {"restored": 0}     # nothing lost: nothing done
        finally:
            helpers.call_action("govservice_synonym_delete", context=dict(sysadmin), term=term)

    def test_the_synonyms_page_lists_adds_and_removes_entries(self, web):
        token = factories.SysadminWithToken()["token"]
        term = "乘车优待" + uuid.uuid4().hex[:4]
        page = web.post("/performance/synonyms", headers={"Authorization": token},
                        data={"term": term, "synonyms": "公交IC卡优惠办理", "owner_org": ""},
                        follow_redirects=True)
        assert page.status_code == 200
        try:
            assert names(term) == ["bus-card"], page.body[page.body.find("alert"):][:600]
            page = web.get("/performance/synonyms", headers={"Authorization": token})
            assert page.status_code == 200
            assert term in page.body and "公交IC卡优惠办理" in page.body
        finally:
            page = web.post("/performance/synonyms", headers={"Authorization": token},
                            data={"term": term, "remove": "1"}, follow_redirects=True)
        assert page.status_code == 200
        assert names(term) == []
        assert helpers.call_action("govservice_synonym_list", context={})["entries"] == []

    def test_a_department_admin_sees_and_removes_only_their_departments_entries(self, web, city):
        admin = factories.UserWithToken()
        helpers.call_action("member_create", id=city["id"], object=admin["name"], object_type="user",
                            capacity="admin")
        sysadmin = {"user": factories.Sysadmin()["name"]}
        platform_term, own_term = ("乘车优待" + uuid.uuid4().hex[:4] for _ in range(2))
        helpers.call_action("govservice_synonym_create", context=dict(sysadmin), term=platform_term,
                            synonyms=["公交IC卡"])
        helpers.call_action("govservice_synonym_create", context=dict(sysadmin), term=own_term,
                            synonyms=["公交IC卡"], owner_org=city["name"])
        try:
            page = web.get("/performance/synonyms", headers={"Authorization": admin["token"]})
            assert page.status_code == 200
            assert own_term in page.body and platform_term not in page.body
            web.post("/performance/synonyms", headers={"Authorization": admin["token"]},
                     data={"term": platform_term, "remove": "1"}, follow_redirects=True)
            listed = helpers.call_action("govservice_synonym_list", context={})["entries"]
            assert sorted(e["term"] for e in listed) == sorted([platform_term, own_term])
        finally:
            for term in (platform_term, own_term):
                helpers.call_action("govservice_synonym_delete", context=dict(sysadmin), term=term)

    def test_the_synonyms_page_is_closed_to_visitors_and_to_editors_who_administer_nothing(self, web):
        assert web.get("/performance/synonyms", expect_errors=True).status_code == 403
        editor = factories.UserWithToken()
        page = web.get("/performance/synonyms", headers={"Authorization": editor["token"]}, expect_errors=True)
        assert page.status_code == 403


@pytest.mark.usefixtures("city")
class TestTypingHelp:
    def test_suggestions_hold_what_was_typed(self):
        result = helpers.call_action("govservice_suggest", q="食品经营")
        assert result["suggestions"][0] == "食品经营许可（新办）"
        assert set(result["suggestions"]) >= {"食品经营许可（新办）", "食品经营许可（延续）", "食品经营许可证"}

    def test_did_you_mean_respells_from_the_services_words(self):
        assert helpers.call_action("govservice_suggest", q="unemploymant")["did_you_mean"] == "unemployment"

    def test_did_you_mean_respells_a_chinese_typo_from_the_titles_that_sound_like_it(self):
        assert helpers.call_action("govservice_suggest", q="身分证")["did_you_mean"] == "身份证"

    def test_did_you_mean_keeps_the_rest_of_a_chinese_question(self):
        assert helpers.call_action("govservice_suggest", q="身分证怎么办")["did_you_mean"] == "身份证怎么办"

    def test_a_chinese_query_written_as_a_title_has_no_did_you_mean(self):
        assert helpers.call_action("govservice_suggest", q="身份证")["did_you_mean"] is None

    def test_the_search_page_offers_a_chinese_respelling(self, web):
        page = web.get("/service/?q=身分证").body
        assert "/service/?q=%E8%BA%AB%E4%BB%BD%E8%AF%81" in page     # 身份证

    def test_the_search_page_offers_help_without_javascript(self, web):
        page = web.get("/service/?q=unemploymant").body
        assert "unemployment" in page
        assert "search_suggest" in page        # and suggestions while typing, where JavaScript runs


@pytest.mark.usefixtures("city")
class TestBadInput:
    def test_a_strange_query_gets_a_normal_answer(self, web):
        for q in ["？！。，、", "!!!", "title:*", "{!join from=id to=id}食品", '"食品经营许可', "食品经营许可\"",
                  "(((", "营业执照" * 2500, "\x00\x01"]:
            r = web.post("/api/3/action/package_search", json={"q": q, "fq": "+dataset_type:service"})
            assert r.status_code == 200, (q[:20], r.body[:300])
            assert json.loads(r.body)["success"] is True

    def test_local_parameters_are_never_executed(self):
        # {!join} would return every service joined to itself; as words it finds the food licences
        assert sorted(names("{!join from=id to=id}食品")) == sorted(names("join from id to id 食品"))

    def test_broken_solr_syntax_is_a_clear_400(self, web):
        for q in ['title:"食品', "name:x {!join from=id to=id}"]:
            r = web.post("/api/3/action/package_search", json={"q": q, "fq": "+dataset_type:service"})
            assert r.status_code == 400, q
            assert json.loads(r.body)["error"]["__type"] == "Search Query Error"


def analytics_rows() -> list[dict]:
    import sqlalchemy as sa
    from ckanext.govservice import search_analytics
    from ckanext.govservice.statistics_store import tables
    search_analytics.flush()
    with tables.engine().connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.text(f"SELECT * FROM {search_analytics.TABLE} ORDER BY query"))]


@pytest.fixture
def no_analytics_yet():
    import sqlalchemy as sa
    from ckanext.govservice import search_analytics
    from ckanext.govservice.statistics_store import tables
    search_analytics.flush()
    with tables.engine().begin() as conn:
        conn.execute(sa.text(f"DELETE FROM {search_analytics.TABLE}"))


@pytest.mark.usefixtures("city", "no_analytics_yet")
class TestSearchAnalytics:
    def test_a_search_and_an_open_are_counted_per_day_without_who(self, web):
        import datetime as dt
        web.get("/service/?q=qqzzxxvv")                        # finds nothing
        web.get("/service/?q=房产证")
        web.get("/service/home-transfer", headers={"Referer": tk.config["ckan.site_url"] + "/service/?q=房产证"})
        web.get("/api/3/action/package_search?q=房产证&fq=dataset_type:service")   # the API is not the page
        rows = analytics_rows()
        assert set(rows[0]) == {"day", "query", "searches", "zero_results", "results", "opened"}
        assert [(r["query"], r["searches"], r["zero_results"], r["results"], r["opened"]) for r in rows] == [
            ("qqzzxxvv", 1, 1, 0, 0), ("房产证", 1, 0, 1, 1)]
        assert {r["day"] for r in rows} == {dt.date.today()}

    def test_searches_wait_in_redis_and_reach_the_table_in_one_flush(self, web, monkeypatch):
        import time
        from ckanext.govservice import search_analytics
        monkeypatch.setattr(search_analytics, "_last_flush", time.monotonic())   # no flush on the way
        web.get("/service/?q=qqzzxxvv")
        web.get("/service/?q=qqzzxxvv")
        waiting = {tuple(k.decode().split(search_analytics.SEP)[1:]): int(v)
                   for k, v in search_analytics._redis().hgetall(search_analytics.PENDING).items()}
        assert waiting == {("qqzzxxvv", "searches"): 2, ("qqzzxxvv", "zero_results"): 2}
        assert search_analytics.flush() == 1
        assert search_analytics._redis().exists(search_analytics.PENDING) == 0
        assert [(r["query"], r["searches"], r["zero_results"]) for r in analytics_rows()] == [("qqzzxxvv", 2, 2)]

    def test_switched_off_nothing_is_recorded(self, web, monkeypatch):
        monkeypatch.setitem(tk.config, "ckanext.govservice.search.analytics", False)
        web.get("/service/?q=qqzzxxvv")
        assert analytics_rows() == []

    def test_the_data_office_page_lists_them_and_adds_a_synonym(self, web):
        web.get("/service/?q=qqzzxxvv")
        assert web.get("/performance/search", expect_errors=True).status_code == 403
        token = factories.SysadminWithToken()["token"]
        page = web.get("/performance/search", headers={"Authorization": token})
        assert page.status_code == 200
        assert "qqzzxxvv" in page.body
        term = "qqzz" + uuid.uuid4().hex[:4]
        page = web.post("/performance/search", headers={"Authorization": token},
                        data={"term": term, "synonym": "公交IC卡优惠办理"}, follow_redirects=True)
        try:
            assert names(term) == ["bus-card"]
        finally:
            helpers.call_action("govservice_synonym_delete", context={"user": factories.Sysadmin()["name"]},
                                term=term)
