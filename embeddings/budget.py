"""Bounded cost per query embedding: a token budget, and a gate on how many wait.

Measured on 9635f0c: the whole query (up to 1,000 characters) was embedded; a 1,000-character
semantic query cost 5.2 s of CPU, and 8 connections sending varied long queries brought the
service to 0.4 requests/s and made another client's ordinary hybrid query take 10.8 s.

- Budget: the query side embeds at most QUERY_TOKEN_BUDGET model tokens (the query's first words;
  a search query's meaning is in its first words, and e5 models were trained on short queries).
  The keyword side still sees the whole query.
- Gate (council_search/gate.py): an embedder runs one query at a time; at most 16 more queue behind
  it, each for at most 2 s. Beyond that the request is refused at once with Busy (HTTP 503 +
  Retry-After) instead of joining an unbounded queue that would make every semantic and hybrid
  request slow.
"""
from __future__ import annotations

from typing import Callable

from council_search.gate import Gate

QUERY_TOKEN_BUDGET = 64
# Embedders without a tokenizer we can ask: characters (Japanese runs ~1 token per 1-2 characters).
QUERY_CHAR_BUDGET = 2 * QUERY_TOKEN_BUDGET


def clip_to_budget(text: str, token_count: Callable[[str], int] | None = None,
                   budget: int = QUERY_TOKEN_BUDGET) -> str:
    """The longest prefix of `text` that fits `budget` tokens (or QUERY_CHAR_BUDGET characters
    without a token counter). Cut at a space when there is one near the end, so a word is not
    embedded half."""
    if token_count is None:
        clipped = text[:QUERY_CHAR_BUDGET]
    else:
        if token_count(text) <= budget:
            return text
        lo, hi = 0, min(len(text), budget * 4)   # a token is at least a character's worth of text
        while lo < hi:                            # longest prefix within budget (token counts grow with length)
            mid = (lo + hi + 1) // 2
            if token_count(text[:mid]) <= budget:
                lo = mid
            else:
                hi = mid - 1
        clipped = text[:lo]
    if clipped == text:
        return text
    space = clipped.rfind(" ")
    if space > len(clipped) // 2:
        clipped = clipped[:space]
    return clipped.rstrip()


def query_gate() -> Gate:
    """Each embedder's gate for query embeddings: one runs (the C engine has one set of buffers),
    up to 16 wait, each at most 2 s; beyond that Busy (HTTP 503 + Retry-After)."""
    return Gate("semantic search", max_running=1, max_waiting=16, max_wait=2.0)
