"""`council-search eval`: argument errors give a message and exit 2 (no traceback); a run prints the
table and writes the JSON report atomically; --set overrides are undone after the run."""
from __future__ import annotations

import json

import pytest

from council_search.cli import main
from engine import ranking
from engine.fusion import rrf
from evaluation import cli as eval_cli
from evaluation.overrides import OverrideError, overridden, parse_assignment


@pytest.mark.parametrize("argv, message", [
    (["--modes", "fuzzy"], "unknown mode"),
    (["--kinds", "haiku"], "unknown kind"),
    (["--set", "NOT_A_KNOB=1"], "unknown tunable"),
    (["--set", "RRF_K=sixty"], "not a Python literal"),
    (["--set", "RRF_K=1.5"], "expects int"),
    (["--set", "FIELD_BOOSTS.nope=2"], "no key"),
    (["--set", "RRF_K=20", "--record-baseline"], "plain run"),
    (["--queries", "/nonexistent/queries.yaml"], "not found"),
])
def test_bad_arguments_exit_2_with_a_message(capsys, argv, message):
    assert main(["eval", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_judged_ids_missing_from_the_corpus_are_refused(tmp_path, capsys):
    path = tmp_path / "q.yaml"
    path.write_text("version: 1\ncorpus: x\nqueries:\n- {id: q, kind: keyword, text: a, "
                    "judgments: {shinjuku-privacy-council-2023-999: 2}}\n", encoding="utf-8")
    assert main(["eval", "--queries", str(path)]) == 2
    assert "shinjuku-privacy-council-2023-999" in capsys.readouterr().err


def test_a_run_prints_the_table_and_writes_json(searcher, monkeypatch, tmp_path, capsys):
    # the session index stands in for the evaluation index (no second build in the test suite)
    monkeypatch.setattr(eval_cli, "load_eval_searcher", lambda embedder=None, backend="embedded": (searcher, "session index"))
    out = tmp_path / "results" / "run.json"
    assert main(["eval", "--modes", "keyword,hybrid", "--kinds", "width,case_number,similar",
                 "--json", str(out), "--misses", "2"]) == 0
    printed = capsys.readouterr().out
    assert "width" in printed and "case_number" in printed and "hybrid" in printed
    assert "similar cases" in printed and "worst keyword queries" in printed
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report["modes"]) == {"keyword", "hybrid"}
    assert set(report["modes"]["hybrid"]["by_kind"]) == {"width", "case_number"}
    assert report["similar"]["n"] > 0 and 0 <= report["similar"]["map"] <= 1
    assert report["ranking"]["RRF_K"] == ranking.RRF_K
    assert not list(out.parent.glob(".eval-*"))   # no temp file left behind
    one = next(q for q in report["queries"] if q["id"] == "num-31" and q["mode"] == "keyword")
    assert one["top"][0] == "shinjuku-privacy-council-2023-031"


def test_set_overrides_apply_during_the_run_and_are_undone(searcher, monkeypatch, tmp_path):
    seen = {}

    def loader(embedder=None, backend="embedded"):
        seen["k"], seen["default_k"] = ranking.RRF_K, rrf.__defaults__[0]
        seen["title"] = ranking.FIELD_BOOSTS["title"]
        return searcher, "session index"

    monkeypatch.setattr(eval_cli, "load_eval_searcher", loader)
    before = (ranking.RRF_K, rrf.__defaults__, dict(ranking.FIELD_BOOSTS))
    assert main(["eval", "--modes", "keyword", "--kinds", "case_number", "--set", "RRF_K=7",
                 "--set", "FIELD_BOOSTS.title=9", "--json", ""]) == 0
    assert seen == {"k": 7, "default_k": 7, "title": 9.0}
    assert (ranking.RRF_K, rrf.__defaults__, dict(ranking.FIELD_BOOSTS)) == before


def test_overrides_are_undone_after_an_error():
    before = ranking.PASSAGE_CHARS
    with pytest.raises(RuntimeError):
        with overridden(dict([parse_assignment("PASSAGE_CHARS=123")])):
            assert ranking.PASSAGE_CHARS == 123
            raise RuntimeError("boom")
    assert ranking.PASSAGE_CHARS == before
    with pytest.raises(OverrideError):
        parse_assignment("RRF_K")


def test_an_unknown_embedder_is_a_clear_error(capsys):
    assert main(["eval", "--embedder", "no-such-model", "--json", ""]) == 1
    err = capsys.readouterr().err
    assert "unknown embedder 'no-such-model'" in err and "Traceback" not in err
