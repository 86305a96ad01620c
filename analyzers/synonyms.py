"""Query-time synonym expansion from a Solr-style data file (format: see data/synonyms.txt).

Synonyms are expanded only on the query side (into `Term.variants`), never at index time: index-time
expansion with a decompounding analyser produces overlapping tokens that break phrase matching, and
query-time expansion lets operators edit the file without re-indexing. The operator's extra file is
`Settings.synonyms_file` (COUNCIL_SEARCH_SYNONYMS_FILE), handed in by the searcher's owner.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from analyzers.normalize import normalize

log = logging.getLogger(__name__)

MAX_VARIANTS = 8            # per term, including the user's own word
MIN_SUBSTRING_KEY = 3       # keys this long also rewrite a longer term containing them


class SynonymFileError(ValueError):
    """A synonym file that cannot be read or has a malformed line (message names file and line)."""


@dataclass
class SynonymMap:
    """normalised word -> normalised alternatives (never including the word itself)."""

    entries: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def add(self, sources: list[str], targets: list[str]) -> None:
        for s in sources:
            current = list(self.entries.get(s, ()))
            for t in targets:
                if t != s and t not in current:
                    current.append(t)
            if current:
                self.entries[s] = tuple(current)

    def expand(self, norm: str) -> tuple[str, ...]:
        """Alternatives for one normalised term: its own entry, or else rewrites of the entries of 3+
        characters it contains (個人番号カード -> マイナンバーカード)."""
        out: list[str] = list(self.entries.get(norm, ()))
        if not out:   # an entry for the whole term wins over rewriting its parts
            for key in self._substring_keys():
                if key != norm and key in norm:
                    for alt in self.entries[key]:
                        cand = norm.replace(key, alt)
                        if cand != norm and cand not in out:
                            out.append(cand)
        return tuple(out[: MAX_VARIANTS - 1])

    def _substring_keys(self) -> list[str]:
        keys = getattr(self, "_subkeys", None)
        if keys is None or getattr(self, "_subkeys_n", -1) != len(self.entries):
            keys = sorted((k for k in self.entries if len(k) >= MIN_SUBSTRING_KEY), key=len, reverse=True)
            self._subkeys, self._subkeys_n = keys, len(self.entries)
        return keys

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, word: str) -> bool:
        return normalize(word) in self.entries

    def merge(self, other: "SynonymMap") -> "SynonymMap":
        merged = SynonymMap(dict(self.entries))
        for k, v in other.entries.items():
            merged.add([k], list(v))
        return merged


def parse_synonyms(text: str, source: str = "<synonyms>") -> SynonymMap:
    smap = SynonymMap()
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.count("=>") > 1:
            raise SynonymFileError(f"{source}:{lineno}: more than one '=>'")
        lhs, arrow, rhs = line.partition("=>")
        left = _words(lhs)
        right = _words(rhs) if arrow else []
        if not left or (arrow and not right):
            raise SynonymFileError(f"{source}:{lineno}: expected 'a, b' or 'a, b => c'")
        if arrow:
            smap.add(left, right)
        else:
            for w in left:
                smap.add([w], [o for o in left if o != w])
    return smap


def _words(part: str) -> list[str]:
    out: list[str] = []
    for w in part.split(","):
        n = normalize(w)
        if n and n not in out:
            out.append(n)
    return out


def load_synonyms(path: str | os.PathLike[str] | None = None,
                  extra: str | os.PathLike[str] | None = None) -> SynonymMap:
    """The packaged synonym file, or `path`; merged with `extra` (the operator's file) if given."""
    smap = _packaged() if path is None else _read(Path(path))
    if extra:
        smap = smap.merge(_read(Path(extra)))
    return smap


def synonym_file_texts(extra: str | os.PathLike[str] | None = None) -> list[str]:
    """The text of every synonym file load_synonyms() reads (packaged, then `extra`), for readers
    that want the words as written (search-box suggestions) rather than normalised."""
    texts = [resources.files("analyzers").joinpath("data/synonyms.txt").read_text(encoding="utf-8")]
    if extra:
        try:
            texts.append(Path(extra).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise SynonymFileError(f"{extra}: cannot read synonym file: {exc}") from exc
    return texts


def _read(path: Path) -> SynonymMap:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SynonymFileError(f"{path}: cannot read synonym file: {exc}") from exc
    return parse_synonyms(text, str(path))


def default_synonyms(extra: str | os.PathLike[str] | None = None) -> SynonymMap:
    """The packaged map merged with `extra`, cached; re-read when the extra file (name or mtime)
    changes, so an edit takes effect without a restart."""
    extra = str(extra or "")
    try:
        mtime = os.stat(extra).st_mtime_ns if extra else 0
    except OSError:
        mtime = -1
    return _cached_default(extra, mtime)


@lru_cache(maxsize=4)
def _cached_default(extra: str, mtime: int) -> SynonymMap:
    try:
        return load_synonyms(extra=extra or None)
    except SynonymFileError as exc:
        # The operator's extra file is broken: keep serving with the packaged list (logged once per
        # file version, not once per query).
        log.error("%s; using the packaged synonyms only", exc)
        return _packaged()


def _packaged() -> SynonymMap:
    return parse_synonyms(
        resources.files("analyzers").joinpath("data/synonyms.txt").read_text(encoding="utf-8"),
        "analyzers/data/synonyms.txt",
    )
