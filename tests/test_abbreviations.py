"""Japanese abbreviations read against the corpus's compounds (engine/abbreviations.py): a rule over
the real tagger and the real index, no list of pairs."""
from __future__ import annotations

import pytest

from analyzers import parse_query
from contract.backend import Mode
from engine.abbreviations import AbbreviationIndex, compounds, is_candidate
from evaluation.queryset import load_no_answer


def _index(*texts: str) -> AbbreviationIndex:
    return AbbreviationIndex.from_records({"id": str(n), "body": t} for n, t in enumerate(texts))


def test_compounds_are_runs_of_nouns():
    assert ("児童", "相談", "所") in set(compounds("子どもは児童相談所に通告された"))


def test_each_character_starts_a_morpheme_in_order():
    index = _index("要保護児童対策地域協議会で検討する。", "児童相談所へ連絡した。", "生活保護の受給者")
    assert index.readings("要対協") == ["要保護児童対策地域協議"]      # skips 保護, 児童, 地域
    assert index.readings("児相") == ["児童相談"]                        # finds 児童相談所 and 児童相談システム
    assert index.readings("生保") == ["生活保護"]
    assert index.readings("相児") == []                                  # out of order
    assert index.readings("児所") == ["児童相談所"]


def test_only_the_tightest_reading_counts():
    # 生活福祉課保護係 also spells 生…保 (4 morphemes); 生活保護 (2) is the reading
    index = _index("生活福祉課保護係が生活保護を担当する。")
    assert index.readings("生保") == ["生活保護"]


def test_only_short_kanji_words_are_candidates():
    assert is_candidate("児相") and is_candidate("要対協")
    assert not is_candidate("ガバクラ") and not is_candidate("児") and not is_candidate("要保護児童対策")
    assert _index("児童相談所").readings("じそう") == []


def test_a_word_the_corpus_contains_is_not_read_as_an_abbreviation(searcher):
    # 防犯 is in the corpus: searched as itself only
    query = searcher.expand_abbreviations(parse_query("防犯"))
    assert not any(v.abbreviation for t in query.all_terms() for v in t.variants)


def test_no_no_answer_word_is_read_as_an_abbreviation(searcher):
    for q in load_no_answer().queries:
        query = searcher.expand_abbreviations(parse_query(q.text))
        assert not any(v.abbreviation for t in query.all_terms() for v in t.variants), q.text


@pytest.mark.parametrize("mode", list(Mode))
def test_an_abbreviation_matches_and_says_how(searcher, mode):
    res = searcher.search(searcher.params(q="児相", mode=mode))
    assert [e.abbreviations for e in res.query.expansions] == [["児童相談"]]
    numbers = {h.number: h for h in res.hits}
    assert {5, 46} <= set(numbers)
    for number in (5, 46):
        reasons = [(t.term, t.how.value, t.via) for t in numbers[number].match.terms]
        assert ("児相", "abbreviation", "児童相談") in reasons
    assert all(not h.match.by_meaning for h in (numbers[5], numbers[46]))     # counted as containing the word


def test_synonyms_off_reads_no_abbreviation(searcher):
    res = searcher.search(searcher.params(q="児相", mode=Mode.keyword, synonyms="off"))
    assert res.total == 0 and res.query.expansions == []


def test_a_large_index_reads_a_sample_chosen_by_case_id(monkeypatch):
    import engine.abbreviations as A
    records = [{"id": f"case-{n:03d}", "body": "児童相談所に連絡" if n % 2 else "生活保護を受給"} for n in range(100)]
    monkeypatch.setattr(A, "MAX_RECORDS", 10)
    sample = A.AbbreviationIndex.from_records(records, total=len(records))
    assert 0 < sum(sample.counts.values()) < 40                    # about a tenth of the 100 cases read
    again = A.AbbreviationIndex.from_records(reversed(records), total=len(records))
    assert again.counts == sample.counts                            # the same cases in any order
    monkeypatch.setattr(A, "MAX_RECORDS", 100)
    every = A.AbbreviationIndex.from_records(records, total=len(records))
    assert sum(every.counts.values()) == 100                         # at most MAX_RECORDS: every case
    assert every.readings("児相") == ["児童相談"] and every.readings("生保") == ["生活保護"]


def test_the_searcher_reads_every_case_of_a_small_index(searcher):
    index = searcher.abbreviation_index()
    assert sum(index.counts.values()) > 1000 and index.readings("生保") == ["生活保護"]


def test_a_loaded_searcher_reads_the_compounds_in_the_background(index_settings):
    # At 100k cases the compounds are 5-13 s of CPU: the app builds them when it opens an index,
    # not in the first search with an abbreviation-like word (issue 14: bounded cost per request).
    import threading

    from service.deps import SearcherHolder

    holder = SearcherHolder(index_settings)
    try:
        searcher = holder.get()
        for thread in threading.enumerate():
            if thread.name == "vocabularies":
                thread.join(timeout=120)
        assert searcher._abbreviation_index is not None and len(searcher._abbreviation_index) > 0
        assert searcher._suggest_index is not None
    finally:
        holder.close()
