"""GET /api/cases/{id} and /api/cases/{id}/similar over the real index."""
from __future__ import annotations

import pytest

from engine.api_models import CaseDetail, SimilarResponse
from ingest.models import CaseRecord

CASE_3 = "shinjuku-privacy-council-2023-003"


def test_case_has_every_corpus_field_and_its_timeline(client):
    r = client.get(f"/api/cases/{CASE_3}")
    assert r.status_code == 200, r.text
    body = r.json()
    CaseDetail.model_validate(body)
    assert set(CaseRecord.model_fields) <= set(body)
    assert body["id"] == CASE_3 and body["number"] == 3 and body["url"] == f"/cases/{CASE_3}"
    assert body["body"] and "\n" in body["body"]  # paragraphs kept for the page
    timeline = body["timeline"]
    numbers = [e["number"] for e in timeline]
    assert {3, 12, 31, 32} <= set(numbers)  # the 住民記録 lineage
    assert [e["meeting_date"] for e in timeline] == sorted(e["meeting_date"] for e in timeline)
    assert [e["number"] for e in timeline if e["current"]] == [3]


def test_case_without_lineage_has_empty_timeline(client):
    body = client.get("/api/cases/shinjuku-privacy-council-2023-018").json()  # the one 防犯カメラ case
    assert body["number"] == 18
    assert body["timeline"] == []


@pytest.mark.parametrize("case_id", ["shinjuku-privacy-council-2023-999", "nope", "..%2F..%2Fetc%2Fpasswd"])
def test_unknown_case_is_404_with_the_error_shape(client, case_id):
    r = client.get(f"/api/cases/{case_id}")
    assert r.status_code == 404
    assert set(r.json()["error"]) == {"code", "message"}
    r = client.get(f"/api/cases/{case_id}/similar")
    assert r.status_code == 404
    assert set(r.json()["error"]) == {"code", "message"}


def test_overlong_case_id_is_400(client):
    r = client.get("/api/cases/" + "x" * 201)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_parameter"


def test_similar_cases(client):
    r = client.get(f"/api/cases/{CASE_3}/similar", params={"size": 5})
    assert r.status_code == 200, r.text
    body = r.json()
    SimilarResponse.model_validate(body)
    assert body["id"] == CASE_3 and body["size"] == 5
    ids = [h["id"] for h in body["hits"]]
    assert len(ids) == 5 and CASE_3 not in ids
    assert len(set(ids)) == 5
    # the same project's later cases are the nearest by content
    assert {12, 31, 32} & {h["number"] for h in body["hits"][:3]}
    for hit in body["hits"]:
        assert hit["url"] == f"/cases/{hit['id']}"


def test_similar_with_filters(client):
    body = client.get(f"/api/cases/{CASE_3}/similar", params={"department": "医療保険年金課", "size": 20}).json()
    assert body["hits"] and all("医療保険年金課" in h["departments"] for h in body["hits"])
    assert body["filters"].get("department") == ["医療保険年金課"]
    body = client.get(f"/api/cases/{CASE_3}/similar", params={"result": "承認", "date_from": "2023-12-01"}).json()
    assert body["hits"] and all(h["meeting_date"] >= "2023-12-01" and h["result"] == "承認" for h in body["hits"])
    body = client.get(f"/api/cases/{CASE_3}/similar", params={"category": "防犯カメラ"}).json()
    assert set(h["number"] for h in body["hits"]) <= {18}  # the only 防犯カメラ case (if similar enough)


@pytest.mark.parametrize("params,code", [
    ({"size": 0}, "invalid_size"),
    ({"size": 101}, "size_too_large"),
    ({"date_from": "2023-02-30"}, "invalid_date"),
    ({"date_from": "2024-01-01", "date_to": "2023-01-01"}, "invalid_date_range"),
])
def test_similar_bad_parameters(client, params, code):
    r = client.get(f"/api/cases/{CASE_3}/similar", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code
