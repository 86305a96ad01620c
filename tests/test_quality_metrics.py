"""Unit tests of the ranking metrics on hand-computed examples, and of the query-set loader."""
import math

import pytest

from evaluation.metrics import average_precision, mean, ndcg_at_k, recall_at_k, reciprocal_rank
from evaluation.queryset import QuerySetError, load_queries

J = {"a": 2, "c": 1, "e": 2}   # e is relevant but never returned


def test_ndcg_hand_computed():
    # DCG@3 = (2^2-1)/log2(2) + 0 + (2^1-1)/log2(4) = 3 + 0.5
    # IDCG@3 = 3/1 + 3/log2(3) + 1/log2(4)
    expected = 3.5 / (3 + 3 / math.log2(3) + 0.5)
    assert ndcg_at_k(["a", "b", "c", "d"], J, k=3) == pytest.approx(expected)
    assert ndcg_at_k(["a", "e", "c"], J, k=3) == pytest.approx(1.0)
    assert ndcg_at_k(["b", "d"], J, k=10) == 0.0


def test_ndcg_cutoff_ignores_later_ranks():
    assert ndcg_at_k(["b", "a"], J, k=1) == 0.0
    # k=1: only the ideal first gain (3) counts
    assert ndcg_at_k(["e", "b"], J, k=1) == pytest.approx(1.0)


def test_recall_at_k():
    assert recall_at_k(["a", "b", "c", "d"], J, k=2) == pytest.approx(1 / 3)
    assert recall_at_k(["a", "b", "c", "d"], J, k=4) == pytest.approx(2 / 3)
    assert recall_at_k(["a", "b", "c", "d"], J, k=4, min_grade=2) == pytest.approx(1 / 2)


def test_reciprocal_rank():
    assert reciprocal_rank(["a", "b"], J) == 1.0
    assert reciprocal_rank(["b", "c"], J) == 0.5
    assert reciprocal_rank(["b", "c"], J, min_grade=2) == 0.0
    assert reciprocal_rank([], J) == 0.0


def test_average_precision_counts_missing_relevant_as_zero():
    # relevant found at ranks 2 and 4: (1/2 + 2/4) / 3 relevant
    assert average_precision(["x", "a", "y", "b"], {"a", "b", "c"}) == pytest.approx(1 / 3)
    assert average_precision(["a", "b"], {"a", "b"}) == 1.0


def test_duplicates_are_not_credited_twice():
    assert recall_at_k(["a", "a", "a"], J, k=3) == pytest.approx(1 / 3)
    assert average_precision(["a", "a"], {"a", "b"}) == pytest.approx(0.5)
    assert ndcg_at_k(["a", "a"], {"a": 2}, k=2) == pytest.approx(1.0)


def test_undefined_without_relevant_cases():
    assert ndcg_at_k(["a"], {"a": 0}) is None
    assert recall_at_k(["a"], {}) is None
    assert reciprocal_rank(["a"], {}) is None
    assert average_precision(["a"], set()) is None
    assert mean([None, 1.0, 0.0]) == 0.5
    assert mean([None]) is None


def test_judged_query_set_is_valid_and_covers_the_corpus():
    qs = load_queries()
    assert len(qs.queries) >= 40
    kinds = {q.kind for q in qs.queries}
    assert {"keyword", "keyword_pair", "natural", "synonym", "width", "entity", "case_number", "similar"} <= kinds
    from pathlib import Path
    import json
    ids = set()
    for path in Path("corpus/records").glob("*.jsonl"):
        ids |= {json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    qs.check_ids(ids)   # raises on a typo'd case id
    for q in qs.similar_queries():
        assert q.lineage, q.id


@pytest.mark.parametrize("text, message", [
    ("queries: [", "not valid YAML"),
    ("version: 1\ncorpus: x\nqueries:\n- {id: q, kind: keyword, text: a, judgments: {x: 3}}\n", "grades must be"),
    ("version: 1\ncorpus: x\nqueries:\n- {id: q, kind: keyword, text: a, judgments: {x: 0}}\n", "no case judged relevant"),
    ("version: 1\ncorpus: x\nqueries:\n- {id: q, kind: similar, source: s, lineage: [x], judgments: {x: 1}}\n", "lineage"),
    ("version: 1\ncorpus: x\nqueries:\n- {id: q, kind: keyword, text: a, judgments: {x: 2}}\n"
     "- {id: q, kind: keyword, text: b, judgments: {x: 2}}\n", "duplicate"),
])
def test_bad_query_files_are_refused_with_a_clear_message(tmp_path, text, message):
    path = tmp_path / "q.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(QuerySetError, match=message):
        load_queries(path)


def test_unknown_case_id_is_refused(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text("version: 1\ncorpus: x\nqueries:\n- {id: q, kind: keyword, text: a, judgments: {nope: 2}}\n",
                    encoding="utf-8")
    with pytest.raises(QuerySetError, match="nope"):
        load_queries(path).check_ids({"a"})
