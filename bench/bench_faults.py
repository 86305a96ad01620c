"""What the API does when OpenSearch fails, measured against a running `council-search serve`.

    .venv/bin/python bench/bench_faults.py hung    # a listener that accepts connections and never answers
    .venv/bin/python bench/bench_faults.py node    # the real dev node: killed during a bulk load, stopped while serving

`hung`: time to the first 503, latency of later searches (breaker open), /healthz latency, and the
throughput of requests that need no backend (a 400 for a bad parameter, a static file) while eight
clients keep searching. `node`: starts its own dev node (free port, bench/out/faults-node), SIGKILLs
it in the middle of `council-search index` on 10,000 synthetic cases, restarts it, re-indexes;
stops it (SIGTERM) while the API serves and starts it again. Every loop is bounded in count and
time; only 127.0.0.1 is contacted. Prints one JSON object per measurement.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_opensearch import NODE_SH, OUT, free_port  # noqa: E402
from bench_search import corpus_dir  # noqa: E402

BIN = Path(sys.executable).parent


def get(url: str, timeout: float = 60) -> tuple[int, float, object]:
    """(status, seconds, headers) of one GET; status 0 when the client gave up after `timeout`."""
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            r.read()
            return r.status, time.perf_counter() - t, r.headers
    except urllib.error.HTTPError as e:
        e.read()
        return e.code, time.perf_counter() - t, e.headers
    except TimeoutError:
        return 0, time.perf_counter() - t, {}


def report(name: str, **values) -> None:
    print(json.dumps({"measure": name, **values}, ensure_ascii=False), flush=True)


class Api:
    def __init__(self, env: dict[str, str]):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        # the server's log to a file: an unread pipe fills up and blocks the server's logging
        OUT.mkdir(parents=True, exist_ok=True)
        self.log = open(OUT / "faults-api.log", "w")
        self.proc = subprocess.Popen([str(BIN / "council-search"), "serve", "--no-index", "--port", str(self.port)],
                                     env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT)
        t = time.perf_counter()
        for _ in range(600):  # ≤ 60 s
            try:
                get(self.base + "/static/favicon.svg", timeout=2)
                break
            except OSError:
                time.sleep(0.1)
        self.startup_s = round(time.perf_counter() - t, 2)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self.log.close()


def ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def hung() -> None:
    from scenarios.proxy import HungListener

    listener = HungListener()
    api = Api({"COUNCIL_SEARCH_BACKEND": "opensearch", "OPENSEARCH_URL": listener.url})
    try:
        report("hung: API start-up until it answers", seconds=api.startup_s)
        first = get(api.base + "/api/search?q=%E5%A7%94%E8%A8%97&mode=keyword")
        report("hung: first search (time to first 503)", status=first[0], ms=ms(first[1]),
               retry_after=first[2].get("Retry-After"))
        later = [get(api.base + "/api/search?q=%E5%A7%94%E8%A8%97&mode=keyword") for _ in range(20)]
        report("hung: next 20 searches (breaker open)", statuses=sorted({s for s, _, _ in later}),
               p50_ms=ms(statistics.median(t for _, t, _ in later)), max_ms=ms(max(t for _, t, _ in later)))
        health = [get(api.base + "/healthz") for _ in range(5)]
        report("hung: /healthz", statuses=[h[0] for h in health], ms=[ms(h[1]) for h in health])
        # throughput of requests that need no backend while 8 clients keep searching (10 s)
        stop = time.monotonic() + 10
        counts = {"bad_param_400": 0, "static_200": 0, "search": 0}
        statuses: dict[int, int] = {}
        lock = threading.Lock()

        def loop(kind: str, url: str) -> None:
            while time.monotonic() < stop:
                s, _, _ = get(url, timeout=15)
                with lock:
                    counts[kind] += 1
                    key = f"{kind}:{s}"
                    statuses[key] = statuses.get(key, 0) + 1

        threads = [threading.Thread(target=loop, args=("search", api.base + "/api/search?q=%E7%A8%8E&mode=keyword"))
                   for _ in range(8)]
        threads += [threading.Thread(target=loop, args=("bad_param_400", api.base + "/api/search?q=x&size=100000"))
                    for _ in range(2)]
        threads += [threading.Thread(target=loop, args=("static_200", api.base + "/static/favicon.svg")) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        report("hung: 10 s with 8 searching clients + 2 clients of bad parameters + 2 of static files",
               per_second={k: round(v / 10, 1) for k, v in counts.items()}, statuses=statuses)
        health = [get(api.base + "/healthz") for _ in range(5)]
        report("hung: /healthz after the load", statuses=[h[0] for h in health], ms=[ms(h[1]) for h in health])
    finally:
        api.close()
        listener.close()


def node() -> None:
    from engine.opensearch.client import make_client
    from engine.opensearch.settings import OpenSearchSettings

    home = OUT / "faults-node"
    shutil.rmtree(home, ignore_errors=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    node_env = {**os.environ, "OPENSEARCH_PORT": str(port), "OPENSEARCH_HOME": str(home), "OPENSEARCH_HEAP": "512m"}
    alias = "faults-cases"
    app_env = {"COUNCIL_SEARCH_BACKEND": "opensearch", "OPENSEARCH_URL": url, "OPENSEARCH_INDEX": alias}

    def start_node() -> float:
        t = time.perf_counter()
        subprocess.run([str(NODE_SH), "start"], env=node_env, check=True, capture_output=True)
        return round(time.perf_counter() - t, 1)

    def index(records: Path) -> subprocess.Popen:
        return subprocess.Popen([str(BIN / "council-search"), "index", "--embedder", "none", "--no-progress",
                                 "--records", str(records)], env={**os.environ, **app_env},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    client = make_client(OpenSearchSettings(url=url, index=alias))
    report("node: start", seconds=start_node())
    try:
        first = index(ROOT / "corpus" / "records")
        first.communicate(timeout=600)
        old = sorted(client.indices.get_alias(name=alias))
        synth = corpus_dir(10000)
        # kill -9 in the middle of a bulk load
        build = index(synth)
        time.sleep(8)
        pid = int((home / "node.pid").read_text())
        t = time.perf_counter()
        os.kill(pid, 9)
        out, err = build.communicate(timeout=600)
        for _ in range(300):  # the JVM must be gone (its node lock released) before the restart
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.1)
        report("node: SIGKILL during `council-search index` of 10,000 cases", exit_code=build.returncode,
               seconds_to_fail=round(time.perf_counter() - t, 1), stderr_last_line=(err.strip().splitlines() or [""])[-1])
        report("node: restart", seconds=start_node())
        indices = sorted(client.indices.get(index=f"{alias}-v*"))
        report("node: after restart", alias_on=sorted(client.indices.get_alias(name=alias)), old_build=old,
               indices=indices, count_behind_alias=client.count(index=alias)["count"])
        again = index(ROOT / "corpus" / "records")
        out, err = again.communicate(timeout=600)
        report("node: next build", exit_code=again.returncode, line=out.strip(),
               indices=sorted(client.indices.get(index=f"{alias}-v*")))

        # stop while serving
        api = Api(app_env)
        try:
            ok = get(api.base + "/api/search?q=%E5%A7%94%E8%A8%97&mode=keyword")
            report("node: serving", status=ok[0], ms=ms(ok[1]))
            t = time.perf_counter()
            subprocess.run([str(NODE_SH), "stop"], env=node_env, check=True, capture_output=True)
            report("node: SIGTERM stop", seconds=round(time.perf_counter() - t, 1))
            down = [get(api.base + "/api/search?q=%E5%A7%94%E8%A8%97&mode=keyword") for _ in range(5)]
            report("node: searches while stopped", statuses=[s for s, _, _ in down], ms=[ms(x) for _, x, _ in down],
                   retry_after=[h.get("Retry-After") for _, _, h in down])
            health = get(api.base + "/healthz")
            report("node: /healthz while stopped", status=health[0], ms=ms(health[1]))
            restart = start_node()
            t = time.perf_counter()
            for _ in range(300):  # ≤ 30 s after the node is healthy again
                s, _, _ = get(api.base + "/api/search?q=%E5%A7%94%E8%A8%97&mode=keyword")
                if s == 200:
                    break
                time.sleep(0.1)
            report("node: recovery without restarting the API", node_restart_s=restart, first_200_after_s=round(time.perf_counter() - t, 1),
                   status=s)
        finally:
            api.close()
    finally:
        subprocess.run([str(NODE_SH), "stop"], env=node_env, check=False, capture_output=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("hung", "node"))
    args = parser.parse_args(argv)
    {"hung": hung, "node": node}[args.what]()
    return 0


if __name__ == "__main__":
    sys.exit(main())
