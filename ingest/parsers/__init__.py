"""Source parsers, looked up by the manifest's `format` name (one parser per report layout)."""
from __future__ import annotations

from ingest.parsers.base import ParseError, ParseResult, ReportParser
from ingest.parsers.shinjuku_case_list import parse_shinjuku_case_list

PARSERS: dict[str, ReportParser] = {
    "shinjuku-case-list-pdf-text": parse_shinjuku_case_list,
}


def get_parser(format_name: str) -> ReportParser:
    try:
        return PARSERS[format_name]
    except KeyError:
        known = ", ".join(sorted(PARSERS))
        raise ParseError(f"unknown report format {format_name!r} (known: {known})") from None


__all__ = ["PARSERS", "ParseError", "ParseResult", "ReportParser", "get_parser"]
