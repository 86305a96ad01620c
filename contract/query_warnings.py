"""Every note a search can give its user, with a stable code, an English and a Japanese text.

The query parser raises most of them (something in the query was dropped, cut or read differently);
`engine.searcher` adds the three about how the search was run (`relaxed_match`,
`semantic_unavailable`, `semantic_query_clipped`): one catalogue, so every note has both texts and the page never has to guess
a translation from an English sentence. The API returns each as `{"code", "message", "message_ja"}`
(docs/api.md); tests/test_docs.py checks that every code here is documented there.
"""
from __future__ import annotations

from dataclasses import dataclass

# code -> (English, Japanese). `{detail}` is the note's variable part (a number, words, a fragment).
WARNING_TEXTS: dict[str, tuple[str, str]] = {
    "query_truncated": ("query cut to its first {detail} characters",
                        "検索語は先頭の {detail} 文字までを使いました。"),
    "too_many_terms": ("only the first {detail} terms are used",
                       "最初の {detail} 語だけで検索しました。"),
    "term_truncated": ("a term was cut to {detail} characters",
                       "長すぎる語は先頭の {detail} 文字までを使いました。"),
    "unbalanced_quote": ("unbalanced quote ignored",
                         "対応していない引用符（\"）は無視しました。"),
    "lone_minus": ("a lone minus sign was ignored",
                   "単独のマイナス記号（-）は無視しました。"),
    "or_without_term_before": ("OR without a term before it ignored",
                               "前に語のない OR は無視しました。"),
    "or_without_term_after": ("OR without a term after it ignored",
                              "後に語のない OR は無視しました。"),
    "not_without_term_after": ("NOT without a term after it ignored",
                               "後に語のない NOT は無視しました。"),
    "or_before_excluded": ("OR before an excluded term ignored",
                           "除外語の前の OR は無視しました。"),
    "no_word_characters": ("ignored {detail}: no letters or digits",
                           "文字や数字を含まない {detail} は無視しました。"),
    "sentence_split": ("searched the sentence's words: {detail}",
                       "文章から語を取り出して検索しました: {detail}"),
    "only_excluded": ("only excluded terms: listing every case without them",
                      "除外する語（-語）だけが指定されたため、その語を含まない案件をすべて表示しています。"),
    # added by engine.searcher
    "relaxed_match": ("no case has every word: matches are by meaning only; cases with some of the words are related",
                      "すべての語を含む案件はありません。一致は意味で判定したものだけで、一部の語を含む案件は関連案件として示します。"),
    "semantic_unavailable": ("semantic search unavailable; keyword results shown",
                             "意味検索を利用できないため、キーワード検索の結果を表示しています。"),
    "semantic_query_clipped": ("semantic search used the first {detail} characters of the query",
                               "意味検索には検索語の先頭 {detail} 文字だけを使いました。"),
}


@dataclass(frozen=True)
class QueryWarning:
    """One note: its code and the variable part of its text."""

    code: str
    detail: str = ""

    def __post_init__(self) -> None:
        if self.code not in WARNING_TEXTS:
            raise KeyError(f"unknown warning code {self.code!r}")

    @property
    def message(self) -> str:
        return WARNING_TEXTS[self.code][0].format(detail=self.detail)

    @property
    def message_ja(self) -> str:
        return WARNING_TEXTS[self.code][1].format(detail=self.detail)
