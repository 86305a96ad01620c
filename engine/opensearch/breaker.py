"""A circuit breaker for the API's calls to OpenSearch.

A cluster that accepts connections and never answers would otherwise hold every request (and an API
worker thread) for the full read timeout. After `failures` consecutive timeouts or connection
failures the breaker opens: every call fails at once with BackendUnavailable (503, Retry-After = the
time left) for `cooldown` seconds. Then one call is let through as a trial; its success closes the
breaker, its failure opens it for another cool-down. Answers of the cluster, errors included (a 400,
a missing index), count as "it is there" and close it.
"""
from __future__ import annotations

import math
import threading
import time
from typing import Callable

from contract.backend import BackendUnavailable


class CircuitBreaker:
    def __init__(self, failures: int = 3, cooldown: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.failures = failures
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._consecutive = 0
        self._open_until: float | None = None   # set while open
        self._trial = False                     # a trial call is in flight (half-open)
        self.last_error = ""

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._open_until is not None

    def before_call(self) -> None:
        """Raise at once while open; let one trial call through once the cool-down is over."""
        with self._lock:
            if self._open_until is None:
                return
            left = self._open_until - self._clock()
            if left <= 0 and not self._trial:
                self._trial = True
                return
            raise BackendUnavailable(
                f"{self.last_error}; not retried for {max(1, math.ceil(left))} s (circuit breaker open)",
                retry_after=max(1.0, left))

    def succeeded(self) -> None:
        with self._lock:
            self._consecutive, self._open_until, self._trial = 0, None, False

    def failed(self, error: str) -> float | None:
        """Record a timeout/connection failure; returns the cool-down if this opened the breaker."""
        with self._lock:
            self.last_error = error
            self._consecutive += 1
            if self._trial or self._consecutive >= self.failures:
                self._trial = False
                self._open_until = self._clock() + self.cooldown
                return self.cooldown
            return None
