"""Run the app under a real uvicorn server in a background thread, on a free port: used by the
browser tests and by the screenshot script (no mocks, no TestClient: real HTTP)."""
from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager
from typing import Iterator

import uvicorn
from fastapi import FastAPI

from service.cli import uvicorn_options


@contextmanager
def serve_in_thread(app: FastAPI, host: str = "127.0.0.1", start_timeout: float = 30.0) -> Iterator[str]:
    """Yields the base URL (http://127.0.0.1:PORT); stops the server on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))  # port 0: the OS picks a free port, and we hold it (no race)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on",
                                           **uvicorn_options(app.state.settings)))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="uvicorn")
    thread.start()
    try:
        deadline = time.monotonic() + start_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
