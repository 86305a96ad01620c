"""Shared by bench/soak.py and bench/abuse.py: start `council-search serve` in its own process on a
free loopback port (so its memory is measured alone), sample its memory from /proc, and the
request mix (real case ids and judged queries of the corpus)."""
from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def server(extra_env: dict[str, str] | None = None, start_timeout: float = 600) -> Iterator[tuple[str, int]]:
    """(base URL, pid) of a server over the configured index (built first if missing)."""
    import httpx
    port = free_port()
    env = {**os.environ, **(extra_env or {})}
    proc = subprocess.Popen([sys.executable, "-m", "council_search.cli", "serve", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_timeout
        with httpx.Client(base_url=base, timeout=30) as client:
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("server did not start")
                time.sleep(0.3)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def memory(pid: int) -> dict[str, float]:
    """RSS, PSS and anonymous memory in MiB (smaps_rollup), unidic dictionary mappings, threads."""
    out: dict[str, float] = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss", "Anonymous"):
                out[key.lower()] = int(rest.split()[0]) / 1024
    with open(f"/proc/{pid}/maps") as f:
        out["dict_maps"] = sum(1 for line in f if "unidic_lite/dicdir" in line)
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmSize:", "Threads:")):
                key, value = line.split(":")
                out["vsz" if key == "VmSize" else "threads"] = (int(value.split()[0]) / 1024 if key == "VmSize"
                                                                 else int(value))
    out["load1"] = os.getloadavg()[0]
    return out


def case_ids() -> list[str]:
    ids = []
    for path in sorted((ROOT / "corpus" / "records").glob("*.jsonl")):
        with path.open(encoding="utf-8") as f:
            ids += [json.loads(line)["id"] for line in f if line.strip()]
    return ids


def queries() -> list[str]:
    import yaml
    data = yaml.safe_load((ROOT / "eval-data" / "queries.yaml").read_text(encoding="utf-8"))
    items = data.get("queries", data) if isinstance(data, dict) else data
    out = [q.get("text", "") if isinstance(q, dict) else str(q) for q in items]
    return [q for q in out if q] or ["ガバメントクラウド 再委託", "防犯カメラ", "個人番号"]


def long_query(rng: random.Random, corpus_text: str, chars: int = 1000) -> str:
    """A varied `chars`-character query: a random slice of the report text (real Japanese words in
    a new order each time, so no cache answers it)."""
    start = rng.randrange(0, max(1, len(corpus_text) - chars))
    text = corpus_text[start:start + chars].replace("\n", " ")
    return (text + " " + text)[:chars]


def corpus_text() -> str:
    return " ".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus" / "raw").rglob("*.txt")))


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1)))))
    return ordered[k]
