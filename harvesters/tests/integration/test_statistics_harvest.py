"""Statistics sources: a department's monthly figures over HTTP into the platform's store."""
from __future__ import annotations

from govharvest import db, sources

from test_pipeline import ROWS, harvest, rewrite, write_feed

TITLE = "滨江市市场监督管理局 2026 年办件统计\r\n"
HEADER = "事项编码,统计月份,办理渠道,受理量,办结量,按时办结量,网上办结量,备注\r\n"


def write_statistics(folder, rows: list[str], name: str = "statistics.csv") -> None:
    (folder / name).write_bytes((TITLE + HEADER + "".join(rows)).encode("gbk"))


def add_statistics_source(department, url: str, fmt: str = "csv", name: str = "statistics.csv"):
    with db.connect() as conn:
        sources.add(conn, name="stats-feed", department=department["name"], format=fmt,
                    location=f"{url}/{name}", kind="statistics")


def test_statistics_land_and_bad_rows_are_reported_with_the_departments_own_line(
        portal, department, source, feed_server):
    write_feed(source, [ROWS["SC-1"], ROWS["SC-2"]])
    assert harvest(portal, "csv-feed")["counts"]["new"] == 2
    write_statistics(source, [
        "SC-1,2026-01,online,100,90,80,60,春节前\r\n",
        "\r\n",
        "SC-2,2026-01,in_person,40,40,45,0,\r\n",      # on time > completed
        "SC-7,2026-01,online,1,1,1,1,\r\n",            # not a service of the department
        "SC-2,2026-02,in_person,40,40,40,0,\r\n",
    ])
    add_statistics_source(department, feed_server[1])

    report = harvest(portal, "stats-feed")

    assert report["status"] == "done", report["error"]
    assert report["counts"] == {"rows": 4, "inserted": 2, "updated": 0, "unchanged": 0,
                                "rejected": 2, "new": 2, "changed": 0}
    rejected = {r["record"]: r["errors"] for r in report["rejected"]}
    assert rejected == {
        "SC-2/2026-01/in_person": {"completed_on_time": [
            "line 5: completed_on_time ('45') is 45, more than the applications completed (40)"]},
        "SC-7/2026-01/online": {"service_code": [
            f"line 6: service_code ('SC-7') is not a service of department {department['name']} "
            "in the catalogue"]},
    }
    kpis = portal.action.govservice_kpis(department=department["name"], group_by="period",
                                         period_from="2026-01", period_to="2026-02")
    on_time = {r["period"]: r["kpis"]["on_time_rate"]["value"] for r in kpis["results"]}
    assert on_time == {"2026-01": round(80 / 90, 6), "2026-02": 1.0}


def test_a_statistics_file_without_the_key_columns_fails_the_job_and_loads_nothing(
        portal, department, harvest_db, feed_server):
    folder, url = feed_server
    (folder / "statistics.csv").write_text("月份,数量\n2026-01,3\n", encoding="utf-8")
    add_statistics_source(department, url)

    report = harvest(portal, "stats-feed")

    assert report["status"] == "failed"
    assert "no header row names the service code, the period and the channel" in report["error"]


def test_statistics_as_json_rows(portal, department, source, feed_server):
    write_feed(source, [ROWS["SC-3"]])
    harvest(portal, "csv-feed")
    (source / "statistics.json").write_text(
        '{"statistics": [{"service_code": "SC-3", "period": "2026-03", "channel": "mobile",'
        ' "received": 5, "completed": 5, "no_data": false},'
        ' {"service_code": "SC-3", "period": "2026-04", "channel": "mobile", "no_data": true}]}',
        encoding="utf-8")
    add_statistics_source(department, feed_server[1], fmt="json", name="statistics.json")

    report = harvest(portal, "stats-feed")

    assert report["status"] == "done", report["error"]
    assert report["counts"]["inserted"] == 2
    kpis = portal.action.govservice_kpis(department=department["name"], service="SC-3", group_by="period",
                                         period_from="2026-03", period_to="2026-04")
    volume = {r["period"]: r["kpis"]["volume"]["value"] for r in kpis["results"]}
    assert volume == {"2026-03": 5, "2026-04": None}


def test_a_json_feed_sends_its_departments_standards_and_a_bad_one_is_reported(
        portal, department, source, feed_server):
    write_feed(source, [ROWS["SC-3"]])
    harvest(portal, "csv-feed")
    rows = ('[{"service_code": "SC-3", "period": "2026-03", "channel": "mobile", "received": 10,'
            ' "completed": 10, "completed_on_time": 9, "no_data": false}]')
    (source / "statistics.json").write_text(
        f'{{"statistics": {rows}, "standards": [{{"kpi": "on_time_rate", "target": "95%"}},'
        ' {"kpi": "on_time_rate", "service": "SC-3", "target": 0.85,'
        '  "wording": {"zh_Hans_CN": "按时办结率不低于 85%", "en": "On time at least 85%"}}]}',
        encoding="utf-8")
    add_statistics_source(department, feed_server[1], fmt="json", name="statistics.json")

    report = harvest(portal, "stats-feed")

    assert report["status"] == "done", report["error"]
    assert (report["counts"]["inserted"], report["counts"]["standards"]) == (1, 2)
    kpis = portal.action.govservice_kpis(department=department["name"], group_by="service",
                                         period_from="2026-03", period_to="2026-03")
    judged = kpis["results"][0]["kpis"]["on_time_rate"]["standard"]
    assert (judged["target"], judged["scope"], judged["met"], judged["status"]) == (0.85, "service", True, "green")

    rewrite(source / "statistics.json",   # within the same second, the feed would answer 304
            f'{{"statistics": {rows}, "standards": [{{"kpi": "on_time_rate", "target": 1.5}}]}}'.encode())
    report = harvest(portal, "stats-feed")
    assert report["status"] == "done", report["error"]
    assert {r["record"]: r["errors"] for r in report["rejected"]} == {
        f"standard {department['name']}/on_time_rate": {"target": [
            f"standard {department['name']}/on_time_rate: target 1.5 is outside the range of on_time_rate: "
            "a target must be between 0% and 100% (0 to 1, or a percentage)"]}}
    kept = portal.action.govservice_standards(department=department["name"])["standards"]
    assert sorted((s["scope"], s["target"], s["source"]) for s in kept) == [
        ("department", 0.95, "department"), ("service", 0.85, "department")]


def _statistics_workbook(path, standards: list[list]) -> None:
    import openpyxl
    book = openpyxl.Workbook()
    rows = book.active
    rows.title = "统计"
    rows.append(["事项编码", "统计月份", "办理渠道", "受理量", "办结量", "按时办结量"])
    rows.append(["SC-3", "2026-03", "mobile", 10, 10, 9])
    sheet = book.create_sheet("服务标准")
    for row in standards:
        sheet.append(row)
    book.save(path)


def test_an_xlsx_feed_sends_its_departments_standards_on_a_sheet_of_their_own(
        portal, department, source, feed_server):
    import datetime as dt
    write_feed(source, [ROWS["SC-3"]])
    harvest(portal, "csv-feed")
    _statistics_workbook(source / "statistics.xlsx", [
        ["指标", "目标值", "事项编码", "起始月份", "标准表述", "标准表述（英文）"],
        ["on_time_rate", "95%", None, None, None, None],
        ["on_time_rate", 0.85, "SC-3", dt.datetime(2026, 1, 1), "按时办结率不低于 85%", "On time at least 85%"],
    ])
    add_statistics_source(department, feed_server[1], fmt="xlsx", name="statistics.xlsx")

    report = harvest(portal, "stats-feed")

    assert report["status"] == "done", report["error"]
    assert (report["counts"]["inserted"], report["counts"]["standards"]) == (1, 2)
    kept = portal.action.govservice_standards(department=department["name"])["standards"]
    assert sorted((s["scope"], s["target"], s["period_from"], s["wording"]["en"]) for s in kept) == [
        ("department", 0.95, None, "On-time rate at least 95%"),
        ("service", 0.85, "2026-01", "On time at least 85%")]


def test_an_unknown_column_on_the_standards_sheet_fails_the_job_naming_it(
        portal, department, source, feed_server):
    write_feed(source, [ROWS["SC-3"]])
    harvest(portal, "csv-feed")
    _statistics_workbook(source / "statistics.xlsx", [["指标", "目标值", "负责人"], ["on_time_rate", "95%", "张三"]])
    add_statistics_source(department, feed_server[1], fmt="xlsx", name="statistics.xlsx")

    report = harvest(portal, "stats-feed")

    assert report["status"] == "failed"
    assert "sheet \"服务标准\", header '负责人': not a standard's column" in report["error"]
