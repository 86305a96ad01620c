"""A fixed number of MeCab taggers per process, whatever the thread pools do.

A MeCab tagger's parse() reuses internal state, so one tagger must not be used by two threads at
once. One tagger per thread (threading.local) was simple but unbounded: every thread of uvicorn's
pool, the search side pool and the indexer got its own tagger, and each tagger maps the unidic
dictionary files again and keeps its own lattice buffers (measured: 183 dictionary mappings and
RSS 484 MB -> 7.4 GB under bursts, never released). Instead each kind of tagger lives in a small
pool: a thread borrows one for the duration of one parse and returns it. Parsing a query or a
sentence takes microseconds to a few milliseconds, so a waiting thread waits very little.

    with WAKATI.borrow() as tagger:
        tagger.parse(text)
"""
from __future__ import annotations

import os
import queue
import threading
from contextlib import contextmanager
from typing import Callable, Generic, Iterator, TypeVar

import fugashi
import unidic_lite

T = TypeVar("T")

# Two cores on the project's machines; more taggers than cores cannot parse faster, only use memory.
POOL_SIZE = max(1, min(4, int(os.environ.get("COUNCIL_SEARCH_TAGGERS", 0) or (os.cpu_count() or 2))))


class TaggerPool(Generic[T]):
    """Exactly `size` taggers, created at the first parse (a process that never parses maps nothing)."""

    def __init__(self, factory: Callable[[], T], size: int = POOL_SIZE):
        self._factory = factory
        self.size = size
        self._idle: queue.LifoQueue[T] = queue.LifoQueue()
        self._created = 0
        self._lock = threading.Lock()

    @property
    def created(self) -> int:
        return self._created

    @contextmanager
    def borrow(self) -> Iterator[T]:
        tagger = self._take()
        try:
            yield tagger
        finally:
            self._idle.put(tagger)

    def _take(self) -> T:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            if self._created == 0:
                # The whole pool at the first parse: the dictionary mapping count is then constant
                # from the first request on (the soak checks it), not stepping up with load.
                first = self._factory()
                for _ in range(self.size - 1):
                    self._idle.put(self._factory())
                self._created = self.size
                return first
        return self._idle.get()   # all taggers busy: wait for one (a parse is short)


def _wakati() -> fugashi.GenericTagger:
    # GenericTagger + wakati: surfaces only, ~2x faster than building unidic feature tuples.
    return fugashi.GenericTagger(f"-r /dev/null -d {unidic_lite.DICDIR} -Owakati")


WAKATI: TaggerPool[fugashi.GenericTagger] = TaggerPool(_wakati)
# unidic features (part of speech, conjugation form): query sentences only (analyzers.sentence).
FEATURES: TaggerPool[fugashi.Tagger] = TaggerPool(fugashi.Tagger)


def dictionary_mappings() -> int:
    """How many times this process has the unidic dictionary files mapped (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            return sum(1 for line in maps if unidic_lite.DICDIR in line)
    except OSError:
        return 0
