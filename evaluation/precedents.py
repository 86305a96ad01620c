"""Lineage MAP of precedents-from-a-draft (eval-data/precedents.yaml).

    .venv/bin/python -m evaluation.precedents [--weights 0,0.02,0.05,0.1,0.2] [--data-dir var]

For each judged later case: its 事業内容 is the draft, the case itself is excluded, and AP is taken
over the earlier cases of its lineage. Prints AP per lineage and MAP for each project weight tried
(engine.precedents.PROJECT_WEIGHT is the one in use), plus a leave-one-lineage-out check: the
weight chosen on the other four lineages, scored on the fifth (so the choice is not fitted to the
lineage it is scored on). The same for the other semantic part the issue suggests, the mean of each
draft passage's best match. Uses the configured index (COUNCIL_SEARCH_DATA_DIR), built if missing.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import yaml

from contract.backend import Filters
from council_search.settings import get_settings
from engine import precedents as P
from engine.loader import load_searcher
from evaluation.metrics import average_precision

ROOT = Path(__file__).resolve().parent.parent
LINEAGES = ROOT / "eval-data" / "precedents.yaml"


def load_lineages(path: Path = LINEAGES) -> list[tuple[int, list[int]]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [(int(item["case"]), [int(n) for n in item["earlier"]]) for item in data["lineages"]]


def rankings(searcher, lineages) -> dict[int, tuple[str, list[tuple[str, float, float, float]]]]:
    """Per judged case: the candidates' (id, score, semantic, coverage) at weight 0 (the semantic
    part does not depend on the weight, so each weight is a re-sort)."""
    backend, embedder = searcher.backend, searcher.embedder
    by_number = {r["number"]: r for r in backend.records()}
    out = {}
    for case, _ in lineages:
        record = by_number[case]
        passages = P.embed_draft(P.draft_passages(record["body"]), embedder)
        semantic = P.semantic_scores(backend, passages, Filters(), exclude=(record["id"],), k=len(by_number))
        records = backend.fetch(list(semantic))
        # the alternative the issue suggests: the mean (= sum / n) of each draft passage's best match
        per_passage = [P.semantic_scores(backend, [p], Filters(), exclude=(record["id"],), k=len(by_number))
                       for p in passages if p.vector is not None]
        mean_best = {i: sum(s.get(i, 0.0) for s in per_passage) / len(per_passage) for i in semantic}
        out[case] = (record["body"], semantic, records, mean_best)
    return out


def lineage_ap(scored, by_id, earlier) -> float:
    ranked = [case_id for case_id, *_ in scored]
    return average_precision(ranked, {by_id[n] for n in earlier}) or 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", default="0,0.01,0.02,0.05,0.1,0.2")
    args = parser.parse_args(argv)
    weights = sorted({float(w) for w in args.weights.split(",")} | {P.PROJECT_WEIGHT})

    started = time.perf_counter()
    searcher = load_searcher(get_settings())
    lineages = load_lineages()
    by_id = {r["number"]: r["id"] for r in searcher.backend.records()}
    data = rankings(searcher, lineages)

    table: dict[float, dict[int, float]] = {}
    alt: dict[float, dict[int, float]] = {}
    for w in weights:
        table[w], alt[w] = {}, {}
        for case, earlier in lineages:
            body, semantic, records, mean_best = data[case]
            table[w][case] = lineage_ap(P.score_candidates(body, semantic, records, w), by_id, earlier)
            alt[w][case] = lineage_ap(P.score_candidates(body, mean_best, records, w), by_id, earlier)

    cases = [c for c, _ in lineages]
    print("| semantic part | project weight | " + " | ".join(f"№{c}" for c in cases) + " | MAP |")
    print("|---|---|" + "---|" * (len(cases) + 1))
    for name, results in (("best pair", table), ("mean of each passage's best", alt)):
        for w in weights:
            aps = results[w]
            mark = " (in use)" if w == P.PROJECT_WEIGHT and results is table else ""
            print(f"| {name} | {w:g}{mark} | " + " | ".join(f"{aps[c]:.3f}" for c in cases)
                  + f" | {sum(aps.values()) / len(aps):.3f} |")

    # leave one lineage out: the best weight on the others (ties: the smaller weight), scored on it
    loo = {}
    for held in cases:
        best = max(weights, key=lambda w: (sum(table[w][c] for c in cases if c != held), -w))
        loo[held] = (best, table[best][held])
    print()
    print("leave-one-lineage-out: " + ", ".join(f"№{c} w={w:g} AP={ap:.3f}" for c, (w, ap) in loo.items())
          + f"; MAP {sum(ap for _, ap in loo.values()) / len(loo):.3f}")
    ranked_in_use = {c: [n for n in [searcher.backend.fetch([i])[i]["number"] for i, *_ in
                                     P.score_candidates(*data[c][:3], P.PROJECT_WEIGHT)][:5]] for c in cases}
    print("top 5 in use: " + "; ".join(f"№{c} → {ranked_in_use[c]}" for c in cases))
    print(f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
