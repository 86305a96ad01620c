"""Validated once: the API and the CLI take the same parameter model (engine/api_params.py) and map
its errors through the same function, so a bad value gets the same code *and* message from
GET /api/search and from `council-search search --json`. No index is needed: parameters are checked
before the backend is touched (on both sides)."""
from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from council_search import cli
from council_search.settings import Settings, get_settings
from engine.api_params import MAX_FILTER_VALUES, MAX_QUERY_CHARS, PARAM_ERRORS, ParamError, SearchParams
from service.app import create_app

LONG = "x" * 201
# (URL parameters, expected code). Values are what a user types; the CLI gets the same strings.
BAD_VALUES = [
    ({"size": "0"}, "invalid_size"),
    ({"size": "1000"}, "size_too_large"),
    ({"size": "ten"}, "invalid_size"),
    ({"size": "2.5"}, "invalid_size"),
    ({"page": "0"}, "invalid_page"),
    ({"page": "1001"}, "invalid_page"),
    ({"page": "two"}, "invalid_page"),
    ({"mode": "x"}, "invalid_mode"),
    ({"mode": "KEYWORD"}, "invalid_mode"),
    ({"sort": "x"}, "invalid_sort"),
    ({"date_from": "2023-02-30"}, "invalid_date"),
    ({"date_from": "2023/07/28"}, "invalid_date"),
    ({"date_to": "yesterday"}, "invalid_date"),
    ({"date_to": "1700000000"}, "invalid_date"),      # a Unix timestamp is not a date here
    ({"date_from": "1800-01-01"}, "invalid_date"),    # out of range
    ({"date_to": "2263-01-01"}, "invalid_date"),
    ({"date_from": "2023-12-01", "date_to": "2023-07-01"}, "invalid_date_range"),
    ({"q": "a" * (MAX_QUERY_CHARS + 1)}, "query_too_long"),
    ({"q": "あ" * 3_000}, "query_too_long"),     # (10,000 over real HTTP: test_browser_search)
    ({"department": [LONG]}, "invalid_filter"),
    ({"meeting_month": ["2023-09", LONG]}, "invalid_filter"),
    ({"category": [f"c{i}" for i in range(MAX_FILTER_VALUES + 1)]}, "invalid_filter"),
    ({"size": "0", "mode": "x"}, "invalid_mode"),     # several bad values: the first field (model order) is reported
]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    # No `with`: the lifespan (which would try to open an index) does not run; none is needed.
    settings = Settings(data_dir=tmp_path_factory.mktemp("no-index"))
    return TestClient(create_app(settings=settings))


def api_error(client, params):
    r = client.get("/api/search", params=params)
    assert r.status_code == 400, r.text
    return r.json()


def cli_error(params, capsys):
    args = ["search"]
    for name, value in params.items():
        if name == "q":
            args.insert(1, value)
        else:
            for v in (value if isinstance(value, list) else [value]):
                args += [f"--{name.replace('_', '-')}", v]
    capsys.readouterr()
    assert cli.main([*args, "--json"]) == 2
    out, err = capsys.readouterr()
    body = json.loads(out)
    assert err.startswith(f"council-search search: {body['error']['code']}: ") and "Traceback" not in err
    return body


@pytest.mark.parametrize("params,code", BAD_VALUES, ids=[",".join(p) + "=" + c for p, c in BAD_VALUES])
def test_api_and_cli_give_the_same_code_and_message(client, capsys, params, code):
    api = api_error(client, params)
    assert api["error"]["code"] == code
    assert cli_error(params, capsys) == api
    # and the library path (Searcher.params / SearchParams.create) agrees too
    with pytest.raises(ParamError) as err:
        SearchParams.create(**params)
    assert err.value.to_dict() == api


def test_the_deployment_cap_is_the_same_everywhere(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COUNCIL_SEARCH_MAX_PAGE_SIZE", "10")
    monkeypatch.setenv("COUNCIL_SEARCH_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        api = api_error(TestClient(create_app(settings=Settings())), {"size": "11"})
        assert api["error"] == {"code": "size_too_large", "message": "size must be between 1 and 10"}
        assert cli_error({"size": "11"}, capsys) == api
        assert api_error(TestClient(create_app(settings=Settings())), {"size": "0"})["error"]["message"] == \
            "size must be an integer between 1 and 10"
    finally:
        get_settings.cache_clear()


def test_empty_and_blank_values_mean_no_filter(client):
    p = SearchParams.create(q="  委託 ", date_from="", department=["", " 総務課 ", "総務課"])
    assert p.q == "委託" and p.date_from is None and p.department == ("総務課",)
    assert p.filters == {"department": ("総務課",)}


def test_unknown_names_are_refused_in_code_and_ignored_in_urls(client):
    with pytest.raises(ParamError) as err:
        SearchParams.create(colour="red")
    assert err.value.code == "unknown_parameter"
    with pytest.raises(ParamError) as err:
        SearchParams.create(filters={"colour": ["red"]})
    assert err.value.code == "invalid_filter"
    # a web page's stray parameter (cache busters, trackers) is not an error
    r = client.get("/api/search", params={"utm_source": "x", "mode": "x"})
    assert r.json()["error"]["code"] == "invalid_mode"


def test_every_code_has_a_message():
    assert set(code for _, code in BAD_VALUES) <= set(PARAM_ERRORS)
