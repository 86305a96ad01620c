"""Plain-text tables of an evaluation report (what `council-search eval` prints)."""
from __future__ import annotations

from typing import Any

from evaluation.queryset import TEXT_KINDS
from evaluation.runner import METRICS

_LABELS = {"ndcg@10": "nDCG@10", "recall@20": "R@20", "mrr": "MRR", "map": "MAP"}


def _fmt(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.3f}"


def format_table(report: dict[str, Any], metrics: tuple[str, ...] = ("ndcg@10", "recall@20", "mrr")) -> str:
    """One row per query kind (and 'all'), one column group per mode."""
    modes = list(report.get("modes", {}))
    lines: list[str] = []
    if modes:
        group_width = 8 * len(metrics)
        head1 = f"{'kind':<13}{'n':>4} " + "".join(f"| {m:<{group_width}}" for m in modes)
        head2 = f"{'':<13}{'':>4} " + "".join("| " + "".join(f"{_LABELS[x]:>8}" for x in metrics) for _ in modes)
        lines += [head1, head2, "-" * len(head1)]
        kinds = [k for k in TEXT_KINDS if any(k in report["modes"][m]["by_kind"] for m in modes)]
        for kind in [*kinds, "all"]:
            blocks = [report["modes"][m]["all"] if kind == "all" else report["modes"][m]["by_kind"].get(kind, {})
                      for m in modes]
            n = next((b.get("n") for b in blocks if b), 0)
            row = f"{kind:<13}{n:>4} " + "".join("| " + "".join(f"  {_fmt(b.get(x))}" for x in metrics)
                                                  for b in blocks)
            if kind == "all":
                lines.append("-" * len(head1))
            lines.append(row)
        held = [report["modes"][m].get("holdout") or {} for m in modes]
        if any(held):
            n = next((b.get("n") for b in held if b), 0)
            lines.append(f"{'(holdout)':<13}{n:>4} " + "".join("| " + "".join(f"  {_fmt(b.get(x))}" for x in metrics)
                                                            for b in held))
    sim = report.get("similar")
    if sim:
        lines.append("")
        lines.append(f"similar cases ({sim['n']} source cases, relevant for MAP = same-project lineage):")
        lines.append("  " + "  ".join(f"{_LABELS[m]} {_fmt(sim.get(m)).strip()}" for m in METRICS))
    return "\n".join(lines)


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
