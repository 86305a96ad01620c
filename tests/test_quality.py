"""Search-quality regression: the judged query set (eval-data/queries.yaml) run through the real Searcher
over the session index must score at or above the values recorded in eval-data/baseline.json (per
embedder), within a small tolerance. A ranking change that hurts quality fails here; a change that
helps is recorded with `council-search eval --record-baseline` (see docs/quality.md)."""
from __future__ import annotations

import json

import pytest

from evaluation.cli import BASELINE
from evaluation.queryset import TEXT_KINDS, load_no_answer, load_queries
from evaluation.runner import evaluate, flat_scores

# One query changing rank in a 5-query kind moves a mean by more than this, so a real regression
# shows; float noise in the embeddings does not.
TOLERANCE = 0.02


@pytest.fixture(scope="module")
def report(searcher):
    return evaluate(searcher, load_queries(), no_answer=load_no_answer())


@pytest.fixture(scope="module")
def recorded(searcher):
    name = searcher.embedder.name if searcher.embedder else "none"
    data = json.loads(BASELINE.read_text(encoding="utf-8"))
    if name not in data:
        pytest.fail(f"no recorded baseline for embedder {name!r} in {BASELINE}: run "
                    f"`council-search eval --embedder {name} --record-baseline`")
    return data[name]["scores"]


def test_metrics_stay_at_or_above_recorded_values(report, recorded):
    current = flat_scores(report)
    drops = {key: (value, current.get(key)) for key, value in recorded.items()
             if current.get(key) is None or current[key] < value - TOLERANCE}
    assert not drops, "quality dropped (recorded -> now): " + ", ".join(
        f"{k} {v:.3f} -> {'missing' if c is None else f'{c:.3f}'}" for k, (v, c) in sorted(drops.items()))


def test_every_kind_and_mode_was_measured(report):
    assert set(report["modes"]) == {"keyword", "semantic", "hybrid"}
    for mode, block in report["modes"].items():
        assert set(block["by_kind"]) == set(TEXT_KINDS), mode
        assert block["all"]["n"] == len(load_queries().text_queries())
    assert report["similar"]["n"] == len(load_queries().similar_queries())


def test_hybrid_is_at_least_as_good_as_keyword_on_every_kind(report):
    """The product default (hybrid) must not lose to the plain keyword baseline on any kind of query."""
    worse = {}
    for kind in TEXT_KINDS:
        kw = report["modes"]["keyword"]["by_kind"][kind]["ndcg@10"]
        hy = report["modes"]["hybrid"]["by_kind"][kind]["ndcg@10"]
        if hy < kw - 0.005:
            worse[kind] = (kw, hy)
    assert not worse, f"hybrid below keyword (nDCG@10 keyword -> hybrid): {worse}"


def test_same_project_lineages_come_first_in_similar_cases(report):
    assert report["similar"]["map"] >= 0.8
    assert report["similar"]["recall@20"] >= 0.95


def test_the_shared_searcher_is_left_untouched(searcher, report):
    # evaluate() memoises query vectors on a copy; the session fixture keeps its own embedder
    assert type(searcher.embedder).__name__ != "_MemoEmbedder"
