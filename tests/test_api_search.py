"""GET /api/search and /api/search.csv over the real index of the Shinjuku corpus: every parameter,
the error cases, and the response schema."""
from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from contract.backend import FACETS
from council_search.settings import Settings
from engine.api_models import SearchResponse
from engine.api_params import MAX_QUERY_CHARS
from service.app import create_app
from service.routers.search import CSV_COLUMNS, _cell

QUERY = "ガバメントクラウド 再委託"


def get(client, **params):
    r = client.get("/api/search", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    SearchResponse.model_validate(body)  # the documented schema, exactly
    return body


def error(client, path="/api/search", status=400, **params):
    r = client.get(path, params=params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["message"] and "Traceback" not in r.text
    return body["error"]["code"]


@pytest.fixture(scope="module")
def everything(client):
    return get(client, size=100)


# ------------------------------------------------------------------ shape and defaults

def test_empty_query_lists_all_cases_with_facets(everything):
    assert everything["total"] == 51
    assert len(everything["hits"]) == 51
    assert list(everything["facets"]) == list(FACETS)
    # every case has exactly one result and one municipality: those facets partition the corpus
    assert sum(v["count"] for v in everything["facets"]["result"]) == 51
    assert sum(v["count"] for v in everything["facets"]["municipality"]) == 51
    assert {h["id"] for h in everything["hits"]} == {h["id"] for h in everything["hits"]}  # unique ids
    assert len({h["id"] for h in everything["hits"]}) == 51


def test_defaults_echoed(client):
    body = get(client, q=QUERY)
    q = body["query"]
    assert (q["q"], q["mode"], q["sort"], q["page"], q["size"]) == (QUERY, "hybrid", "relevance", 1, 20)
    assert body["page"] == 1 and body["size"] == 20 and body["took_ms"] >= 0


def test_hit_shape_and_highlights(client):
    body = get(client, q=QUERY, mode="keyword")
    assert body["total"] >= 1
    for hit in body["hits"]:
        assert hit["url"] == f"/cases/{hit['id']}"
        assert hit["meeting_date"][:4] in ("2023", "2024")
        text = hit["highlights"]["title"] + "".join(hit["highlights"]["snippets"])
        assert "<mark>" in text
        # highlights are escaped text: the only tags are <mark> and </mark>
        stripped = text.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in stripped and ">" not in stripped


def test_keyword_query_narrows_and_finds_the_lineage(client):
    body = get(client, q=QUERY, mode="keyword", size=100)
    numbers = {h["number"] for h in body["hits"]}
    assert 0 < body["total"] < 51
    assert body["total"] == len(body["hits"])
    assert 12 in numbers


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_every_mode(client, mode):
    body = get(client, q="防犯カメラ", mode=mode, size=5)
    assert body["query"]["mode"] == mode
    assert body["hits"], mode
    assert body["hits"][0]["number"] == 18  # the one 防犯カメラ case comes first in every mode


@pytest.mark.parametrize("sort", ["newest", "oldest"])
def test_sort_by_date(client, sort):
    body = get(client, q="委託", mode="keyword", sort=sort, size=100)
    dates = [h["meeting_date"] for h in body["hits"]]
    assert len(dates) > 10
    assert dates == sorted(dates, reverse=(sort == "newest"))
    assert len(set(dates)) > 1


# ------------------------------------------------------------------ filters

def facet_counts(body, facet):
    return {v["value"]: v["count"] for v in body["facets"][facet]}


@pytest.mark.parametrize("facet,field", [
    ("department", "departments"), ("category", "categories"), ("result", "result"),
    ("municipality", "municipality"),
])
def test_single_facet_filter_matches_its_count(client, everything, facet, field):
    value, count = max(facet_counts(everything, facet).items(), key=lambda kv: (kv[1] < 51, kv[1]))
    body = get(client, size=100, **{facet: value})
    assert body["total"] == count
    for hit in body["hits"]:
        assert value in (hit[field] if isinstance(hit[field], list) else [hit[field]])
    selected = [v for v in body["facets"][facet] if v["selected"]]
    assert [v["value"] for v in selected] == [value]
    assert body["query"][facet] == [value]


def test_department_filter_changes_other_facet_counts_but_not_its_own(client, everything):
    counts = facet_counts(everything, "department")
    dept = "医療保険年金課"
    body = get(client, department=dept, size=100)
    assert body["total"] == counts[dept] < 51
    # each facet's counts ignore its own selection (multi-select facets)
    assert facet_counts(body, "department") == counts
    # other facets count only the filtered set
    assert sum(v["count"] for v in body["facets"]["result"]) == body["total"]


def test_or_within_facet_and_across_facets(client, everything):
    counts = facet_counts(everything, "department")
    a, b = "医療保険年金課", "戸籍住民課"
    both = get(client, department=[a, b], size=100)
    assert both["total"] == counts[a] + counts[b]  # no case has both departments
    assert all({a, b} & set(h["departments"]) for h in both["hits"])
    narrowed = get(client, department=[a, b], category="業務委託", size=100)
    assert 0 < narrowed["total"] < both["total"]
    assert all("業務委託" in h["categories"] for h in narrowed["hits"])


def test_fiscal_year_and_meeting_month(client, everything):
    years = facet_counts(everything, "fiscal_year")
    assert years == {"2023": 51}
    assert get(client, fiscal_year="2023")["total"] == 51
    assert get(client, fiscal_year="1999")["total"] == 0
    months = facet_counts(everything, "meeting_month")
    assert sum(months.values()) == 51
    body = get(client, meeting_month="2023-09", size=100)
    assert body["total"] == months["2023-09"]
    assert all(h["meeting_date"].startswith("2023-09") for h in body["hits"])


def test_date_range_inclusive(client):
    body = get(client, date_from="2023-09-01", date_to="2023-10-20", size=100)
    dates = {h["meeting_date"] for h in body["hits"]}
    assert dates == {"2023-09-01", "2023-09-06", "2023-10-20"}
    assert get(client, date_from="2024-01-15", size=100)["total"] == sum(
        1 for h in get(client, size=100)["hits"] if h["meeting_date"] >= "2024-01-15")
    # HTML forms send empty date inputs: "no bound", not an error
    assert get(client, date_from="", date_to="")["total"] == 51


# ------------------------------------------------------------------ paging

def test_paging_is_consistent(client):
    whole = get(client, q="システム", mode="keyword", size=10)
    p1 = get(client, q="システム", mode="keyword", size=5, page=1)
    p2 = get(client, q="システム", mode="keyword", size=5, page=2)
    assert p1["total"] == p2["total"] == whole["total"]
    assert [h["id"] for h in p1["hits"] + p2["hits"]] == [h["id"] for h in whole["hits"]]
    assert p2["page"] == 2 and p2["size"] == 5


def test_link_header_points_to_neighbouring_pages(client):
    r = client.get("/api/search", params={"q": "システム", "mode": "keyword", "size": 5, "page": 2})
    links = {rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', r.headers["link"])}
    assert set(links) == {"next", "prev", "first", "last", "alternate"}  # alternate: the search's Atom feed
    assert "page=3" in links["next"] and "page=1" in links["prev"] and "q=" in links["next"]
    total = r.json()["total"]
    assert f"page={-(-total // 5)}" in links["last"]
    single = client.get("/api/search", params={"size": 100}).headers["link"]  # a single page: only the feed
    assert re.fullmatch(r'<[^>]+/feed\.atom>; rel="alternate"; type="application/atom\+xml"', single)


def test_body_is_what_fastapi_would_serialise_for_the_model(client):
    """The route dumps the searcher's model itself (service/model_json.py), not through FastAPI's
    response_model path: the bytes must be that path's (TypeAdapter.dump_json, by alias), and
    with a JSON content type (HEAD and the Link header are covered above and in test_reliability_http)."""
    for params in ({"q": QUERY}, {"q": QUERY, "mode": "keyword", "size": 3, "page": 2}, {"q": "存在しない語句ですよ"}):
        r = client.get("/api/search", params=params)
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        model = SearchResponse.model_validate_json(r.content)
        assert r.content == TypeAdapter(SearchResponse).dump_json(model, by_alias=True)


def test_page_past_the_end_is_empty_not_an_error(client):
    body = get(client, page=50, size=100)
    assert body["hits"] == [] and body["total"] == 51


# ------------------------------------------------------------------ errors

@pytest.mark.parametrize("params,code", [
    ({"mode": "fuzzy"}, "invalid_mode"),
    ({"sort": "random"}, "invalid_sort"),
    ({"size": 101}, "size_too_large"),
    ({"size": 0}, "invalid_size"),
    ({"size": "ten"}, "invalid_size"),
    ({"page": 0}, "invalid_page"),
    ({"page": "two"}, "invalid_page"),
    ({"page": 1001}, "invalid_page"),
    ({"date_from": "2023-13-01"}, "invalid_date"),
    ({"date_from": "2023/07/28"}, "invalid_date"),
    ({"date_to": "yesterday"}, "invalid_date"),
    ({"date_from": "2023-12-01", "date_to": "2023-07-01"}, "invalid_date_range"),
    ({"q": "a" * 10_000}, "query_too_long"),
    ({"q": "あ" * 5_000}, "query_too_long"),  # (10,000 Japanese characters: see test_browser_search)
    ({"q": "a" * (MAX_QUERY_CHARS + 1)}, "query_too_long"),
    ({"department": "x" * 201}, "invalid_filter"),
])
def test_bad_parameters_are_400_with_a_code(client, params, code):
    assert error(client, **params) == code


def test_the_deployment_cap_on_size(searcher):
    with TestClient(create_app(searcher, Settings(max_page_size=10))) as c:
        assert c.get("/api/search", params={"size": 10}).status_code == 200
        r = c.get("/api/search", params={"size": 11})
        assert r.status_code == 400 and r.json()["error"]["code"] == "size_too_large"


def test_hostile_query_text_is_just_text(client):
    body = get(client, q='<script>alert(1)</script> OR "unbalanced', mode="keyword")
    assert body["query"]["q"].startswith("<script>")
    for hit in body["hits"]:
        assert "<script>" not in hit["highlights"]["title"] + "".join(hit["highlights"]["snippets"])


# ------------------------------------------------------------------ CSV

def read_csv(response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8 Japanese correctly
    assert "attachment" in response.headers["content-disposition"]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("q, mode, expected", [
    ("ガバメントクラウド 再委託", "hybrid", 7),     # the 7 cases with both words, no related case
    ("チャットボット", "hybrid", 0),                 # nothing matches: header only, though related cases exist
    ("チャットボット", "semantic", 0),
])
def test_csv_holds_the_matches_only(client, q, mode, expected):
    body = get(client, q=q, mode=mode, size=100)
    assert body["total"] == expected and body["related"]
    response = client.get("/api/search.csv", params={"q": q, "mode": mode})
    rows = read_csv(response)
    assert len(rows) - 1 == expected == int(response.headers["x-total-count"])
    assert not {r[0] for r in rows[1:]} & {h["id"] for h in body["related"]}


def test_csv_is_the_whole_result_set(client):
    body = get(client, q="委託", mode="keyword", size=100)
    rows = read_csv(client.get("/api/search.csv", params={"q": "委託", "mode": "keyword"}))
    assert rows[0] == list(CSV_COLUMNS)
    assert len(rows) - 1 == body["total"]
    assert [r[0] for r in rows[1:]] == [h["id"] for h in body["hits"]]
    first = dict(zip(rows[0], rows[1]))
    assert first["url"].endswith(f"/cases/{first['id']}") and first["url"].startswith("http")
    assert "、" in "".join(r[4] for r in rows[1:])  # several departments joined in one cell


def test_csv_filters_limit_and_paging_past_one_api_page(searcher):
    with TestClient(create_app(searcher, Settings(max_page_size=7))) as c:  # forces several internal pages
        rows = read_csv(c.get("/api/search.csv"))
        assert len(rows) - 1 == 51 and len({r[0] for r in rows[1:]}) == 51
        rows = read_csv(c.get("/api/search.csv", params={"limit": 10}))
        assert len(rows) - 1 == 10
        rows = read_csv(c.get("/api/search.csv", params={"department": "戸籍住民課"}))
        assert rows[1:] and all("戸籍住民課" in r[4] for r in rows[1:])


def test_csv_errors_are_json(client):
    assert error(client, "/api/search.csv", mode="nope") == "invalid_mode"
    assert error(client, "/api/search.csv", limit=10_001) == "invalid_parameter"


def test_csv_cells_cannot_become_formulas():
    assert _cell("=HYPERLINK(\"x\")") == "'=HYPERLINK(\"x\")"
    assert _cell("+1") == "'+1" and _cell("@SUM") == "'@SUM" and _cell("-2") == "'-2"
    assert _cell("新宿区") == "新宿区"
