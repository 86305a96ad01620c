"""Rows of a raw float32 matrix file, read on demand by positioned reads instead of a memory map.

A search at scale touches a few thousand scattered rows of the vector files (the candidates' case
vectors, their passages). Through a memory map every touched row faults in its neighbourhood too
(the kernel maps ~64 KiB of cached pages around each fault) and the pages stay mapped into the
process: at 1M cases after the query benchmark 6.2 GB of the 8.3 GB peak RSS were pages of
passages.f32 and case.f32 (docs/benchmarks.md). `os.preadv` into an array copies just the rows
asked for from the page cache, and nothing stays mapped. Reads are thread-safe (no shared file
position). Indexing follows numpy's for what the engine uses: an int (one row), a slice, an integer
array (rows in that order); `spans` reads runs of rows, adjacent runs in one call.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np


class RowFile:
    def __init__(self, path: Path, rows: int, dim: int):
        self._fh = open(path, "rb", buffering=0)
        self._fd = self._fh.fileno()
        self.shape = (int(rows), int(dim))
        self.dtype = np.dtype(np.float32)
        self._row_bytes = int(dim) * 4
        size = os.fstat(self._fd).st_size
        if size < self.shape[0] * self._row_bytes:
            raise ValueError(f"{path}: {size} bytes, {rows} rows of {dim} float32 need {rows * self._row_bytes}")

    def __len__(self) -> int:
        return self.shape[0]

    def close(self) -> None:
        self._fh.close()

    def _read_into(self, view: memoryview, offset: int) -> None:
        while len(view):
            got = os.preadv(self._fd, [view], offset)
            if got <= 0:
                raise OSError(f"short read at byte {offset} of {self._fh.name}")
            view, offset = view[got:], offset + got

    def spans(self, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Rows [starts[i], starts[i] + lengths[i]) for each i, concatenated in the order given."""
        starts = np.asarray(starts, dtype=np.int64).ravel()
        lengths = np.asarray(lengths, dtype=np.int64).ravel()
        out = np.empty((int(lengths.sum()), self.shape[1]), dtype=np.float32)
        if not len(out):
            return out
        if (starts < 0).any() or (starts + lengths > self.shape[0]).any():
            raise IndexError("row out of range")
        ends = starts + lengths
        # a span that starts where the previous one ended continues one read
        cut = np.flatnonzero(starts[1:] != ends[:-1]) + 1
        run_starts = starts[np.concatenate(([0], cut))].tolist()
        run_ends = ends[np.concatenate((cut - 1, [len(starts) - 1]))].tolist()
        view = memoryview(out).cast("B")
        rb, fd, preadv = self._row_bytes, self._fd, os.preadv
        pos = 0
        # one system call per run (~0.5 µs each from the page cache): the loop is kept bare
        for a, b in zip(run_starts, run_ends):
            n = (b - a) * rb
            got = preadv(fd, [view[pos:pos + n]], a * rb)
            if got != n:
                self._read_into(view[pos + got:pos + n], a * rb + got)
            pos += n
        return out

    def take(self, rows) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64).ravel()
        rows = np.where(rows < 0, rows + self.shape[0], rows)
        return self.spans(rows, np.ones(len(rows), dtype=np.int64))

    def __getitem__(self, key):
        if isinstance(key, (int, np.integer)):
            i = int(key) + (self.shape[0] if key < 0 else 0)
            if not 0 <= i < self.shape[0]:
                raise IndexError(f"row {key} out of range")
            return self.spans(np.array([i]), np.array([1]))[0]
        if isinstance(key, slice):
            start, stop, step = key.indices(self.shape[0])
            if step == 1:
                return self.spans(np.array([start]), np.array([max(0, stop - start)]))
            return self.take(np.arange(start, stop, step))
        key = np.asarray(key)
        if key.dtype == bool:
            key = np.flatnonzero(key)
        return self.take(key)

    def __array__(self, dtype=None, copy=None):
        out = self[:]
        return out if dtype is None else out.astype(dtype, copy=False)
