"""Reciprocal rank fusion (Cormack et al. 2009): score(d) = Σ_r w_r / (k + rank_r(d)), rank from 1.
Scale-free, so BM25 scores and cosines need no normalisation; ties keep first-list order."""
from __future__ import annotations

from typing import Sequence

from engine import ranking


def rrf(rankings: Sequence[Sequence[str]], k: int = ranking.RRF_K,
        weights: Sequence[float] | None = None) -> list[tuple[str, float]]:
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking")
    scores: dict[str, float] = {}
    first_seen: dict[str, tuple[int, int]] = {}
    for r, (ids, w) in enumerate(zip(rankings, weights)):
        for rank, doc_id in enumerate(ids, 1):
            scores[doc_id] = scores.get(doc_id, 0.0) + w / (k + rank)
            first_seen.setdefault(doc_id, (rank, r))
    return sorted(scores.items(), key=lambda item: (-item[1], first_seen[item[0]]))
