#!/usr/bin/env python3
"""Check a running Solr the way CKAN 2.12 uses it (python3 stdlib only).

    selftest.py [http://127.0.0.1:8983/solr/ckan]

Reads the schema name the way CKAN's start-up check does, indexes a few
documents under a site_id of its own (so a live index is not disturbed),
searches them with the parameters ckan.lib.search.query.PackageSearchQuery
sends for an anonymous package_search, deletes them again, and exits non-zero
if any expectation fails. Covers the Chinese analysis added by
patch_schema.py and CKAN's English behaviour.
"""

import hashlib
import json
import sys
import urllib.parse
import urllib.request

SITE = "govservice-solr-selftest"
DOCS = {
    "cn-yingye-zhizhao": ("企业营业执照核发", "办理企业营业执照的申请材料和流程。", None),
    "cn-shenfenzheng": ("Identity documents", "Documents required.", ["需提交居民身份证复印件"]),
    "en-business": ("Business licence issuance", "How to apply for a business licence.", None),
    "cn-yingye-shijian": ("营业时间与执照说明", "营业 时间 执照 分开出现", None),
    "en-contact": ("Contact the e-government team", "E-mail us about Wi-Fi access.", None),
}
EXPECT = {  # query -> names that must be found, exactly
    "营业执照": {"cn-yingye-zhizhao"},
    "身份证": {"cn-shenfenzheng"},
    "证": {"cn-shenfenzheng"},
    "执照": {"cn-yingye-zhizhao", "cn-yingye-shijian"},
    "licence": {"en-business"},
    "licences": {"en-business"},
    "issuance business": {"en-business"},
    "email": {"en-contact"},
    "wifi": {"en-contact"},
    "title:营业执照": {"cn-yingye-zhizhao"},
}


def call(url, params=None, body=None):
    data = None
    headers = {}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    elif params is not None:
        data = urllib.parse.urlencode(params, doseq=True).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=30) as r:
        return r.read().decode("utf-8")


def ckan_params(q):
    """What PackageSearchQuery.run sends for an anonymous package_search(q=...)."""
    params = {
        "q": q, "fl": "id validated_data_dict", "rows": 11, "start": 0, "wt": "json",
        "sort": "score desc, metadata_modified desc", "df": "text", "q.op": "AND",
        "fq": ["+capacity:public  +state:(active)", f'+site_id:"{SITE}"', '+permission_labels:("public")'],
        "facet": "true", "facet.limit": 50, "facet.mincount": 1,
        "facet.field": ["organization", "groups", "tags", "res_format", "license_id"],
    }
    if ":" not in q:  # CKAN uses dismax unless the query looks fielded
        params.update({"defType": "dismax", "tie": "0.1", "mm": "2<-1 5<80%",
                       "qf": "name^4 title^4 tags^2 groups^2 text"})
    return params


def main(base):
    base = base.rstrip("/")
    schema = call(base + "/admin/file/?file=schema.xml")
    ok = 'name="ckan-' in schema and "patch_schema.py" in schema
    print(("ok  " if ok else "BAD ") + "schema.xml is CKAN's, patched for Chinese")

    docs = []
    for name, (title, notes, text) in DOCS.items():
        pid = "selftest-" + name
        doc = {"id": pid, "index_id": hashlib.md5((pid + SITE).encode()).hexdigest(),
               "site_id": SITE, "name": name, "title": title, "notes": notes,
               "capacity": "public", "state": "active", "entity_type": "package",
               "dataset_type": "dataset", "permission_labels": ["public"],
               "metadata_created": "2024-01-01T00:00:00Z", "metadata_modified": "2024-01-01T00:00:00Z",
               "validated_data_dict": json.dumps({"id": pid, "name": name}, ensure_ascii=False)}
        if text:
            doc["text"] = text
        docs.append(doc)
    call(base + "/update?commit=true", body=docs)
    try:
        for q, want in EXPECT.items():
            res = json.loads(call(base + "/select", ckan_params(q)))
            got = {d["name"] for d in map(lambda r: json.loads(r["validated_data_dict"]), res["response"]["docs"])}
            good = got == want
            ok &= good
            print(("ok  " if good else "BAD ") + f"q={q!r}: {sorted(got)}" + ("" if good else f", want {sorted(want)}"))
    finally:
        call(base + "/update?commit=true", body={"delete": {"query": f'site_id:"{SITE}"'}})
    print("solr selftest " + ("passed" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8983/solr/ckan"))
