"""The queries whose keyword matched sets are pinned (tests/test_keyword_matches.py): every judged
query of eval-data/queries.yaml plus deterministic synthetic ones made from the corpus itself — random
substrings of every text field (1–8 characters), strings that run from the end of one text field
into the start of the next (they must never match through a field boundary), pairs (AND), ORs and
exclusions.

    .venv/bin/python tests/scenarios/match_queries.py > tests/scenarios/matched_sets.json

records the matched sets of the checked-out code (a text-only index of corpus/records built in a
temporary directory); the golden file was written at the commit before the keyword-path redesign.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECORDS_DIR = ROOT / "corpus" / "records"
# the judged query file (eval-data/ since the evaluation package's move; eval/ before)
QUERIES_FILE = next((p for p in (ROOT / "eval-data" / "queries.yaml", ROOT / "eval" / "queries.yaml") if p.is_file()),
                    ROOT / "eval-data" / "queries.yaml")
# the analysed text fields, in index order (kept literal: this file also runs on older commits)
TEXT_FIELDS = ("title", "project_name", "purpose", "subjects", "body", "attachment", "departments", "contractors")
_WORD_RUN = re.compile(r"[^\W_]+")


def corpus_hash() -> str:
    """Hash of what matching reads (ids and the text fields), not of whole records: provenance
    and other display fields may change without changing any matched set."""
    h = hashlib.sha256()
    for r in _records():
        h.update(json.dumps([r["id"]] + [_text(r, name) for name in TEXT_FIELDS], ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:16]


def _records() -> list[dict]:
    out = []
    for path in sorted(RECORDS_DIR.glob("*.jsonl")):
        out += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def _text(record: dict, name: str) -> str:
    value = record.get(name)
    return "\n".join(map(str, value)) if isinstance(value, list) else str(value or "")


def judged_queries() -> list[str]:
    import yaml
    data = yaml.safe_load(QUERIES_FILE.read_text(encoding="utf-8"))
    return [q["text"] for q in data["queries"] if q.get("text")]


def synthetic_queries(seed: int = 13) -> list[str]:
    rng = random.Random(seed)
    records = _records()
    runs = [run for r in records for name in TEXT_FIELDS for run in _WORD_RUN.findall(_text(r, name))]
    runs = [r for r in runs if r.upper() != "OR"]

    def substring() -> str:
        run = rng.choice(runs)
        n = rng.randint(1, min(8, len(run)))
        i = rng.randrange(len(run) - n + 1)
        return run[i:i + n]

    out = [substring() for _ in range(80)]
    for r in rng.sample(records, 25):   # across the boundary of two consecutive text fields
        texts = [t for t in (_text(r, name) for name in TEXT_FIELDS) if _WORD_RUN.search(t)]
        k = rng.randrange(len(texts) - 1)
        tail, head = _WORD_RUN.findall(texts[k])[-1], _WORD_RUN.findall(texts[k + 1])[0]
        out.append(tail[-rng.randint(1, 3):] + head[:rng.randint(1, 3)])
    out += [f"{substring()} {substring()}" for _ in range(25)]
    out += [f"{substring()} OR {substring()}" for _ in range(10)]
    out += [f"{substring()} -{substring()}" for _ in range(10)]
    return list(dict.fromkeys(q for q in out if q.strip()))


def all_queries() -> list[str]:
    return list(dict.fromkeys(judged_queries() + synthetic_queries()))


def matched_sets(backend, queries: list[str]) -> dict[str, list[str]]:
    from analyzers import parse_query
    try:
        from contract.backend import Filters, Sort
    except ImportError:   # commits before the contract package
        from engine.backend import Filters, Sort
    everything = len(backend.store)
    return {q: sorted(backend.keyword(parse_query(q), Filters(), Sort.relevance, 0, everything).ids)
            for q in queries}


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from engine.embedded.backend import EmbeddedBackend
    from engine.embedded.writer import EmbeddedWriter
    from indexer.build import build_index

    with tempfile.TemporaryDirectory() as tmp:
        build_index(RECORDS_DIR, EmbeddedWriter(Path(tmp)), None, None, progress=False)
        backend = EmbeddedBackend.open(Path(tmp))
        sets = matched_sets(backend, all_queries())
        backend.close()
    json.dump({"corpus": corpus_hash(), "matched": sets}, sys.stdout, ensure_ascii=False, indent=0)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
