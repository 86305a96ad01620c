import subprocess
import sys


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "council_search.cli", *args], capture_output=True, text=True)


def test_help_lists_every_subcommand():
    out = run_cli("--help")
    assert out.returncode == 0
    for name in ("ingest", "index", "search", "serve", "eval"):
        assert name in out.stdout


def test_unknown_subcommand_is_a_clear_error():
    out = run_cli("frobnicate")
    assert out.returncode == 2
    assert "invalid choice" in out.stderr
    assert "Traceback" not in out.stderr
