"""The seams between packages (docs/architecture.md): the import direction (import-linter, configured
in pyproject.toml) and the protocols: every engine implements the whole backend and writer protocols,
with the protocols' signatures, so the searcher and the indexer need no fallbacks."""
from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

from contract.backend import SearchBackend
from contract.writer import IndexWriter
from engine.embedded.backend import EmbeddedBackend
from engine.embedded.writer import EmbeddedWriter
from engine.opensearch.backend import OpenSearchBackend
from engine.opensearch.writer import OpenSearchWriter

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def protocol_methods(protocol: type) -> dict[str, inspect.Signature]:
    return {name: inspect.signature(member) for name, member in vars(protocol).items()
            if callable(member) and not name.startswith("_")}


def parameters(sig: inspect.Signature) -> list[tuple[str, object]]:
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


@pytest.mark.parametrize(("protocol", "implementation"), [
    (SearchBackend, EmbeddedBackend), (SearchBackend, OpenSearchBackend),
    (IndexWriter, EmbeddedWriter), (IndexWriter, OpenSearchWriter),
], ids=lambda c: c.__name__)
def test_each_engine_implements_every_protocol_method(protocol, implementation):
    methods = protocol_methods(protocol)
    assert {"keyword", "match_ids", "same_project", "close"} <= set(methods) or protocol is IndexWriter
    for name, expected in methods.items():
        actual = getattr(implementation, name, None)
        assert callable(actual), f"{implementation.__name__} lacks {protocol.__name__}.{name}"
        assert parameters(inspect.signature(actual)) == parameters(expected), \
            f"{implementation.__name__}.{name}{inspect.signature(actual)} != {protocol.__name__}.{name}{expected}"
    assert isinstance(getattr(implementation, "name", None), str)


def lint(config: Path) -> int:
    return lint_imports(config_filename=str(config), no_cache=True, no_logo=True)


def test_the_layers_contract_holds(capsys):
    """pyproject.toml [tool.importlinter]: no package imports a layer above it (docs/architecture.md)."""
    status = lint(PROJECT_ROOT / "pyproject.toml")
    assert status == 0, capsys.readouterr().out


def test_an_upward_import_breaks_the_contract(tmp_path, capsys):
    # the check is live: declaring the engine *below* the contract package fails, since engines import it
    config = tmp_path / ".importlinter"
    config.write_text(textwrap.dedent("""\
        [importlinter]
        root_packages =
            contract
            engine
        [importlinter:contract:upward]
        name = engine below contract
        type = layers
        layers =
            contract
            engine
        """), encoding="utf-8")
    assert lint(config) != 0
    assert "BROKEN" in capsys.readouterr().out


# the installed packages and the developer tools (bench/ scripts import per measured step on purpose)
DEFERRED_CHECKED = ("contract", "council_search", "ingest", "analyzers", "embeddings", "engine", "indexer",
                    "service", "evaluation", "tools")


def deferred_imports_without_reason() -> list[str]:
    """Imports inside functions without a `# deferred: <reason>` comment on the line or on a comment
    line just above its block of imports (TYPE_CHECKING blocks are not imports at run time)."""
    missing = []
    for top in DEFERRED_CHECKED:
        for path in sorted((PROJECT_ROOT / top).rglob("*.py")):
            lines = path.read_text(encoding="utf-8").splitlines()
            for node in ast.walk(ast.parse("\n".join(lines))):
                if not isinstance(node, (ast.Import, ast.ImportFrom)) or node.col_offset == 0:
                    continue
                i = node.lineno - 1
                if "# deferred:" in lines[i]:
                    continue
                j = i - 1
                while j >= 0 and lines[j].strip().startswith(("from ", "import ")):
                    j -= 1
                above = lines[j].strip() if j >= 0 else ""
                if above.startswith("# deferred:") or "TYPE_CHECKING" in above:
                    continue
                missing.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}: {lines[i].strip()}")
    return missing


def test_every_deferred_import_says_why():
    # an import inside a function hides a dependency (and once hid an import cycle): only where
    # start-up time or an optional dependency needs it, with the reason beside it
    assert deferred_imports_without_reason() == []
