"""Precedents from a draft: the cases most like a pasted draft, each with the draft's paragraphs
aligned to the case's passages.

The draft is cut into passages exactly as the index cuts a case's text (embeddings.passages), and
each embedded draft passage asks the backend for its nearest cases (a case scores its best passage,
as in semantic search). A case's score is

    best pair   max over draft passages of the cosine of that passage and the case's best passage
  + PROJECT_WEIGHT × project coverage   the share of the case's 事業名 (character bigrams, weighted
                                         by rarity among the candidates) that the draft contains

The second term is what tells a lineage apart from its siblings: the 標準化 cases of 住民記録 and
of 国民年金 share every sentence but the system's name. Chosen by measurement on the judged
lineages (evaluation/precedents.py, docs/quality.md), against the sum/mean of each draft passage's
best match, the mean of both directions and whole-text TF-IDF, all worse.

Cost is bounded whatever the draft's length: at most EMBED_BUDGET_CHARS of it are embedded (its
first passages, where a draft states what it is about), through the embedder's gate for
request-time embeddings (embeddings/budget.py: one at a time, a short queue, else 503 busy); later
passages are aligned by shared words only.
"""
from __future__ import annotations

import math
import re
from html import escape
from functools import lru_cache
from collections import Counter
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from analyzers import STOP_WORDS, normalize
from analyzers.sentence import surface_tokens
from analyzers.streams import index_tokens
from contract.backend import Filters, SearchBackend
from embeddings.base import Embedder
from embeddings.passages import case_passages, split_passages
from engine import ranking

EMBED_BUDGET_CHARS = 800            # embedded per request (2 passages of 400): bounded cost; MAP unchanged
NEIGHBOURS_PER_PASSAGE = 100      # each embedded draft passage's nearest cases (the candidate pool)
PROJECT_WEIGHT = 0.02             # measured: docs/quality.md "Precedents from a draft"
MAX_PAIRS = 5                     # aligned passage pairs shown per case
MIN_SHARED_CHARS = 2              # shared words shorter than this (の, 区) are not marked


@dataclass(frozen=True)
class DraftPassage:
    index: int
    text: str
    vector: np.ndarray | None      # None past the embedding budget
    words: frozenset[str] = frozenset()   # its content words (normalised), for alignment


@dataclass(frozen=True)
class Pair:
    draft_index: int
    draft_html: str
    case_html: str
    score: float
    by: str                         # "meaning" (embeddings) or "words" (shared words only)


@dataclass(frozen=True)
class Precedent:
    id: str
    score: float
    semantic: float
    coverage: float
    record: dict[str, Any]
    pairs: list[Pair]


def draft_passages(text: str) -> list[str]:
    return split_passages(text, ranking.PASSAGE_CHARS)


def _case_passages(record: dict[str, Any]) -> list[str]:
    """The passages the index embedded for a case: the same cut as indexer.prepare.passages_of (the
    engine may not import the indexer), so they line up with the backend's passage vectors."""
    return case_passages(record, max_chars=ranking.PASSAGE_CHARS, max_passages=ranking.MAX_PASSAGES_PER_CASE,
                         fields=ranking.PASSAGE_FIELDS, title_prefix=ranking.PASSAGE_TITLE_PREFIX)


def embed_draft(passages: Sequence[str], embedder: Embedder) -> list[DraftPassage]:
    """Embed the first passages up to EMBED_BUDGET_CHARS (at least one passage), through the
    embedder's gate for request-time embeddings (shared with search queries: one at a time, a short
    bounded queue, else Busy -> 503 + Retry-After)."""
    budget, chosen = EMBED_BUDGET_CHARS, []
    for p in passages:
        if chosen and budget - len(p) < 0:
            break
        chosen.append(p)
        budget -= len(p)
    vectors = np.zeros((0, 0), np.float32)
    if chosen:
        with embedder.query_gate:
            vectors = embedder.embed_passages(chosen)
    return [DraftPassage(i, p, vectors[i] if i < len(chosen) else None, frozenset(_content_set(p)))
            for i, p in enumerate(passages)]


# ---------------------------------------------------------------- scoring

def _bigrams(text: str) -> set[str]:
    return set(index_tokens(text).bigram.split())


def project_coverage(draft_bigrams: set[str], project_bigrams: set[str], df: Counter, n: int) -> float:
    """Share of the 事業名's bigrams found in the draft, each weighted by its rarity among the n
    candidates (a bigram every candidate's name has, 標準, says nothing)."""
    if not project_bigrams:
        return 0.0
    weights = {b: math.log((n + 1) / (df[b] + 0.5)) for b in project_bigrams}
    total = sum(weights.values())
    return sum(w for b, w in weights.items() if b in draft_bigrams) / total if total > 0 else 0.0


def score_candidates(draft_text: str, semantic: dict[str, float], records: dict[str, dict[str, Any]],
                     project_weight: float = PROJECT_WEIGHT) -> list[tuple[str, float, float, float]]:
    """(id, score, semantic, coverage), best first."""
    draft_bigrams = _bigrams(draft_text)
    names = {i: _bigrams(r.get("project_name") or "") for i, r in records.items()}
    df: Counter = Counter(b for bg in names.values() for b in bg)
    out = []
    for case_id, sem in semantic.items():
        if case_id not in records:
            continue
        cov = project_coverage(draft_bigrams, names[case_id], df, len(names))
        out.append((case_id, sem + project_weight * cov, sem, cov))
    out.sort(key=lambda t: (-t[1], t[0]))
    return out


def semantic_scores(backend: SearchBackend, passages: Sequence[DraftPassage], filters: Filters,
                    exclude: tuple[str, ...] = (), k: int = NEIGHBOURS_PER_PASSAGE) -> dict[str, float]:
    """Best pair per case: the max over embedded draft passages of the backend's best-passage cosine."""
    best: dict[str, float] = {}
    for p in passages:
        if p.vector is None:
            continue
        ranked = backend.knn(p.vector, filters, k, exclude=exclude)
        for case_id, s in zip(ranked.ids, ranked.scores):
            if s > best.get(case_id, -math.inf):
                best[case_id] = float(s)
    return best


# ---------------------------------------------------------------- alignment

@lru_cache(maxsize=65_536)
def _word_key(token: str) -> str:
    return normalize(token).replace(" ", "")


def _word_keys(tokens: list[str]) -> list[str]:
    return [_word_key(t) for t in tokens]


def _content(key: str) -> bool:
    return len(key) >= MIN_SHARED_CHARS and key not in STOP_WORDS and any(ch.isalnum() for ch in key) \
        and not re.fullmatch(r"[\u3041-\u309f]+|\d+", key)


def mark_shared(text: str, shared: set[str]) -> str:
    """HTML-escaped text with the shared words in <mark> (adjacent ones merged)."""
    out: list[str] = []
    open_ = False
    for token, key in zip(tokens := surface_tokens(text), _word_keys(tokens)):
        hit = key in shared
        if hit and not open_:
            out.append("<mark>")
            open_ = True
        elif not hit and open_:
            out.append("</mark>")
            open_ = False
        out.append(escape(token, quote=False))
    if open_:
        out.append("</mark>")
    return "".join(out).replace("</mark><mark>", "")


def _content_set(text: str) -> set[str]:
    return {k for k in _word_keys(surface_tokens(text)) if _content(k)}


def _word_overlap(a: set[str], b: set[str]) -> float:
    return len(a & b) / math.sqrt(len(a) * len(b)) if a and b else 0.0


def align(passages: Sequence[DraftPassage], record: dict[str, Any], case_vectors: np.ndarray | None,
          max_pairs: int = MAX_PAIRS) -> list[Pair]:
    """Each draft passage's best case passage (by meaning when both have vectors, else by shared
    words); the best pairs first, a case passage used once."""
    title = (record.get("title") or "").strip()
    texts = _case_passages(record)
    prefix = f"{title}\n" if ranking.PASSAGE_TITLE_PREFIX and title else ""
    shown = [t[len(prefix):] if prefix and i and t.startswith(prefix) else t for i, t in enumerate(texts)]
    usable = case_vectors is not None and len(case_vectors) == len(texts)   # same passage split as the index
    words = [_content_set(t) for t in shown]
    candidates: list[tuple[float, int, int, str]] = []
    for p in passages:
        draft_words = p.words
        if p.vector is not None and usable:
            sims = case_vectors @ p.vector
            j = int(np.argmax(sims))
            candidates.append((float(sims[j]), p.index, j, "meaning"))
        else:
            overlaps = [_word_overlap(draft_words, w) for w in words]
            j = int(np.argmax(overlaps)) if overlaps else 0
            if overlaps and overlaps[j] > 0:
                candidates.append((overlaps[j], p.index, j, "words"))
    # pairs by meaning rank above pairs by words (their scores are on different scales)
    candidates.sort(key=lambda c: (c[3] != "meaning", -c[0], c[1]))
    pairs, used = [], set()
    by_index = {p.index: p for p in passages}
    for score, i, j, by in candidates:
        if j in used:
            continue
        used.add(j)
        draft_text, case_text = by_index[i].text, shown[j]
        shared = by_index[i].words & words[j]
        pairs.append(Pair(i, mark_shared(draft_text, shared), mark_shared(case_text, shared), round(score, 4), by))
        if len(pairs) >= max_pairs:
            break
    pairs.sort(key=lambda p: p.draft_index)
    return pairs


# ---------------------------------------------------------------- the whole step

def find_precedents(backend: SearchBackend, embedder: Embedder, text: str, filters: Filters, size: int,
                    *, exclude: tuple[str, ...] = (),
                    project_weight: float = PROJECT_WEIGHT, with_pairs: bool = True,
                    ) -> tuple[list[DraftPassage], list[Precedent]]:
    passages = embed_draft(draft_passages(text), embedder)
    if not passages:
        return [], []
    semantic = semantic_scores(backend, passages, filters, exclude)
    records = backend.fetch(list(semantic))
    ranked = score_candidates(text, semantic, records, project_weight)[:size]
    out = []
    for case_id, score, sem, cov in ranked:
        record = records[case_id]
        pairs = align(passages, record, backend.passage_vectors(case_id)) if with_pairs else []
        out.append(Precedent(case_id, round(score, 6), round(sem, 6), round(cov, 4), record, pairs))
    return passages, out
