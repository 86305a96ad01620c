"""What gzip costs per response at each compression level, on the app's real responses (51-case
corpus, the configured index): bytes and CPU per compression (zlib, gzip wrapper, as Starlette's
GZipMiddleware does it), best of 3 repetitions of 200.

    .venv/bin/python bench/bench_gzip.py

wrk sends no Accept-Encoding, so bench_wrk.py never measures this; browsers always ask for gzip."""
from __future__ import annotations

import sys
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from council_search.settings import Settings  # noqa: E402
from engine.loader import load_searcher  # noqa: E402
from service.app import create_app  # noqa: E402

PATHS = ["/?q=ガバメントクラウド 再委託", "/?q=ガバメントクラウド 再委託&mode=keyword",
         "/api/search?q=ガバメントクラウド 再委託", "/?q=&size=100"]
LEVELS = (9, 6, 4, 1)


def cost(body: bytes, level: int, n: int = 200) -> tuple[int, float]:
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(n):
            z = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            out = z.compress(body) + z.flush()
        best = min(best, (time.process_time() - started) * 1000 / n)
    return len(out), best


def main() -> int:
    client = TestClient(create_app(load_searcher(Settings())))
    print("| response | bytes | " + " | ".join(f"level {lv}: bytes, CPU ms" for lv in LEVELS) + " |")
    print("|---|---:|" + "---:|" * len(LEVELS))
    for path in PATHS:
        body = client.get(path, headers={"accept-encoding": "identity"}).content
        cells = [f"{size:,} B, {ms:.3f}" for size, ms in (cost(body, lv) for lv in LEVELS)]
        print(f"| `{path}` | {len(body):,} | " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
