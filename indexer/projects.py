"""Same-project detection: two cases belong to one project (a timeline) when their normalised
事業名 are identical after dropping what varies between sheets of one project — spaces,
punctuation, hiragana (particles: 国民年金システム「の」移行 vs 「への」移行) and a trailing 等.
The corpus's lineages (№3→12→31→32, №4→13→38→39, №10→17→30, №1/7/16/42) all share one key; an
exact key keeps the lookup a single term query at any corpus size."""
from __future__ import annotations

import re

from analyzers import normalize

_DROP = re.compile(r"[\s\u3041-\u309f\W_]+")


def project_key(name: str) -> str:
    key = _DROP.sub("", normalize(name or ""))
    key = key.rstrip("等")
    # a key this short ("事業") would join unrelated cases
    return key if len(key) >= 4 else ""
