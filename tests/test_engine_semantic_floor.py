"""Hybrid search adds semantic neighbours near the best one, not every case of the corpus."""
from contract.backend import Mode
from engine import ranking


def test_hybrid_keeps_every_keyword_match_and_drops_the_flat_semantic_tail(searcher):
    keyword = searcher.search(searcher.params(q="防犯カメラ", mode=Mode.keyword, size=100))
    hybrid = searcher.search(searcher.params(q="防犯カメラ", mode=Mode.hybrid, size=100))
    assert {h.id for h in keyword.hits} <= {h.id for h in hybrid.hits}
    assert hybrid.total < 10        # without the floor: all 51 cases
    assert sum(f.count for f in hybrid.facets["result"]) == hybrid.total


def test_hybrid_adds_only_neighbours_within_the_floor_of_the_best(searcher):
    floor = ranking.SEMANTIC_RELATIVE_FLOOR.get(searcher.embedder.name)
    q = "ガバメントクラウド 再委託"
    keyword = {h.id for h in searcher.search(searcher.params(q=q, mode=Mode.keyword, size=100)).hits}
    semantic = searcher.search(searcher.params(q=q, mode=Mode.semantic, size=100)).hits
    hybrid = {h.id for h in searcher.search(searcher.params(q=q, mode=Mode.hybrid, size=100)).hits}
    best = max(h.score for h in semantic)
    near = {h.id for h in semantic if not floor or h.score >= best - floor}
    assert hybrid == keyword | near
    assert len(semantic) == 51      # semantic mode itself lists every neighbour, ranked
