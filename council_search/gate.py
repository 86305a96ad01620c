"""Admission control: a bounded number of running calls, a short bounded queue, refusal beyond it.

Used where one request can cost far more than another (embedding a query, analysing and matching a
very long query): an unbounded queue there makes every request slow once a few expensive ones
arrive (measured on 9635f0c: 8 connections of 1,000-character queries took the service to 0.4
requests/s and another client's ordinary hybrid query to 10.8 s). With a gate, the expensive work
runs `max_running` at a time, at most `max_waiting` more wait for at most `max_wait` seconds, and
the rest are refused at once with `Busy` (HTTP 503 + Retry-After), so the cost of what is admitted
stays bounded and cheap requests keep their latency.
"""
from __future__ import annotations

import threading


class Busy(RuntimeError):
    """Refused by a full gate: try again shortly (`retry_after` seconds)."""

    retry_after = 1

    def __init__(self, what: str, delay: float = 0.0):
        super().__init__(f"{what} is busy")
        self.what = what
        self.delay = delay   # seconds the refusal is held before it is sent (see Gate.refusal_delay)


class Gate:
    def __init__(self, what: str, max_running: int = 1, max_waiting: int = 16, max_wait: float = 2.0,
                 refusal_delay: float = 0.0):
        self.what = what
        # An immediate refusal is cheap, so a client that ignores Retry-After and asks again at once
        # (8 abusive connections: ~170 refusals/s) spends the server's CPU on refusals and the GIL
        # that ordinary requests need. Holding an immediate refusal this long (on the event loop, no
        # thread) paces such a client; a request refused after waiting in the queue has waited already.
        self.refusal_delay = refusal_delay
        self.max_running = max_running
        self.max_waiting = max_waiting
        self.max_wait = max_wait
        self._slots = threading.BoundedSemaphore(max_running)
        self._count_lock = threading.Lock()
        self._waiting = 0

    def __enter__(self) -> "Gate":
        if self._slots.acquire(blocking=False):
            return self
        with self._count_lock:
            if self._waiting >= self.max_waiting:
                raise Busy(self.what, self.refusal_delay)
            self._waiting += 1
        try:
            acquired = self._slots.acquire(timeout=self.max_wait)
        finally:
            with self._count_lock:
                self._waiting -= 1
        if not acquired:
            raise Busy(self.what)
        return self

    def __exit__(self, *exc: object) -> None:
        self._slots.release()

    @property
    def waiting(self) -> int:
        return self._waiting
