"""Synthetic corpora for benchmarks: realistic cases recombined from the parsed real ones.

    .venv/bin/python bench/synth.py --cases 100000 [--out bench/out/synth-100000] [--seed 7]

Each synthetic case takes the shape of a real case (title, 事業名, 目的, category mix, result) and a
body and attachment assembled from sentences of 2-3 real cases, and is spread over 23 Tokyo wards,
~60 departments and fiscal years 2014-2025 (meeting dates inside the fiscal year). Text lengths and
vocabulary therefore match the real corpus; the records validate as `CaseRecord`.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.models import CaseRecord  # noqa: E402

RECORDS = ROOT / "corpus" / "records"
WARDS = [("千代田区", "chiyoda"), ("中央区", "chuo"), ("港区", "minato"), ("新宿区", "shinjuku"), ("文京区", "bunkyo"),
         ("台東区", "taito"), ("墨田区", "sumida"), ("江東区", "koto"), ("品川区", "shinagawa"), ("目黒区", "meguro"),
         ("大田区", "ota"), ("世田谷区", "setagaya"), ("渋谷区", "shibuya"), ("中野区", "nakano"), ("杉並区", "suginami"),
         ("豊島区", "toshima"), ("北区", "kita"), ("荒川区", "arakawa"), ("板橋区", "itabashi"), ("練馬区", "nerima"),
         ("足立区", "adachi"), ("葛飾区", "katsushika"), ("江戸川区", "edogawa")]
EXTRA_DEPARTMENTS = ["地域振興課", "産業振興課", "環境対策課", "道路課", "公園課", "介護保険課", "障害者福祉課",
                     "高齢者支援課", "子育て支援課", "学務課", "図書館", "文化観光課", "契約管財課", "会計室"]
RESULTS = ["承認"] * 18 + ["一部承認", "継続審議"]
_SENTENCE = re.compile(r"[^。\n]+[。\n]?")


def load_real() -> list[dict]:
    out = []
    for path in sorted(RECORDS.glob("*.jsonl")):
        out += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not out:
        raise SystemExit("no records under corpus/records (run `council-search ingest` first)")
    return out


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text or "") if s.strip()]


def generate(n: int, seed: int = 7):
    rng = random.Random(seed)
    real = load_real()
    body_sents = [sentences(r["body"]) for r in real]
    att_sents = [sentences(r["attachment"]) for r in real]
    departments = sorted({d for r in real for d in r["departments"]} | set(EXTRA_DEPARTMENTS))
    counters: dict[tuple[str, int], int] = {}
    for i in range(n):
        base = real[rng.randrange(len(real))]
        others = [rng.randrange(len(real)) for _ in range(rng.randint(1, 2))]
        ward, slug = WARDS[rng.randrange(len(WARDS))]
        fy = 2014 + rng.randrange(12)
        key = (slug, fy)
        counters[key] = counters.get(key, 0) + 1
        number = counters[key]
        start = dt.date(fy, 4, 1)
        meeting = start + dt.timedelta(days=rng.randrange(365))
        body = list(sentences(base["body"]))
        for o in others:
            src = body_sents[o]
            if src:
                k = rng.randint(1, max(1, len(src) // 2))
                j = rng.randrange(len(src))
                body += src[j:j + k]
        head, rest = body[:1], body[1:]
        rng.shuffle(rest)
        body = head + rest
        attachment = []
        for o in [real.index(base)] + others[:1]:
            attachment += att_sents[o][: rng.randint(0, len(att_sents[o]))]
        depts = rng.sample(departments, k=min(len(departments), rng.choice([1, 1, 1, 2, 3])))
        reiwa = fy - 2018
        label = f"令和{reiwa}年度" if reiwa >= 1 else f"平成{fy - 1988}年度"
        record = {
            "id": f"{slug}-privacy-council-{fy}-{number:04d}" if number > 999 else f"{slug}-privacy-council-{fy}-{number:03d}",
            "number": number,
            "municipality": ward,
            "council": base["council"],
            "fiscal_year": fy,
            "fiscal_year_label": label,
            "report_date": None,
            "title": base["title"],
            "departments": depts,
            "categories": base["categories"],
            "meeting_date": meeting.isoformat(),
            "result": rng.choice(RESULTS),
            "project_name": base["project_name"],
            "purpose": base["purpose"],
            "subjects": base["subjects"],
            "body": "\n".join(body),
            "attachment": "\n".join(attachment),
            "contractors": base.get("contractors", []),
            "prior_approvals": [],
            "source": {"file": f"synthetic/{slug}-{fy}.txt", "line_start": 1, "line_end": 1},
        }
        yield record


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--validate", action="store_true", help="Validate every record as CaseRecord (slower)")
    args = ap.parse_args(argv)
    out = args.out or ROOT / "bench" / "out" / f"synth-{args.cases}"
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tmp = out / "cases.jsonl.tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        for record in generate(args.cases, args.seed):
            if args.validate:
                CaseRecord.model_validate(record)
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    tmp.replace(out / "cases.jsonl")
    print(f"{args.cases} cases -> {out / 'cases.jsonl'} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
