"""A recording, fault-injecting HTTP proxy in front of the real OpenSearch test node.

Behaviour a real node cannot be made to show on demand (a bulk queue answering 429 for chosen
documents, a connection dropped at once, the security plugin's TLS and basic auth, which the test
node runs without) is injected here, on the wire, so the real opensearch-py client and our retry
code run unchanged. Every request is recorded, which also lets tests assert the exact request
bodies the backend sends.
"""
from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

# hook(method, path, body_bytes) -> (status, response_bytes) to answer instead of the node, or None.
Hook = Callable[[str, str, bytes], "tuple[int, bytes] | None"]


class RecordingProxy:
    def __init__(self, upstream: str, *, tls: tuple[str, str] | None = None, basic_auth: tuple[str, str] | None = None):
        """`tls=(certfile, keyfile)` serves HTTPS like the security plugin; `basic_auth=(user, password)`
        answers 401 to requests without those credentials."""
        self.upstream = upstream.rstrip("/")
        self.requests: list[tuple[str, str, bytes]] = []
        self.hooks: list[Hook] = []
        self.down = False  # True: refuse to answer at all (connection closed), like a dead node
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep pytest output clean
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if proxy.down:
                    self.close_connection = True
                    self.connection.close()
                    return
                if basic_auth is not None:
                    import base64
                    expected = "Basic " + base64.b64encode(":".join(basic_auth).encode()).decode()
                    if self.headers.get("Authorization") != expected:
                        return self._reply(401, b'{"error":{"type":"security_exception","reason":"missing or wrong credentials"},"status":401}')
                proxy.requests.append((self.command, self.path, body))
                for hook in list(proxy.hooks):
                    answer = hook(self.command, self.path, body)
                    if answer is not None:
                        return self._reply(*answer)
                headers = {"Content-Type": self.headers.get("Content-Type", "application/json")}
                if basic_auth is None and self.headers.get("Authorization"):
                    headers["Authorization"] = self.headers["Authorization"]  # a secured upstream
                req = urllib.request.Request(proxy.upstream + self.path, data=body or None, method=self.command,
                                             headers=headers)
                try:
                    with urllib.request.urlopen(req, timeout=30) as resp:
                        self._reply(resp.status, resp.read())
                except urllib.error.HTTPError as exc:
                    self._reply(exc.code, exc.read())

            def _reply(self, status: int, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        scheme = "http"
        if tls is not None:
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*tls)
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
            scheme = "https"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def bodies(self, path_part: str) -> list[Any]:
        """Decoded JSON bodies of recorded requests whose path contains `path_part`."""
        return [json.loads(b) for _m, p, b in self.requests if path_part in p and b and "_bulk" not in p]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def reject_bulk_items_once(ids: set[str], upstream: str) -> Hook:
    """The first bulk request containing any of `ids` is answered with per-item 429 for those ids
    (the rest pass through to the node in a reduced bulk), like a node whose write queue is full."""
    state = {"done": False}

    def hook(method: str, path: str, body: bytes) -> tuple[int, bytes] | None:
        if state["done"] or "_bulk" not in path:
            return None
        lines = body.decode("utf-8").splitlines()
        pairs = [(json.loads(lines[i]), lines[i + 1]) for i in range(0, len(lines) - 1, 2)]
        if not any(next(iter(a.values())).get("_id") in ids for a, _ in pairs):
            return None
        state["done"] = True
        keep = [(a, d) for a, d in pairs if next(iter(a.values())).get("_id") not in ids]
        upstream_items = []
        if keep:
            data = ("\n".join(json.dumps(a) + "\n" + d for a, d in keep) + "\n").encode("utf-8")
            req = urllib.request.Request(upstream.rstrip("/") + path, data=data, method="POST",
                                         headers={"Content-Type": "application/x-ndjson"})
            with urllib.request.urlopen(req, timeout=30) as resp:
                upstream_items = json.loads(resp.read())["items"]
        items, it = [], iter(upstream_items)
        for action, _doc in pairs:
            op, meta = next(iter(action.items()))
            if meta.get("_id") in ids:
                items.append({op: {"_index": meta.get("_index"), "_id": meta["_id"], "status": 429,
                                   "error": {"type": "es_rejected_execution_exception", "reason": "rejected by test proxy"}}})
            else:
                items.append(next(it))
        return 200, json.dumps({"took": 1, "errors": True, "items": items}).encode("utf-8")

    return hook


class HungListener:
    """A TCP port that accepts connections and never answers (a wedged node, a half-dead load
    balancer): the case where only timeouts and a circuit breaker keep the API responsive.
    `connections` counts accepted connections, so a test can tell whether a call reached it."""

    def __init__(self) -> None:
        import socket

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(256)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self.connections = 0
        self._held: list[Any] = []
        self._closed = False
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            self._held.append(conn)  # held open, never read from or answered

    def close(self) -> None:
        self._closed = True
        self._sock.close()
        for conn in self._held:
            conn.close()
