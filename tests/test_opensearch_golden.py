"""Golden request bodies: the exact JSON the OpenSearch backend sends, pinned under
tests/scenarios/golden/, with their structure checked against OpenSearch's documented nested-kNN
query shape. Every pinned body also runs on the real OpenSearch node (keyword, facets and kNN with
its filters), so a golden cannot drift into something OpenSearch refuses.

The bodies are built from literal ParsedQuery values (not the live parser and synonym list) under
pinned ranking constants, so a golden changes only when the translation changes: tuning
engine/ranking.py or the analyzers does not touch them (the parity suite covers those end to end).

Regenerate after an intended change:  COUNCIL_SEARCH_UPDATE_GOLDEN=1 pytest tests/test_opensearch_golden.py
and review the diff.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import os
from pathlib import Path

import numpy as np
import pytest

from contract.backend import Filters, Sort
from contract.query import Group, ParsedQuery, Term, TokenStreams, Variant
from engine import ranking
from engine.opensearch import query as dsl
from engine.opensearch.schema import index_body
from scenarios import oracle
from scenarios.corpus import documents

GOLDEN = Path(__file__).parent / "scenarios" / "golden"
UPDATE = os.environ.get("COUNCIL_SEARCH_UPDATE_GOLDEN") == "1"

# A fixed, readable query vector (8-d, unit length): goldens pin structure, not a model's output.
VECTOR = np.arange(1, 9, dtype=np.float32) / np.linalg.norm(np.arange(1, 9, dtype=np.float32))
FILTERS = Filters({"department": ("医療保険年金課", "戸籍住民課"), "category": ("業務委託",)},
                  dt.date(2023, 9, 1), dt.date(2023, 12, 31))
HYBRID_WINDOW, SEMANTIC_LIMIT, SIMILAR_SIZE = 100, 100, 10
PINNED_RANKING = {
    "FIELD_BOOSTS": {"title": 4.0, "project_name": 3.0, "purpose": 2.0, "subjects": 1.2, "body": 1.0,
                     "departments": 1.0, "contractors": 1.0, "attachment": 0.4},
    "MORPH_WEIGHT": 2.0, "BIGRAM_WEIGHT": 1.0, "SYNONYM_WEIGHT": 0.7, "MORPH_SLOP": 0,
}


def _variant(text: str, morph: tuple[str, ...], synonym: bool = False) -> Variant:
    bigram = tuple(text[i:i + 2] for i in range(len(text) - 1)) or (text,)
    return Variant(text, TokenStreams(morph, bigram, tuple(text)), is_synonym=synonym)


def _term(text: str, morph: tuple[str, ...], *, phrase: bool = False, synonyms: tuple[tuple[str, tuple[str, ...]], ...] = ()) -> Term:
    return Term(text, (_variant(text, morph),) + tuple(_variant(t, m, True) for t, m in synonyms), phrase=phrase)


Q_SIMPLE = ParsedQuery("委託", groups=(Group((_term("委託", ("委託",)),)),))
Q_FULL = ParsedQuery(
    '個人番号 "再委託先" 防犯カメラ OR 警視庁 -クラウド',
    groups=(
        Group((_term("個人番号", ("個人", "番号"), synonyms=(("マイナンバー", ("マイナンバー",)),)),)),
        Group((_term("再委託先", ("再", "委託", "先"), phrase=True),)),
        Group((_term("防犯カメラ", ("防犯", "カメラ")), _term("警視庁", ("警視", "庁")))),
    ),
    excluded=(_term("クラウド", ("クラウド",)),),
)
Q_NUMBER = ParsedQuery("12", groups=(Group((_term("12", ("12",)),)),), case_number=12)
Q_HYBRID = ParsedQuery("ガバメントクラウドへの移行 -lgwan",
                       groups=(Group((_term("ガバメントクラウドへの移行", ("ガバメント", "クラウド", "移行")),)),),
                       excluded=(Term("lgwan", (Variant("lgwan", TokenStreams(("lgwan",), ("lgwan",), ("lgwan",))),)),))


def _cases() -> dict[str, dict]:
    return {
        "keyword_simple": dsl.keyword_body(Q_SIMPLE, Filters(), Sort.relevance, 0, 20),
        "keyword_full_language": dsl.keyword_body(Q_FULL, FILTERS, Sort.newest, 20, 20),
        "keyword_case_number": dsl.keyword_body(Q_NUMBER, Filters(), Sort.relevance, 0, 20),
        "facets_multi_select": dsl.facet_body(Q_SIMPLE, FILTERS, 100),
        "knn_semantic": dsl.knn_body(VECTOR, FILTERS, SEMANTIC_LIMIT),
        "knn_similar": dsl.knn_body(VECTOR, Filters(), SIMILAR_SIZE, exclude=("shinjuku-privacy-council-2023-001",)),
        # Hybrid = two ordinary requests over the same filters, fused by engine.fusion.rrf in the app
        # (works on any OpenSearch version: no `hybrid` query, no search pipeline).
        "hybrid": {
            "keyword": dsl.keyword_body(Q_HYBRID, FILTERS, Sort.relevance, 0, HYBRID_WINDOW),
            "knn": dsl.knn_body(VECTOR, FILTERS, HYBRID_WINDOW),
        },
        "index_v1_dim384": index_body(384, meta={"alias": "council-cases"}),
    }


def _pinned_cases() -> dict[str, dict]:
    saved = {k: getattr(ranking, k) for k in PINNED_RANKING}
    try:
        for k, v in PINNED_RANKING.items():
            setattr(ranking, k, v)
        return _cases()
    finally:
        for k, v in saved.items():
            setattr(ranking, k, v)


CASES = _pinned_cases()


@pytest.mark.parametrize("name", sorted(CASES))
def test_body_matches_golden(name):
    path = GOLDEN / f"{name}.json"
    text = json.dumps(CASES[name], ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden {path.name}: run with COUNCIL_SEARCH_UPDATE_GOLDEN=1"
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text), f"{name} differs from {path.name}"


def test_every_golden_file_has_a_case():
    assert {p.stem for p in GOLDEN.glob("*.json")} == set(CASES)


def _knn_parts(body: dict) -> tuple[dict, dict]:
    nested = body["query"]["nested"]
    return nested, nested["query"]["knn"]["passages.vector"]


@pytest.mark.parametrize("name", ["knn_semantic", "knn_similar", "hybrid"])
def test_knn_bodies_follow_the_documented_nested_knn_shape(name):
    body = CASES[name]["knn"] if name == "hybrid" else CASES[name]
    nested, spec = _knn_parts(body)
    assert nested["path"] == "passages" and nested["score_mode"] == "max"
    assert set(spec) <= {"vector", "k", "filter"}
    assert spec["vector"] == pytest.approx(VECTOR.tolist()) and body["size"] == spec["k"]
    assert body["_source"] is False
    # k nearest *cases*: the parent document keeps its best passage
    mapping = CASES["index_v1_dim384"]["mappings"]["properties"]
    vec = mapping["passages"]["properties"]["vector"]
    assert mapping["passages"]["type"] == "nested"
    assert vec["type"] == "knn_vector" and vec["method"]["space_type"] == "cosinesimil"
    assert vec["method"]["name"] == "hnsw" and vec["method"]["engine"] in ("lucene", "faiss")  # efficient filtering
    assert CASES["index_v1_dim384"]["settings"]["index"]["knn"] is True


def test_hybrid_halves_share_filters():
    kw, knn = CASES["hybrid"]["keyword"], CASES["hybrid"]["knn"]
    _nested, spec = _knn_parts(knn)
    assert kw["query"]["bool"]["filter"] == spec["filter"]["bool"]["filter"]
    assert kw["size"] == spec["k"] == HYBRID_WINDOW


@pytest.fixture(scope="module")
def corpus_clone(opensearch_url):
    """The corpus on the real node, with deterministic 8-d unit vectors (the goldens' dimension)."""
    import dataclasses

    from conftest import new_opensearch_target
    from engine.opensearch.client import make_client
    from engine.opensearch.writer import OpenSearchWriter
    from indexer.build import write_all
    from scenarios.corpus import build_info

    rng = np.random.default_rng(8)
    docs = []
    for d in documents():
        pv = rng.normal(size=(2, 8)).astype(np.float32)
        pv /= np.linalg.norm(pv, axis=1, keepdims=True)
        docs.append(dataclasses.replace(d, passage_vectors=pv, case_vector=pv[0]))
    target = new_opensearch_target(opensearch_url)
    settings = target.settings()
    client = make_client(settings)
    write_all(OpenSearchWriter(client, settings), build_info(dim=8), [docs])
    client.alias = target.alias
    yield client
    target.cleanup()


@pytest.mark.opensearch
@pytest.mark.parametrize("name,filters,exclude", [
    ("knn_semantic", FILTERS, ()),
    ("knn_similar", Filters(), ("shinjuku-privacy-council-2023-001",)),
])
def test_knn_golden_bodies_run_and_prefilter_the_right_cases(name, filters, exclude, corpus_clone):
    """The filter inside the kNN clause, run as an ordinary filter, selects exactly the cases the
    filters allow; the golden kNN body itself, run on the k-NN plugin, returns min(k, allowed) of
    them (efficient filtering: k results within the filter, none outside it)."""
    _nested, spec = _knn_parts(CASES[name])
    res = corpus_clone.search(index=corpus_clone.alias, body={"query": {"bool": {"filter": [spec["filter"]]}},
                                                              "size": 100, "_source": False})
    expected = {d.id for d in documents() if oracle.passes(d, filters)} - set(exclude)
    assert {h["_id"] for h in res["hits"]["hits"]} == expected and expected
    knn = corpus_clone.search(index=corpus_clone.alias, body=copy.deepcopy(CASES[name]))
    got = [h["_id"] for h in knn["hits"]["hits"]]
    assert set(got) <= expected and len(got) == min(spec["k"], len(expected))


@pytest.mark.opensearch
def test_keyword_golden_bodies_run_on_the_node(corpus_clone):
    for name in ("keyword_simple", "keyword_full_language", "keyword_case_number", "facets_multi_select"):
        res = corpus_clone.search(index=corpus_clone.alias, body=copy.deepcopy(CASES[name]))
        assert res["hits"]["total"]["value"] >= 0, name
    kw = corpus_clone.search(index=corpus_clone.alias, body=copy.deepcopy(CASES["hybrid"]["keyword"]))
    expected = oracle.search(documents(), Q_HYBRID, FILTERS)
    assert {h["_id"] for h in kw["hits"]["hits"]} == expected and expected
