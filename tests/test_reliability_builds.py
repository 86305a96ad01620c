"""kill -9 of `council-search index` at several points of a build (issue 14, finding 6): afterwards
the serving build is unchanged (or is the new one, once CURRENT was switched), "previous" is the
build that was serving before, and the next successful build keeps exactly that one as previous.
On 9635f0c a build killed between meta.json and the CURRENT switch was kept as "previous" by the
next build, which deleted the build that had actually been serving.

Each kill is a real SIGKILL of a real `index` process, at a point chosen by wrapping the function
that runs there (no hooks in the product code)."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.embedded import layout
from engine.embedded.backend import EmbeddedBackend

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "corpus" / "records"

# Runs `council-search index ARGS...` with a SIGKILL at POINT (argv[1]).
WRAPPER = r"""
import os, signal, sys
from engine.embedded import layout, writer

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

point = sys.argv[1]
if point == "while_adding":          # documents are being written into the new build
    add = writer.EmbeddedWriter.add
    def add_then_die(self, docs):
        add(self, docs)
        die()
    writer.EmbeddedWriter.add = add_then_die
elif point == "before_meta":         # everything written but meta.json
    write_json = writer._write_json
    def write_json_or_die(path, data):
        if path.name == "meta.json":
            die()
        write_json(path, data)
    writer._write_json = write_json_or_die
elif point == "between_meta_and_current":   # the build is complete, CURRENT not switched yet
    layout.switch_current = die
elif point == "before_cleanup":      # CURRENT switched, old builds not cleaned up yet
    layout.cleanup_builds = die
from council_search.cli import main
sys.exit(main(["index", *sys.argv[2:]]))
"""


def index(data_dir: Path, point: str = "none") -> int:
    cmd = [sys.executable, "-c", WRAPPER, point, "--records", str(RECORDS), "--data-dir", str(data_dir),
           "--embedder", "none", "--no-progress"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=600).returncode


def state(data_dir: Path) -> tuple[Path, Path | None, set[Path]]:
    builds = {p for p in (layout.index_root(data_dir) / "builds").iterdir() if p.is_dir()}
    return layout.current_build(data_dir), layout.previous_build(data_dir), builds


def serves(data_dir: Path) -> int:
    backend = EmbeddedBackend.open(data_dir)
    try:
        return int(backend.info()["records"])
    finally:
        backend.close()


@pytest.mark.slow
def test_kill_9_at_every_build_point_keeps_serving_and_previous_right(tmp_path):
    data = tmp_path / "data"
    assert index(data) == 0
    first, previous, _ = state(data)
    assert previous is None
    assert index(data) == 0
    serving, previous, _ = state(data)
    assert previous == first and serving != first

    for point in ("while_adding", "before_meta", "between_meta_and_current"):
        assert index(data, point) == -signal.SIGKILL, point
        current, prev, builds = state(data)
        assert (current, prev) == (serving, first), point       # still serving the same build
        assert serves(data) == 51, point
        assert {serving, first} < builds, point                  # the killed build's directory is left over

    # The build killed between meta.json and CURRENT is complete on disk but never served: the next
    # build must keep the build that was serving as "previous", and remove it (and the other leftovers).
    leftovers = state(data)[2] - {serving, first}
    assert len(leftovers) == 3
    unpublished = [p for p in leftovers if (p / "meta.json").is_file()]
    assert len(unpublished) == 1
    unpublished = unpublished[0]
    assert index(data) == 0
    current, prev, builds = state(data)
    assert prev == serving, "previous must be the build that was serving"
    assert builds == {current, serving} and unpublished not in builds
    assert serves(data) == 51
    serving, first = current, serving

    # Killed after the switch, before cleanup: the new build serves and previous is the one before.
    assert index(data, "before_cleanup") == -signal.SIGKILL
    current, prev, builds = state(data)
    assert prev == serving and current not in (serving, first) and serves(data) == 51
    assert index(data) == 0
    latest, prev, builds = state(data)
    assert prev == current and builds == {latest, current}
