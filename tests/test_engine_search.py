"""Search behaviour against the real corpus (session index with real embeddings)."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from contract.backend import FACETS
from engine.api_models import SearchResponse
from engine.api_params import NotFoundError, ParamError

GOV_CLOUD = "ガバメントクラウド 再委託"


def cid(n: int) -> str:
    return f"shinjuku-privacy-council-2023-{n:03d}"


def numbers(response) -> list[int]:
    return [h.number for h in response.hits]


def search(searcher, **kw) -> SearchResponse:
    kw.setdefault("size", 100)
    return searcher.search(searcher.params(**kw))


def corpus_records(built_index) -> list[dict]:
    out = []
    for path in sorted(built_index.records_dir.glob("*.jsonl")):
        out += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def test_keyword_and_returns_exactly_the_cases_with_both_terms(searcher):
    r = search(searcher, q=GOV_CLOUD, mode="keyword")
    assert sorted(numbers(r)) == [12, 13, 14, 15, 31, 38, 40]
    assert r.total == 7
    scores = [h.score for h in r.hits]
    assert scores == sorted(scores, reverse=True)


def test_keyword_matches_agree_with_a_substring_scan_of_the_corpus(searcher, built_index):
    # oracle: a case matches when some analysed text field contains both terms (normalised)
    from analyzers import normalize
    fields = ("title", "project_name", "purpose", "subjects", "body", "attachment", "departments", "contractors")
    expected = set()
    for rec in corpus_records(built_index):
        text = normalize("\n".join(str(rec.get(f)) if not isinstance(rec.get(f), list) else "\n".join(rec[f]) for f in fields))
        if "ガバメントクラウド" in text and "再委託" in text:
            expected.add(rec["number"])
    assert expected == set(numbers(search(searcher, q=GOV_CLOUD, mode="keyword")))


def test_title_matches_rank_above_body_only_matches(searcher):
    r = search(searcher, q="防犯カメラ", mode="keyword")
    assert r.hits[0].number == 18          # 防犯カメラ in the title
    assert "<mark>" in r.hits[0].highlights.title


def test_highlights_are_escaped_and_marked(searcher):
    r = search(searcher, q=GOV_CLOUD, mode="keyword")
    for hit in r.hits:
        joined = " ".join(hit.highlights.snippets)
        assert "<mark>" in joined
        stripped = joined.replace("<mark>", "").replace("</mark>", "")
        assert "<" not in stripped and ">" not in stripped
        assert hit.url == f"/cases/{hit.id}"


def test_department_filter_narrows_and_facet_counts_add_up(searcher):
    broad = search(searcher, q=GOV_CLOUD, mode="keyword")
    dept = {f.value: f.count for f in broad.facets["department"]}
    assert dept["医療保険年金課"] == 4
    narrow = search(searcher, q=GOV_CLOUD, mode="keyword", filters={"department": ["医療保険年金課"]})
    assert narrow.total == 4 < broad.total
    assert all("医療保険年金課" in h.departments for h in narrow.hits)
    # single-valued facets add up to the total
    for name in ("result", "fiscal_year", "municipality", "meeting_month"):
        assert sum(f.count for f in narrow.facets[name]) == narrow.total, name
    # the department facet ignores its own selection: same counts as unfiltered, value marked selected
    assert {f.value: f.count for f in narrow.facets["department"]} == dept
    assert [f.value for f in narrow.facets["department"] if f.selected] == ["医療保険年金課"]


def test_or_within_a_facet_and_across_facets(searcher):
    two = search(searcher, q="", mode="keyword", filters={"department": ["戸籍住民課", "税務課"]})
    one_a = search(searcher, q="", mode="keyword", filters={"department": ["戸籍住民課"]})
    one_b = search(searcher, q="", mode="keyword", filters={"department": ["税務課"]})
    assert two.total == one_a.total + one_b.total   # no case has both
    both = search(searcher, q="", mode="keyword", filters={"department": ["戸籍住民課", "税務課"], "category": ["業務委託"]})
    assert 0 < both.total < two.total
    assert all("業務委託" in h.categories for h in both.hits)
    # category counts under a category selection still show the other categories
    cats = {f.value for f in both.facets["category"]}
    assert {"電算処理", "業務委託"} <= cats


def test_empty_query_lists_everything_newest_first(searcher, built_index):
    r = search(searcher, q="", mode="hybrid")
    assert r.total == len(corpus_records(built_index))
    dates = [h.meeting_date for h in r.hits]
    assert dates == sorted(dates, reverse=True)
    assert sum(f.count for f in r.facets["meeting_month"]) == r.total


def test_sort_and_date_range(searcher):
    r = search(searcher, q="委託", mode="keyword", sort="oldest", date_from="2023-09-01", date_to="2023-12-31")
    dates = [h.meeting_date for h in r.hits]
    assert dates == sorted(dates)
    assert all(dt.date(2023, 9, 1) <= d <= dt.date(2023, 12, 31) for d in dates)
    assert r.total == len(r.hits) > 0


def test_paging_is_consistent(searcher):
    full = search(searcher, q="システム", mode="keyword", size=30)
    p1 = search(searcher, q="システム", mode="keyword", size=10, page=1)
    p2 = search(searcher, q="システム", mode="keyword", size=10, page=2)
    assert numbers(p1) + numbers(p2) == numbers(full)[:20]
    beyond = search(searcher, q="システム", mode="keyword", size=10, page=50)
    assert beyond.hits == [] and beyond.total == full.total


def test_excluded_terms_and_or_groups(searcher):
    base = search(searcher, q="ガバメントクラウド", mode="keyword")
    excl = search(searcher, q="ガバメントクラウド -再委託", mode="keyword")
    assert set(numbers(excl)) == set(numbers(base)) - {12, 13, 14, 15, 31, 38, 40}
    either = search(searcher, q="防犯カメラ OR ふるさと納税", mode="keyword")
    assert {18, 8, 25} <= set(numbers(either))


def test_case_number_fast_path(searcher):
    r = search(searcher, q="№12", mode="hybrid")
    assert numbers(r)[:1] == [12]
    r = search(searcher, q=cid(31), mode="keyword")
    assert numbers(r) == [31]


def test_semantic_mode_finds_related_cases_without_the_words(searcher):
    r = search(searcher, q="監視カメラの映像", mode="semantic", size=5)
    assert 18 in numbers(r)
    assert r.total <= 100
    scores = [h.score for h in r.hits]
    assert scores == sorted(scores, reverse=True)


def test_semantic_respects_filters(searcher):
    r = search(searcher, q="システムの移行", mode="semantic", filters={"department": ["税務課"]})
    assert r.hits and all("税務課" in h.departments for h in r.hits)
    assert r.total == len(r.hits) == 3


def test_hybrid_fuses_and_keeps_keyword_matches_on_top(searcher):
    kw = search(searcher, q=GOV_CLOUD, mode="keyword")
    hy = search(searcher, q=GOV_CLOUD, mode="hybrid", size=10)
    # all keyword matches are in the fused list, and the best keyword hit is on page one
    assert kw.hits[0].number in numbers(hy)
    assert hy.total >= kw.total
    scores = [h.score for h in hy.hits]
    assert scores == sorted(scores, reverse=True)
    full = search(searcher, q=GOV_CLOUD, mode="hybrid", size=100)
    assert set(numbers(kw)) <= set(numbers(full))
    assert len(numbers(full)) == len(set(numbers(full))) == full.total


def test_hybrid_facet_counts_cover_the_result_set(searcher):
    r = search(searcher, q=GOV_CLOUD, mode="hybrid", filters={"result": ["承認"]})
    assert sum(f.count for f in r.facets["fiscal_year"]) == r.total
    assert sum(f.count for f in r.facets["result"]) >= r.total


def test_similar_to_no3_is_its_lineage(searcher):
    r = searcher.similar(cid(3), size=5)
    assert set(numbers(r)[:3]) == {12, 31, 32}
    assert cid(3) not in [h.id for h in r.hits]


def test_similar_with_filters(searcher):
    r = searcher.similar(cid(3), {"category": ["業務委託"]}, size=5)
    assert r.hits and all("業務委託" in h.categories for h in r.hits)
    assert r.filters == {"category": ["業務委託"]}


@pytest.mark.parametrize("n, lineage", [(3, [3, 12, 31, 32]), (38, [4, 13, 38, 39]), (17, [10, 17, 30]), (42, [1, 7, 16, 42])])
def test_case_detail_timeline(searcher, n, lineage):
    detail = searcher.case(cid(n))
    assert detail.id == cid(n) and detail.url == f"/cases/{cid(n)}"
    assert [t.number for t in detail.timeline] == lineage
    assert [t.id for t in detail.timeline if t.current] == [cid(n)]
    dates = [t.meeting_date for t in detail.timeline]
    assert dates == sorted(dates)


def test_case_without_lineage_has_empty_timeline(searcher):
    assert searcher.case(cid(18)).timeline == []


def test_unknown_case_is_not_found(searcher):
    with pytest.raises(NotFoundError):
        searcher.case("nope-2023-001")
    with pytest.raises(NotFoundError):
        searcher.similar("nope-2023-001")


@pytest.mark.parametrize("kw, code", [
    ({"mode": "fuzzy"}, "invalid_mode"), ({"sort": "alpha"}, "invalid_sort"), ({"size": 101}, "size_too_large"),
    ({"page": 0}, "invalid_page"), ({"date_from": "2023-02-30"}, "invalid_date"),
    ({"date_from": "2023-10-01", "date_to": "2023-09-01"}, "invalid_date_range"),
    ({"q": "あ" * 10_000}, "query_too_long"), ({"filters": {"colour": ["red"]}}, "invalid_filter"),
])
def test_bad_parameters_raise_param_error(searcher, kw, code):
    with pytest.raises(ParamError) as err:
        searcher.params(**kw)
    assert err.value.code == code and err.value.status == 400


def test_response_shape_is_the_api_contract(searcher):
    r = search(searcher, q=GOV_CLOUD, mode="hybrid", size=3)
    data = json.loads(r.model_dump_json())
    assert set(data) == {"query", "total", "page", "size", "took_ms", "hits", "facets", "feed_url", "related"}
    assert data["feed_url"].startswith("/feed.atom?q=")
    assert set(data["facets"]) == set(FACETS)
    for hit in data["hits"] + data["related"]:      # related cases have the same shape
        assert set(hit) == {"id", "number", "title", "municipality", "departments", "categories",
                            "meeting_date", "result", "score", "highlights", "url", "match"}
        assert set(hit["highlights"]) == {"title", "snippets"}
        assert set(hit["match"]) == {"terms", "by_meaning", "semantic_rank"}


def test_facets_and_health(searcher, built_index):
    f = searcher.facets()
    assert f.total == built_index.summary.records
    assert sum(v.count for v in f.facets["municipality"]) == f.total
    h = searcher.health()
    assert h.status == "ok" and h.backend == "embedded" and h.records == f.total
    assert h.embedder == built_index.embedder_name and h.built_at is not None


@pytest.mark.parametrize("window", [3, 10])
def test_hybrid_paging_past_the_window_is_complete_and_unique(searcher, monkeypatch, window):
    from engine import ranking
    monkeypatch.setattr(ranking, "HYBRID_WINDOW", window)
    monkeypatch.setattr(ranking, "SEMANTIC_LIMIT", window)
    q = "委託 システム"
    kw = search(searcher, q=q, mode="keyword")
    pages, page = [], 1
    while True:
        r = search(searcher, q=q, mode="hybrid", size=4, page=page)
        if not r.hits:
            break
        pages += r.hits
        page += 1
    ids = [h.id for h in pages]
    assert len(ids) == len(set(ids)) == r.total
    assert {h.id for h in kw.hits} <= set(ids)
    # past the fused window the order is the keyword order
    tail = [i for i in ids[2 * window:] if i in {h.id for h in kw.hits}]
    kw_order = [h.id for h in kw.hits if h.id in set(tail)]
    assert tail == kw_order


@pytest.mark.parametrize("q", ["個人情報", "委託 システム", "外部結合", "ＬＩＮＥ", "防犯カメラ OR マイナポータル", '"特定個人情報保護評価"'])
def test_every_keyword_hit_shows_what_matched(searcher, q):
    # matching is by normalised substring (bigram phrase), the same rule the highlighter marks
    r = search(searcher, q=q, mode="keyword")
    assert r.hits
    for hit in r.hits:
        record = searcher.backend.fetch([hit.id])[hit.id]
        from analyzers import highlight, parse_query
        parsed = parse_query(q)
        marked = any("<mark>" in f for name in ("title", "project_name", "purpose", "subjects", "body", "attachment")
                     for f in highlight(record.get(name) or "", parsed, max_fragments=1))
        marked = marked or any("<mark>" in f for name in ("departments", "contractors")
                               for f in highlight("\n".join(record.get(name) or []), parsed, max_fragments=1))
        assert marked, (q, hit.number)


def test_facet_counts_are_cached_per_query_and_filters(searcher):
    from analyzers import parse_query
    from contract.backend import Filters
    backend = searcher.backend
    q = parse_query("委託")
    first = backend.facet_counts(q, Filters({"department": ("税務課",)}), 100)
    again = backend.facet_counts(parse_query("委託"), Filters({"department": ("税務課",)}), 100)
    other = backend.facet_counts(q, Filters({"department": ("戸籍住民課",)}), 100)
    assert again is first and other is not first
    assert first == backend._facet_counts(q, Filters({"department": ("税務課",)}), 100)


@pytest.mark.parametrize("mode", ["hybrid", "semantic"])
def test_hybrid_and_semantic_facets_ignore_their_own_selection(searcher, monkeypatch, mode):
    from engine import ranking
    monkeypatch.setattr(ranking, "HYBRID_WINDOW", 10)   # a window smaller than the corpus
    monkeypatch.setattr(ranking, "SEMANTIC_LIMIT", 10)
    q = "システム 移行"
    unfiltered = search(searcher, q=q, mode=mode)
    selected = search(searcher, q=q, mode=mode, filters={"department": ["医療保険年金課"]})
    counts = lambda r, name: {f.value: f.count for f in r.facets[name]}
    assert counts(selected, "department") == counts(unfiltered, "department")
    assert all("医療保険年金課" in h.departments for h in selected.hits)
    assert sum(counts(selected, "fiscal_year").values()) == selected.total


@pytest.mark.parametrize("q", ["委託", "ガバメントクラウド 再委託", '"特定個人情報保護評価"', "住民記録 OR 印鑑登録",
                               "システム -委託", "区"])
def test_filters_pushed_down_to_text_leaves_change_nothing(searcher, monkeypatch, q):
    """engine.embedded.query._within restricts every text leaf to a selective filter (or the ids
    of match_ids): the same matches, scores, totals and facet counts as the filter at the top."""
    import datetime as dt
    from analyzers import parse_query
    from contract.backend import Filters, Sort
    from engine.embedded import backend as embedded_backend
    backend = searcher.backend
    parsed = parse_query(q)
    departments = [f.value for f in searcher.facets().facets["department"]]
    filter_sets = [Filters({"department": (d,)}) for d in departments[:6]] + [
        Filters({"department": tuple(departments[:2]), "result": ("承認",)}),
        Filters(date_from=dt.date(2023, 6, 1), date_to=dt.date(2023, 9, 30)),
        Filters({"department": (departments[0],)}, date_from=dt.date(2023, 4, 1)),
    ]
    for filters in filter_sets:
        runs = []
        for fraction in (-1.0, 1.0):     # never push / always push the most selective filter
            monkeypatch.setattr(embedded_backend, "PUSH_MAX_FRACTION", fraction)
            ranked = backend.keyword(parsed, filters, Sort.relevance, 0, 100)
            runs.append((ranked.ids, ranked.scores, ranked.total, backend._facet_counts(parsed, filters, 100)))
        assert runs[0] == runs[1], (q, filters)
    # match_ids pushes its ids down: same answer as the full match set
    everything = backend.keyword(parsed, Filters(), Sort.relevance, 0, 100)
    some = backend.store.ids[::3]
    assert backend.match_ids(parsed, Filters(), some) == set(everything.ids) & set(some)


def test_query_embedding_is_reused_for_the_same_text(built_index, default_embedder):
    """A facet click or the next page embeds the same query text again: the searcher keeps recent
    query vectors (the real model runs once per text)."""
    from engine.embedded.backend import EmbeddedBackend
    from engine.searcher import Searcher

    calls = []

    class Counting:
        name, version, dim = default_embedder.name, default_embedder.version, default_embedder.dim

        def embed_query(self, text):
            calls.append(text)
            return default_embedder.embed_query(text)

        def embed_passages(self, texts):
            return default_embedder.embed_passages(texts)

        def clip_query(self, text):
            return default_embedder.clip_query(text)

    backend = EmbeddedBackend.open(built_index.data_dir)
    try:
        s = Searcher(backend, Counting())
        first = s.search(s.params(q="防犯カメラ", mode="hybrid"))
        again = s.search(s.params(q="防犯カメラ", mode="hybrid", page=1))
        s.search(s.params(q="防犯カメラ", mode="hybrid", filters={"department": [first.hits[0].departments[0]]}))
        assert calls == ["防犯カメラ"]
        assert [h.id for h in again.hits] == [h.id for h in first.hits]
        s.forget_query_vectors()
        s.search(s.params(q="防犯カメラ", mode="semantic"))
        assert calls == ["防犯カメラ", "防犯カメラ"]
    finally:
        backend.close()
