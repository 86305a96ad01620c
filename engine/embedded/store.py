"""Per-case columns and stored records of one build, by case ordinal."""
from __future__ import annotations

import datetime as dt
import json
import mmap
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

_EPOCH = dt.date(1970, 1, 1)
# Decoded records kept (most recently fetched): decoding one is ~20 us of JSON per hit per request
# (a third of a keyword query's fetch-and-highlight at 51 cases), and the cases people open and
# find repeat. ~10 KB each: ~20 MB at most.
RECORD_CACHE_SIZE = 2048


class CaseStore:
    def __init__(self, build_dir: Path):
        cases = json.loads((build_dir / "cases.json").read_text(encoding="utf-8"))
        self.ids: list[str] = cases["ids"]
        self.numbers = np.asarray(cases["numbers"], dtype=np.int64)
        self.project_keys: list[str] = cases["project_keys"]
        self.days = np.asarray([(dt.date.fromisoformat(d) - _EPOCH).days for d in cases["meeting_dates"]], dtype=np.int32)
        self.ord_of: dict[str, int] = {case_id: i for i, case_id in enumerate(self.ids)}
        self.by_project: dict[str, list[int]] = {}
        for i, key in enumerate(self.project_keys):
            if key:
                self.by_project.setdefault(key, []).append(i)
        facets = json.loads((build_dir / "facets.json").read_text(encoding="utf-8"))
        self.facet_postings: dict[str, dict[str, np.ndarray]] = {
            name: {value: np.asarray(ords, dtype=np.int64) for value, ords in values.items()}
            for name, values in facets.items()
        }
        self._offsets = np.load(build_dir / "records.offsets.npy")
        self._fh = open(build_dir / "records.jsonl", "rb")
        size = int(self._offsets[-1])
        self._mm = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
        self._decoded: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self._decoded_lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.ids)

    def record(self, ordinal: int, *, cache: bool = True) -> dict[str, Any]:
        """The stored record (a new dict each call: callers may change it; the values are shared
        with the cache and are not to be changed in place). `cache=False` for whole-index passes,
        which would only push the recently fetched cases out."""
        with self._decoded_lock:
            record = self._decoded.get(ordinal)
            if record is not None:
                self._decoded.move_to_end(ordinal)
                return dict(record)
        start, end = int(self._offsets[ordinal]), int(self._offsets[ordinal + 1])
        record = json.loads(self._mm[start:end])
        if cache:
            with self._decoded_lock:
                self._decoded[ordinal] = record
                while len(self._decoded) > RECORD_CACHE_SIZE:
                    self._decoded.popitem(last=False)
            return dict(record)
        return record

    def mask(self, selected: dict[str, tuple[str, ...]], date_from: dt.date | None, date_to: dt.date | None,
             exclude: tuple[int, ...] = ()) -> np.ndarray | None:
        """Boolean mask of cases passing the filters (OR within a facet, AND across); None = all."""
        n = len(self.ids)
        mask: np.ndarray | None = None
        for name, values in selected.items():
            if not values:
                continue
            allowed = np.zeros(n, dtype=bool)
            postings = self.facet_postings.get(name, {})
            for value in values:
                ords = postings.get(value)
                if ords is not None:
                    allowed[ords] = True
            mask = allowed if mask is None else (mask & allowed)
        if date_from is not None or date_to is not None:
            lo = (date_from - _EPOCH).days if date_from else np.iinfo(np.int32).min
            hi = (date_to - _EPOCH).days if date_to else np.iinfo(np.int32).max
            in_range = (self.days >= lo) & (self.days <= hi)
            mask = in_range if mask is None else (mask & in_range)
        if exclude:
            if mask is None:
                mask = np.ones(n, dtype=bool)
            else:
                mask = mask.copy()
            mask[list(exclude)] = False
        return mask

    def close(self) -> None:
        if isinstance(self._mm, mmap.mmap):
            self._mm.close()
        self._fh.close()
