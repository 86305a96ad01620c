"""What an index build records about its data, in `BuildInfo.extra["provenance"]`: the source reports
its cases came from (title, publisher, report date, file, sha256, ingest time, how many cases) and the
newest `first_seen` (when the data last gained a case). Written by the indexer while it streams the
records, read back by each backend's `info()`, shown by `/healthz`."""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

KEY = "provenance"


class ProvenanceTally:
    """Accumulates over the stored records (CaseRecord.model_dump(mode="json") dicts) of one build."""

    def __init__(self) -> None:
        self._sources: dict[str, dict[str, Any]] = {}
        self._newest: str | None = None

    def add(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            source = record.get("source") or {}
            key = str(source.get("file", ""))
            entry = self._sources.get(key)
            if entry is None:
                entry = self._sources[key] = {
                    "file": key, "report_title": source.get("report_title", ""), "publisher": source.get("publisher", ""),
                    "report_date": record.get("report_date"), "sha256": source.get("sha256", ""),
                    "ingested_at": source.get("ingested_at"), "records": 0,
                }
            entry["records"] += 1
            seen = record.get("first_seen")
            # ISO 8601 UTC strings of one format (ingest writes them): string order is time order.
            if isinstance(seen, str) and (self._newest is None or seen > self._newest):
                self._newest = seen

    def to_json(self) -> dict[str, Any]:
        return {"sources": [self._sources[k] for k in sorted(self._sources)], "data_updated": self._newest}


def read(extra: dict[str, Any] | None) -> dict[str, Any]:
    """{"sources": [...], "data_updated": datetime | None} from a stored BuildInfo.extra (an index
    built before provenance was recorded gives no sources and None)."""
    data = (extra or {}).get(KEY) or {}
    newest = data.get("data_updated")
    try:
        data_updated = dt.datetime.fromisoformat(newest) if isinstance(newest, str) else None
    except ValueError:
        data_updated = None
    return {"sources": list(data.get("sources") or []), "data_updated": data_updated}
