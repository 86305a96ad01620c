"""The hostile-input table (issue 14): over 150 hostile inputs across the API, the CSV export, the
results page and the case routes, each answered with a sane status (never a 5xx), the right
content type, the error shape for errors, and nothing leaked (no stack trace, no server path, no
unescaped markup). Inputs HTTP clients refuse to send go over a raw socket to a real uvicorn."""
from __future__ import annotations

import json
import re
import socket
import urllib.parse

import pytest

from service.app import create_app
from service.background import serve_in_thread

CASE = "shinjuku-privacy-council-2023-003"

# --- hostile values of q (sent through every search route)
Q_VALUES = [
    '<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', "javascript:alert(1)", "<svg/onload=alert(1)>",
    "{{7*7}}", "${7*7}", "<%= 7*7 %>", "' OR '1'='1", "1; DROP TABLE cases;--", "title:委託", "body:* OR id:*",
    "*", "?", "委託~2", "委託^10", "(委託", "委託)", "[a TO z]", "{a TO z}", "AND", "OR", "NOT", "- - -", '"', '""',
    '"委託', "委託\"\"\"", "\\", "\\\\\\", "/regex.*/", "a" * 1000, "委" * 1000, "あ " * 500, "a" * 1001,
    "\u202eevil\u202c", "\u200b\u200b\u200b", "e\u0301\u0301\u0301", "🙂" * 50, "ｶﾞﾊﾞﾒﾝﾄｸﾗｳﾄﾞ", "ＧＯＶ", "\x01\x02\x7f",
    "line1\nline2", "a\r\nSet-Cookie: x=y", "%00", "%2e%2e%2f", "../../etc/passwd", "№12", "№" * 100, "12" * 200,
    "shinjuku-privacy-council-2023-003", "-委託", "-" * 100, "OR OR OR", "委託 " * 40, "　", "\t", "😀委託😀",
]
# --- hostile values of other parameters (name, value)
PARAM_VALUES = [
    ("page", "0"), ("page", "-1"), ("page", "1001"), ("page", "1.5"), ("page", "1e3"), ("page", "0x10"), ("page", "NaN"),
    ("page", "18446744073709551617"), ("page", ""), ("size", "0"), ("size", "101"), ("size", "-5"), ("size", "abc"),
    ("size", "9" * 30), ("mode", "KEYWORD"), ("mode", "fuzzy"), ("mode", ""), ("mode", "keyword\x00"), ("sort", "rank"),
    ("sort", "<b>"), ("date_from", "2023-02-30"), ("date_from", "9999-12-31"), ("date_to", "0000-00-00"),
    ("date_from", "2023-07-28T00:00:00"), ("date_from", "1690502400"), ("date_to", "'; --"), ("date_from", "２０２３-０７-２８"),
    ("department", "<script>alert(1)</script>"), ("department", "x" * 201), ("category", ""), ("result", "承認\x00"),
    ("fiscal_year", "NaN"), ("fiscal_year", "0"), ("fiscal_year", "99999"), ("meeting_month", "2023-13"),
    ("meeting_month", "0000-01"), ("municipality", "../../"), ("unknown", "x"),
]
CASE_IDS = ["nope", "../../etc/passwd", "..%2f..%2fetc%2fpasswd", "%00", "<script>", "x" * 200, "x" * 201, "'",
            "shinjuku-privacy-council-2023-003%00", "SHINJUKU-PRIVACY-COUNCIL-2023-003", "%E5%A7%94%E8%A8%97", "%ff",
            "shinjuku-privacy-council-2023-999", "-1", ";ls", "%252e%252e"]
SEARCH_ROUTES = ["/api/search", "/api/search.csv", "/"]
CASE_ROUTES = ["/api/cases/{}", "/api/cases/{}/similar", "/cases/{}"]

LEAKS = re.compile(r"Traceback|File \"|site-packages|/work/|\.py\b|uvicorn|starlette\.|pydantic_core|tantivy\.", re.I)
RAW_MARKUP = re.compile(r"<script>alert|<img src=x onerror|<svg/onload")


def _cases() -> list[tuple[str, str]]:
    out = []
    for route in SEARCH_ROUTES:
        for q in Q_VALUES:
            mode = "keyword" if len(q) > 100 else "hybrid"   # long queries: the costly path once is enough
            out.append((route, f"{route}?" + urllib.parse.urlencode({"q": q, "mode": mode})))
        for name, value in PARAM_VALUES:
            out.append((route, f"{route}?" + urllib.parse.urlencode({name: value, "q": "委託"})))
    for route in CASE_ROUTES:
        for case_id in CASE_IDS:
            out.append((route, route.format(case_id)))
    return out


CASES = _cases()


def check(route: str, status: int, content_type: str, body: bytes, headers) -> None:
    assert status < 500, (status, body[:300])
    assert status in (200, 303, 400, 404, 405, 503), status
    text = body.decode("utf-8", "replace")
    assert not LEAKS.search(text), LEAKS.search(text).group()
    assert headers.get("x-content-type-options") == "nosniff"
    html = route == "/" or route.startswith("/cases/")
    if status == 303:
        assert headers["location"].startswith("/")
        return
    if html:
        assert content_type.startswith("text/html")
        assert not RAW_MARKUP.search(text)
    elif status == 200 and route.endswith(".csv"):
        assert content_type.startswith("text/csv")
        for line in text.splitlines()[1:]:
            assert not line.startswith(("=", "+", "-", "@"))
    else:
        assert content_type == "application/json"
        data = json.loads(text)
        if status >= 400:
            assert set(data) == {"error"} and set(data["error"]) == {"code", "message"}
            assert re.fullmatch(r"[a-z_]+", data["error"]["code"])


def test_the_table_has_over_150_inputs():
    assert len(CASES) + len(RAW) >= 150, len(CASES) + len(RAW)


@pytest.mark.parametrize("route, url", CASES, ids=[f"{i}" for i in range(len(CASES))])
def test_hostile_input(client, route, url):
    r = client.get(url, follow_redirects=False)
    path = r.request.url.path     # the client resolves dot segments: /cases/../../etc/passwd is /etc/passwd
    if not (path == "/" or path.startswith("/cases/")):
        route = "/api/" if route.startswith("/cases/") else route
    check(route, r.status_code, r.headers.get("content-type", ""), r.content, r.headers)


# --- what HTTP clients refuse to send: raw bytes over a socket to a real uvicorn
RAW = [
    (b"GET /api/search?q=\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /?q=\xe5\xa7 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /api/search?q=%ff HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /api/search?q=%c0%af HTTP/1.1\r\nHost: x\r\n\r\n", 400),           # overlong UTF-8
    (b"GET /api/search?q=%ed%a0%80 HTTP/1.1\r\nHost: x\r\n\r\n", 400),        # a surrogate in UTF-8
    (b"GET /api/search?q=a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /api/search?q=%%% HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /api/search.csv?q=%c3%28 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /cases/%ff HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /api/cases/%00 HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /api/search?q=a b HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET /api/search?q=\r\n HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX: \x00\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n\r\n", 400),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 400),                  # a TLS ClientHello on plain HTTP
    # both framings: h11 follows Transfer-Encoding (RFC 9112); a GET route never reads the body
    (b"GET /api/search?q=x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n", 200),
    (b"GET /healthz HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", 200),
    (b"GET /opensearch.xml HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", 200),
    (b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 200),
    (b"OPTIONS /api/search HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405),
    (b"DELETE /api/cases/" + CASE.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405),
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 404),
]


@pytest.fixture(scope="module")
def server(searcher):
    with serve_in_thread(create_app(searcher)) as base:
        host, port = base.removeprefix("http://").split(":")
        yield host, int(port)


def _raw(server, data: bytes) -> bytes:
    with socket.create_connection(server, timeout=30) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
            if b"\r\n\r\n" in b"".join(chunks) and data.startswith(b"HEAD"):
                break
            head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
            length = re.search(rb"content-length: (\d+)", head, re.I)
            if length and len(body) >= int(length.group(1)):
                break
        return b"".join(chunks)


@pytest.mark.parametrize("data, status", RAW, ids=[str(i) for i in range(len(RAW))])
def test_hostile_raw_request(server, data, status):
    raw = _raw(server, data)
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    got = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert got == status, raw[:300]
    assert b"evil.example" not in body
    if got < 400:   # sane answers of assorted types (page, XML, JSON): nothing leaked, headers on
        assert not LEAKS.search(body.decode("utf-8", "replace")) and headers["x-content-type-options"] == "nosniff"
        return
    # errors: a page route's own 400 is a page; everything else (and the HTTP layer's) is JSON
    page = re.match(rb"GET (/\?|/cases/)", data) and headers.get("content-type", "").startswith("text/html")
    check("/" if page else "/api/x", got, headers.get("content-type", ""), body, headers)
