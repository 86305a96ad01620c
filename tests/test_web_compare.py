"""The comparison page (/compare?a=…&b=…): word-level diff of Japanese text, escaping, errors, and
the 比較 links from a case page."""
from __future__ import annotations

import re

import pytest

from analyzers.diff import word_diff, words
from service.rendering import diff_html

CASE_3 = "shinjuku-privacy-council-2023-003"
CASE_31 = "shinjuku-privacy-council-2023-031"


def test_words_give_the_text_back():
    for text in ("", "  ", "令和３年法律第 40号  \n（委託内容の変更）", "ISO27001 及び ISMS 認証\n\n", "<b>&amp;</b>"):
        assert "".join(words(text)) == text


def test_diff_is_by_word_and_ignores_width_and_spaces():
    d = word_diff("住民記録及び印鑑登録システムを移行する。第 40号", "国民年金システムを移行する。第４０号")
    assert [(s.op, s.text) for s in d.a] == [("delete", "住民記録及び印鑑登録"), ("equal", "システムを移行する。第 40号")]
    assert [(s.op, s.text) for s in d.b] == [("insert", "国民年金"), ("equal", "システムを移行する。第４０号")]
    assert (d.deleted, d.inserted) == (5, 2)
    assert word_diff("同じ 文", "同じ文").same
    assert not word_diff("変更", "変更）").same  # punctuation shows, though it is not counted as a word
    assert word_diff("変更", "変更）").inserted == 0


def test_diff_html_escapes_and_marks():
    d = word_diff("<script>a</script>委託", "<script>a</script>再委託")
    html_b = str(diff_html(d.b))
    assert "<script>" not in html_b and "&lt;script&gt;" in html_b
    assert "<ins>再</ins>" in html_b
    assert str(diff_html(word_diff("a\nb", "a\nb").a)) == "a<br>b"


def test_compare_3_with_31(client):
    r = client.get("/compare", params={"a": CASE_3, "b": CASE_31})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "№3" in html and "№31" in html
    assert "<ins>（委託内容の変更）</ins>" in html           # the title's suffix, as an insertion
    assert re.search(r"<ins>(?:[^<]|<br>)*（２）再委託", html)          # the new 再委託 paragraph
    assert "<del>電算処理、外部結合、</del>業務委託" in html   # categories narrowed to the 委託
    assert 'href="/compare?a=shinjuku-privacy-council-2023-031&amp;b=shinjuku-privacy-council-2023-003"' in html


@pytest.mark.parametrize("params,status", [
    ({"a": "no-such-case", "b": CASE_31}, 404),
    ({"a": CASE_3}, 400),
    ({}, 400),
    ({"a": "x" * 300, "b": CASE_3}, 400),
])
def test_bad_comparisons_are_pages_with_4xx(client, params, status):
    r = client.get("/compare", params=params)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("text/html")
    assert "Traceback" not in r.text


def test_case_page_links_to_comparisons(client):
    html = client.get(f"/cases/{CASE_3}").text
    # the timeline (older case first) and every similar case
    assert f'href="/compare?a={CASE_3}&amp;b={CASE_31}"' in html
    assert html.count('class="compare-link"') >= 3 + 3
