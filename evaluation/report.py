"""Plain-text tables of an evaluation report (what `council-search eval` prints)."""
from __future__ import annotations

from typing import Any

from evaluation.queryset import TEXT_KINDS
from evaluation.runner import METRICS

_LABELS = {"ndcg@10": "nDCG@10", "recall@20": "R@20", "mrr": "MRR", "map": "MAP",
           "set_precision": "P(set)", "set_recall": "R(set)", "facets_exact": "facets="}
SET_COLUMNS = ("set_precision", "set_recall", "facets_exact")


def _fmt(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.3f}"


def format_table(report: dict[str, Any], metrics: tuple[str, ...] = ("ndcg@10", "recall@20", "mrr")) -> str:
    """One row per query kind (and 'all', then the holdout), one column group per mode; then the
    similar-case scores."""
    modes = list(report.get("modes", {}))
    lines = _mode_table(report, modes, metrics) if modes else []
    if modes:
        lines += ["", "the full matched set (every page: what total and the facets describe):",
                  *_mode_table(report, modes, SET_COLUMNS)]
        shares = [(m, (report["modes"][m].get("no_answer") or {})) for m in modes]
        if any(share for _, share in shares):
            lines.append("no-answer queries answered with zero matches: " + ", ".join(
                f"{m} {_fmt(share.get('zero')).strip()} ({len(share.get('with_matches', []))} of {share.get('n')} with matches)"
                for m, share in shares if share))
    if report.get("similar"):
        lines += ["", *_similar_lines(report["similar"])]
    return "\n".join(lines)


def _mode_table(report: dict[str, Any], modes: list[str], metrics: tuple[str, ...]) -> list[str]:
    group_width = 8 * len(metrics)
    head1 = f"{'kind':<13}{'n':>4} " + "".join(f"| {m:<{group_width}}" for m in modes)
    head2 = f"{'':<13}{'':>4} " + "".join("| " + "".join(f"{_LABELS[x]:>8}" for x in metrics) for _ in modes)
    rule = "-" * len(head1)
    by_mode = {m: report["modes"][m] for m in modes}
    kinds = [k for k in TEXT_KINDS if any(k in by_mode[m]["by_kind"] for m in modes)]
    lines = [head1, head2, rule]
    lines += [_row(kind, [by_mode[m]["by_kind"].get(kind, {}) for m in modes], metrics) for kind in kinds]
    lines += [rule, _row("all", [by_mode[m]["all"] for m in modes], metrics)]
    held = [by_mode[m].get("holdout") or {} for m in modes]
    if any(held):
        lines.append(_row("(holdout)", held, metrics))
    return lines


def _row(label: str, blocks: list[dict[str, Any]], metrics: tuple[str, ...]) -> str:
    """`label  n | m1 m2 m3 | m1 m2 m3 …`: one block of scores per mode (n from the first non-empty)."""
    n = next((b.get("n") for b in blocks if b), 0)
    return f"{label:<13}{n:>4} " + "".join("| " + "".join(f"  {_fmt(b.get(x))}" for x in metrics) for b in blocks)


def _similar_lines(sim: dict[str, Any]) -> list[str]:
    return [f"similar cases ({sim['n']} source cases, relevant for MAP = same-project lineage):",
            "  " + "  ".join(f"{_LABELS[m]} {_fmt(sim.get(m)).strip()}" for m in METRICS if m not in SET_COLUMNS)]


def format_misses(report: dict[str, Any], mode: str, limit: int = 20) -> str:
    """The worst queries of one mode (lowest nDCG@10) with what they missed: for tuning by hand."""
    rows = [q for q in report.get("queries", []) if q["mode"] == mode and q.get("ndcg@10") is not None]
    rows.sort(key=lambda q: q["ndcg@10"])
    out = [f"worst {mode} queries:"]
    for q in rows[:limit]:
        label = q["text"] or q["source"]
        short = [t.rsplit("-", 1)[-1] for t in q["top"][:5]]
        missed = [t.rsplit("-", 1)[-1] for t in q["missed"]]
        out.append(f"  {q['ndcg@10']:.3f} {q['id']:<22} {label[:30]:<30} top={','.join(short)} missed={','.join(missed)}")
    return "\n".join(out)
