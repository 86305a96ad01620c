"""Ranking metrics over one ranked list of case ids and graded judgments {case_id: grade}.

Grades: 2 = exactly what the user wants, 1 = relevant, absent/0 = not relevant.
- nDCG@k uses exponential gain (2^grade - 1) and a log2(rank + 1) discount; the ideal ranking is
  built from all judged cases, so a relevant case the engine never returns still costs.
- Recall@k, MRR and AP treat grade >= `min_grade` (default 1) as relevant.
- A query without any relevant case has no defined value: these functions return None, and
  `mean()` skips None (an empty judgment set is an authoring error caught by the query-set loader).
"""
from __future__ import annotations

import math
from typing import Iterable, Mapping, Sequence


def _relevant(judgments: Mapping[str, int], min_grade: int) -> set[str]:
    return {doc for doc, grade in judgments.items() if grade >= min_grade}


def dcg_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int) -> float:
    return sum((2 ** judgments.get(doc, 0) - 1) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))


def ndcg_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int = 10) -> float | None:
    ideal_order = sorted((g for g in judgments.values() if g > 0), reverse=True)
    ideal = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal_order[:k]))
    if ideal == 0:
        return None
    return dcg_at_k(_dedupe(ranked), judgments, k) / ideal


def recall_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int = 20, min_grade: int = 1) -> float | None:
    relevant = _relevant(judgments, min_grade)
    if not relevant:
        return None
    return len(relevant.intersection(_dedupe(ranked)[:k])) / len(relevant)


def reciprocal_rank(ranked: Sequence[str], judgments: Mapping[str, int], min_grade: int = 1) -> float | None:
    relevant = _relevant(judgments, min_grade)
    if not relevant:
        return None
    for i, doc in enumerate(_dedupe(ranked)):
        if doc in relevant:
            return 1.0 / (i + 1)
    return 0.0


def average_precision(ranked: Sequence[str], relevant: Iterable[str]) -> float | None:
    """AP of a ranked list against a set of relevant ids (e.g. a same-project lineage): the mean,
    over ALL relevant ids, of precision at the rank where each is found (0 for ones never found)."""
    relevant = set(relevant)
    if not relevant:
        return None
    hits = 0
    total = 0.0
    for i, doc in enumerate(_dedupe(ranked)):
        if doc in relevant:
            hits += 1
            total += hits / (i + 1)
    return total / len(relevant)


def mean(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _dedupe(ranked: Sequence[str]) -> list[str]:
    """An engine that returns a case twice must not be credited twice."""
    seen: set[str] = set()
    out = []
    for doc in ranked:
        if doc not in seen:
            seen.add(doc)
            out.append(doc)
    return out
