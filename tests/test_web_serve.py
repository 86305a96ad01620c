"""`council-search serve` as a real process: serves the index it is pointed at, keeps running
(503 + /healthz says why) when there is none, and refuses a bad port with a message."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(env_overrides: dict[str, str], *args: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, **env_overrides}
    proc = subprocess.Popen([sys.executable, "-m", "council_search.cli", "serve", "--port", str(port), *args],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return proc, f"http://127.0.0.1:{port}"


def wait_for(url: str, proc: subprocess.Popen, timeout: float = 60.0) -> tuple[int, dict]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except (urllib.error.URLError, ConnectionError):
            assert proc.poll() is None, proc.communicate()[0]
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.2)


def stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out


def test_serve_an_existing_index(index_settings):
    proc, base = start({"COUNCIL_SEARCH_DATA_DIR": str(index_settings.data_dir),
                        "COUNCIL_SEARCH_EMBEDDER": index_settings.embedder})
    try:
        status, health = wait_for(base + "/healthz", proc)
        assert status == 200 and health["records"] == 51
        status, body = wait_for(base + "/api/search?q=%E5%86%8D%E5%A7%94%E8%A8%97&mode=keyword", proc)  # 再委託
        assert status == 200 and body["total"] > 0
    finally:
        out = stop(proc)
    assert "Traceback" not in out


def test_serve_without_an_index_stays_up_and_says_why(tmp_path):
    proc, base = start({"COUNCIL_SEARCH_DATA_DIR": str(tmp_path / "empty")}, "--no-index")
    try:
        status, body = wait_for(base + "/healthz", proc)
        assert status == 503 and body["error"]["code"] == "backend_unavailable"
        assert "index" in body["error"]["message"]
    finally:
        out = stop(proc)
    assert "Traceback" not in out


def test_bad_port_is_a_clear_error():
    out = subprocess.run([sys.executable, "-m", "council_search.cli", "serve", "--port", "70000"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "invalid port" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("arg", ["--help"])
def test_serve_help(arg):
    out = subprocess.run([sys.executable, "-m", "council_search.cli", "serve", arg], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0
    for option in ("--host", "--port", "--reload", "--no-index"):
        assert option in out.stdout
