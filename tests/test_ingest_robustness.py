"""Generated variants of the seed report still parse the same; damaged input fails cleanly.

Variants are cut from the real report along the structure the first parse reports (summary rows
and detail-sheet ranges), so they keep every real hazard.
"""
from __future__ import annotations

import json
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from council_search.cli import main
from ingest.pipeline import parse_file

ROOT = Path(__file__).resolve().parent.parent
RAW_DIR = ROOT / "corpus" / "raw"
SEED = RAW_DIR / "shinjuku" / "r05-kojin-joho-hogo-kanri-unei-kaigi.txt"
OUT_NAME = "shinjuku-privacy-council-2023.jsonl"
FULL_TO_HALF = str.maketrans("０１２３４５６７８９", "0123456789")


@pytest.fixture(scope="module")
def seed():
    _m, records, _w = parse_file(SEED, RAW_DIR)
    return SEED.read_text(encoding="utf-8"), records


def comparable(records, transform=lambda s: s):
    """Records without their source line numbers (which variants shift), strings transformed."""
    out = {}
    for r in records:
        d = r.model_dump(mode="json", exclude={"source"})
        out[r.number] = json.loads(transform(json.dumps(d, ensure_ascii=False)))
    return out


def write_variant(tmp_path: Path, text: str, name: str = "variant") -> Path:
    raw_dir = tmp_path / "raw"
    (raw_dir / "shinjuku").mkdir(parents=True, exist_ok=True)
    path = raw_dir / "shinjuku" / f"{name}.txt"
    path.write_text(text, encoding="utf-8")
    manifest = json.loads(SEED.with_suffix(".json").read_text(encoding="utf-8"))
    manifest["file"] = path.name
    path.with_suffix(".json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return path


def parse_variant(tmp_path: Path, text: str):
    path = write_variant(tmp_path, text)
    _m, records, warnings = parse_file(path, tmp_path / "raw")
    return records, warnings


def blocks(text: str, records):
    """Split the report into: preamble, summary rows, summary tail, detail sheets (by the parse)."""
    lines = text.split("\n")
    rows = sorted(records, key=lambda r: r.source.summary_line)
    first_sheet = min(r.source.line_start for r in records)
    preamble = lines[: rows[0].source.summary_line - 1]
    summary_rows = {}
    for k, r in enumerate(rows):
        end = rows[k + 1].source.summary_line - 1 if k + 1 < len(rows) else None
        summary_rows[r.number] = r.source.summary_line - 1, end
    # The last row ends at its result line: the footer follows.
    last = rows[-1]
    tail_start = next(i for i in range(last.source.summary_line - 1, first_sheet) if re.search(r"[0-9]+月[0-9]+日", lines[i])) + 1
    summary_rows[last.number] = (last.source.summary_line - 1, tail_start)
    summary_tail = lines[tail_start : first_sheet - 1]
    sheets = {}
    ordered = sorted(records, key=lambda r: r.source.line_start)
    for k, r in enumerate(ordered):
        end = ordered[k + 1].source.line_start - 1 if k + 1 < len(ordered) else len(lines)
        sheets[r.number] = lines[r.source.line_start - 1 : end]
    rows_text = {n: lines[a:b] for n, (a, b) in summary_rows.items()}
    return preamble, rows_text, summary_tail, sheets


def assemble(preamble, rows, row_order, tail, sheets, sheet_order):
    out = list(preamble)
    for n in row_order:
        out += rows[n]
    out += tail
    for n in sheet_order:
        out += sheets[n]
    return "\n".join(out) + "\n"


def test_blocks_reassemble_to_the_same_records(tmp_path, seed):
    text, records = seed
    pre, rows, tail, sheets = blocks(text, records)
    order = sorted(rows)
    got, _ = parse_variant(tmp_path, assemble(pre, rows, order, tail, sheets, order))
    assert comparable(got) == comparable(records)


def test_rows_and_sheets_reordered(tmp_path, seed):
    text, records = seed
    pre, rows, tail, sheets = blocks(text, records)
    rng = random.Random(7)
    row_order = sorted(rows)
    rng.shuffle(row_order)
    sheet_order = sorted(sheets)
    rng.shuffle(sheet_order)
    got, _ = parse_variant(tmp_path, assemble(pre, rows, row_order, tail, sheets, sheet_order))
    assert [r.number for r in got] == list(range(1, 52))  # output stays sorted by number
    assert comparable(got) == comparable(records)


def test_extra_blank_lines(tmp_path, seed):
    text, records = seed
    lines = text.split("\n")
    rng = random.Random(11)
    out = []
    for line in lines:
        out.append(line)
        if not line.strip():
            out += [""] * rng.randint(1, 3)  # blank runs get longer
    out = [""] * 3 + out + [""] * 3
    got, _ = parse_variant(tmp_path, "\n".join(out))
    assert comparable(got) == comparable(records)


def test_blank_line_between_every_summary_line(tmp_path, seed):
    text, records = seed
    lines = text.split("\n")
    first_sheet = min(r.source.line_start for r in records) - 1
    summary = [x for line in lines[:first_sheet] for x in (line, "")]
    got, _ = parse_variant(tmp_path, "\n".join(summary + lines[first_sheet:]))
    assert comparable(got) == comparable(records)


@pytest.mark.parametrize("removed", [1, 20, 34, 51])
def test_a_case_removed(tmp_path, seed, removed):
    text, records = seed
    pre, rows, tail, sheets = blocks(text, records)
    order = [n for n in sorted(rows) if n != removed]
    got, _ = parse_variant(tmp_path, assemble(pre, rows, order, tail, sheets, order))
    expected = comparable(records)
    del expected[removed]
    assert comparable(got) == expected


def test_half_width_digits(tmp_path, seed):
    text, records = seed
    got, warnings = parse_variant(tmp_path, text.translate(FULL_TO_HALF))
    assert comparable(got) == comparable(records, lambda s: s.translate(FULL_TO_HALF))
    assert len(warnings) == 1


def test_full_width_summary_numbers_and_dates(tmp_path, seed):
    """The reverse: a summary typed with full-width №s and dates parses the same."""
    text, records = seed
    first_sheet = min(r.source.line_start for r in records) - 1
    lines = text.split("\n")
    half_to_full = str.maketrans("0123456789", "０１２３４５６７８９")
    summary = [line.translate(half_to_full) for line in lines[:first_sheet]]
    got, _ = parse_variant(tmp_path, "\n".join(summary + lines[first_sheet:]))
    assert comparable(got) == comparable(records)


# --- clear errors, non-zero exit, nothing half-written --------------------------------------


def run_cli(tmp_path: Path, path: Path, capsys) -> tuple[int, str]:
    code = main(["ingest", "--raw-dir", str(path.parent.parent), "--out-dir", str(tmp_path / "out"), str(path)])
    return code, capsys.readouterr().err


def assert_failed_cleanly(tmp_path: Path, code: int, err: str, *needles: str) -> None:
    assert code != 0
    assert "Traceback" not in err
    assert err.startswith("ingest: error:")
    for needle in needles:
        assert needle in err
    out = tmp_path / "out"
    assert not out.exists() or list(out.iterdir()) == []


def test_not_a_report(tmp_path, capsys):
    path = write_variant(tmp_path, "議事録\n\n本日の会議を開会します。\n" * 50)
    code, err = run_cli(tmp_path, path, capsys)
    assert_failed_cleanly(tmp_path, code, err, "not a case-list report")


def test_empty_file(tmp_path, capsys):
    path = write_variant(tmp_path, "")
    code, err = run_cli(tmp_path, path, capsys)
    assert_failed_cleanly(tmp_path, code, err, "empty")


@pytest.mark.parametrize("fraction", [0.02, 0.3, 0.75, 0.97])
def test_truncated_file(tmp_path, seed, capsys, fraction):
    text, _ = seed
    lines = text.split("\n")
    path = write_variant(tmp_path, "\n".join(lines[: int(len(lines) * fraction)]))
    code, err = run_cli(tmp_path, path, capsys)
    assert_failed_cleanly(tmp_path, code, err, path.name)


def test_truncated_mid_character(tmp_path, seed, capsys):
    """A copy cut at a byte offset usually ends inside a multi-byte character."""
    text, _ = seed
    data = text.encode("utf-8")
    path = write_variant(tmp_path, "x")
    cut = next(i for i in range(len(data) // 2, len(data)) if 0x80 <= data[i] <= 0xBF)  # inside a character
    path.write_bytes(data[:cut])
    code, err = run_cli(tmp_path, path, capsys)
    assert_failed_cleanly(tmp_path, code, err, "not UTF-8")


def test_truncated_right_after_attachment_reference(tmp_path, seed, capsys):
    text, records = seed
    lines = text.split("\n")
    last = records[-1]
    ref = next(i for i in range(last.source.line_start, len(lines)) if lines[i].strip() == "別紙のとおり")
    path = write_variant(tmp_path, "\n".join(lines[: ref + 1]) + "\n")
    code, err = run_cli(tmp_path, path, capsys)
    assert_failed_cleanly(tmp_path, code, err, "№51", "truncated")


def test_truncated_mid_sheet_names_the_missing_cases(tmp_path, seed, capsys):
    text, records = seed
    lines = text.split("\n")
    cut = {r.number: r for r in records}[40].source.line_start + 5  # inside №40's header area
    path = write_variant(tmp_path, "\n".join(lines[:cut]))
    code, err = run_cli(tmp_path, path, capsys)
    assert_failed_cleanly(tmp_path, code, err, "summary rows without a detail sheet: №41–51")


def test_failure_leaves_existing_output_untouched(tmp_path, seed, capsys):
    text, _ = seed
    out = tmp_path / "out"
    out.mkdir()
    (out / OUT_NAME).write_text("previous\n", encoding="utf-8")
    path = write_variant(tmp_path, text[: len(text) // 2])
    code = main(["ingest", "--raw-dir", str(tmp_path / "raw"), "--out-dir", str(out), str(path)])
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err
    assert (out / OUT_NAME).read_text(encoding="utf-8") == "previous\n"
    assert sorted(p.name for p in out.iterdir()) == [OUT_NAME]  # no temp file left behind


def test_one_bad_report_blocks_all_writes(tmp_path, seed, capsys):
    text, _ = seed
    good = write_variant(tmp_path, text, "good")
    bad = write_variant(tmp_path, "", "bad")
    code = main(["ingest", "--raw-dir", str(tmp_path / "raw"), "--out-dir", str(tmp_path / "out"), str(good), str(bad)])
    err = capsys.readouterr().err
    assert code != 0 and "bad.txt" in err
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_missing_manifest_and_unknown_format(tmp_path, seed, capsys):
    text, _ = seed
    path = write_variant(tmp_path, text)
    manifest = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    manifest["format"] = "some-other-layout"
    path.with_suffix(".json").write_text(json.dumps(manifest), encoding="utf-8")
    code, err = run_cli(tmp_path, path, capsys)
    assert_failed_cleanly(tmp_path, code, err, "unknown report format", "shinjuku-case-list-pdf-text")
    path.with_suffix(".json").unlink()
    code, err = run_cli(tmp_path, path, capsys)
    assert_failed_cleanly(tmp_path, code, err, "no manifest")


def test_not_utf8(tmp_path, capsys):
    path = write_variant(tmp_path, "x")
    path.write_bytes("審議案件一覧".encode("cp932"))
    code, err = run_cli(tmp_path, path, capsys)
    assert_failed_cleanly(tmp_path, code, err, "not UTF-8")


def test_missing_path(tmp_path, capsys):
    code, err = run_cli(tmp_path, tmp_path / "raw" / "nope" / "missing.txt", capsys)
    assert_failed_cleanly(tmp_path, code, err, "no such file")


def test_console_entry_point_exit_code(tmp_path):
    """The real `council-search` process: message on stderr, exit 1, no traceback, no output."""
    path = write_variant(tmp_path, "")
    exe = Path(sys.executable).with_name("council-search")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "council_search.cli"]
    proc = subprocess.run(
        cmd + ["ingest", "--raw-dir", str(tmp_path / "raw"), "--out-dir", str(tmp_path / "out"), str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 1
    assert "ingest: error:" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()


def test_default_discovery_of_raw_dir(tmp_path, seed, capsys):
    text, _ = seed
    write_variant(tmp_path, text)
    shutil.copy(SEED.with_suffix(".json"), tmp_path / "raw" / "stray.json")  # a manifest without text: ignored
    code = main(["ingest", "--raw-dir", str(tmp_path / "raw"), "--out-dir", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 0
    assert "51 records" in captured.out
    assert "warning" in captured.err and "№34" in captured.err
    lines = (tmp_path / "out" / OUT_NAME).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 51
    assert json.loads(lines[0])["source"]["file"] == "shinjuku/variant.txt"
