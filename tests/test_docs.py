"""The docs say what the code does (as datasette's tests/test_docs.py does for its settings and views):
every setting and environment variable is in the README's configuration table, every error code and
warning code is in docs/api.md, every warning has a Japanese text, and every row of the query-language
table in docs/analysis.md parses as it claims."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from analyzers import parse_query
from contract.query import ParsedQuery
from contract.query_warnings import WARNING_TEXTS
from council_search.settings import Settings
from engine.api_params import PARAM_ERRORS
from engine.opensearch.settings import OpenSearchSettings
from service import errors

from conftest import PROJECT_ROOT

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
API_DOC = (PROJECT_ROOT / "docs" / "api.md").read_text(encoding="utf-8")
ANALYSIS_DOC = (PROJECT_ROOT / "docs" / "analysis.md").read_text(encoding="utf-8")
OPENSEARCH_DOC = (PROJECT_ROOT / "docs" / "opensearch.md").read_text(encoding="utf-8")
CODE_DIRS = ("analyzers", "contract", "council_search", "embeddings", "engine", "evaluation", "indexer", "ingest", "service")
_CELL_SPLIT = re.compile(r"(?<!\\)\|")
_CODE_SPAN = re.compile(r"`([^`]+)`")


def source_files() -> list[Path]:
    return sorted(p for d in CODE_DIRS for p in (PROJECT_ROOT / d).rglob("*.py"))


def table_rows(markdown: str, header: str) -> list[list[str]]:
    """Cells of the Markdown table whose header row starts with `header` (`\\|` is a literal bar)."""
    lines = markdown.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header))
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip().replace("\\|", "|") for c in _CELL_SPLIT.split(line.strip())[1:-1]])
    return rows


def first_column_names(markdown: str, header: str) -> set[str]:
    return {span for row in table_rows(markdown, header) for span in _CODE_SPAN.findall(row[0])}


# ------------------------------------------------------------------ configuration

def test_every_setting_is_in_the_readme_configuration_table():
    documented = first_column_names(README, "| variable | default | meaning |")
    prefix = Settings.model_config["env_prefix"]
    missing = [prefix + name.upper() for name in Settings.model_fields if prefix + name.upper() not in documented]
    assert not missing, f"add these to README.md's configuration table: {missing}"


def test_every_environment_variable_the_code_reads_is_documented():
    documented = first_column_names(README, "| variable | default | meaning |")
    named = {m for p in source_files() for m in re.findall(r"\bCOUNCIL_SEARCH_[A-Z_]+[A-Z]\b", p.read_text("utf-8"))}
    assert named and not named - documented, f"undocumented: {sorted(named - documented)}"


def test_every_opensearch_setting_is_in_docs_opensearch():
    documented = {name for span in first_column_names(OPENSEARCH_DOC, "| variable |")
                  for name in re.split(r"\s*/\s*", span)}
    prefix = OpenSearchSettings.model_config["env_prefix"]
    missing = [prefix + n.upper() for n in OpenSearchSettings.model_fields if prefix + n.upper() not in documented]
    assert not missing, f"add these to docs/opensearch.md: {missing}"


# ------------------------------------------------------------------ error codes

_ERROR_CLASSES = {"ParamError", "AuthError", "WritesDisabled", "_param"}


def error_codes_in_code() -> set[str]:
    """Every literal error code: first argument of ParamError and its subclasses, `code=` of
    NotFoundError, the code argument of service.errors.error_response, and `{"code": "…"}` bodies."""
    codes: set[str] = set(PARAM_ERRORS) | set(errors._HTTP_CODES.values()) | {"http_error", "not_found"}
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                args = node.args
                if name in _ERROR_CLASSES and args and isinstance(args[0], ast.Constant):
                    codes.add(args[0].value)
                if name == "error_response" and len(args) > 2 and isinstance(args[2], ast.Constant):
                    codes.add(args[2].value)
                codes.update(k.value.value for k in node.keywords
                             if k.arg == "code" and isinstance(k.value, ast.Constant))
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values):
                    if isinstance(key, ast.Constant) and key.value == "code" and isinstance(value, ast.Constant):
                        codes.add(value.value)
    return {c for c in codes if isinstance(c, str)}


def test_every_error_code_is_in_docs_api():
    codes = error_codes_in_code()
    assert {"invalid_mode", "size_too_large", "backend_unavailable", "internal_error", "writes_disabled"} <= codes
    paragraph = API_DOC[API_DOC.index("\nCodes:"):].split("\n\n")[0]
    listed = set(_CODE_SPAN.findall(paragraph))
    assert not codes - listed, f"add to the 'Codes:' list in docs/api.md: {sorted(codes - listed)}"


# ------------------------------------------------------------------ warnings

def warning_codes_in_code() -> set[str]:
    codes = set()
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "QueryWarning"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                codes.add(node.args[0].value)
    return codes


def test_every_warning_has_a_code_a_japanese_text_and_a_row_in_docs_api():
    raised = warning_codes_in_code()
    assert raised and raised <= set(WARNING_TEXTS), f"no text for {sorted(raised - set(WARNING_TEXTS))}"
    assert set(WARNING_TEXTS) <= raised, f"never raised (dead text): {sorted(set(WARNING_TEXTS) - raised)}"
    for code, (english, japanese) in WARNING_TEXTS.items():
        assert re.fullmatch(r"[a-z_]+", code) and english.isascii()
        assert re.search(r"[ぁ-んァ-ン一-龥]", japanese), f"{code}: the Japanese text is not Japanese"
    documented = first_column_names(API_DOC, "| code | when |")
    assert not set(WARNING_TEXTS) - documented, f"add to docs/api.md: {sorted(set(WARNING_TEXTS) - documented)}"


# ------------------------------------------------------------------ the query language table

def describe(parsed: ParsedQuery) -> str:
    """ParsedQuery in the notation of docs/analysis.md §3."""
    def term(t) -> str:
        return f'"{t.text}"' if t.phrase else t.text
    out = ["[" + " / ".join(term(t) for t in g.terms) + "]" for g in parsed.groups]
    out += [f"-[{term(t)}]" for t in parsed.excluded]
    if parsed.case_number is not None:
        out.append(f"case_number={parsed.case_number}")
    if parsed.case_id:
        out.append(f"case_id={parsed.case_id}")
    out += [f"!{w.code}" for w in parsed.warnings]
    return " ".join(out)


QUERY_ROWS = [(example, row[2].strip("`")) for row in table_rows(ANALYSIS_DOC, "| you type | means | parses as |")
              for example in _CODE_SPAN.findall(row[0])]


def test_the_query_table_is_there():
    assert len(QUERY_ROWS) >= 20


@pytest.mark.parametrize("typed, claimed", QUERY_ROWS, ids=[t for t, _ in QUERY_ROWS])
def test_every_query_table_row_parses_as_it_claims(typed, claimed):
    assert describe(parse_query(typed)) == claimed
