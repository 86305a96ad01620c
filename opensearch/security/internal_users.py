"""Write the security plugin's internal_users.yml for docker compose from the passwords in .env.

    .venv/bin/python opensearch/security/internal_users.py [--env-file .env] [--out var/opensearch-security/internal_users.yml]
    (or: make opensearch-security)

Users: `admin` (OPENSEARCH_INITIAL_ADMIN_PASSWORD, all_access), `council_api` (OPENSEARCH_API_PASSWORD,
role council_search_read: the API reads the alias, nothing else), `council_indexer`
(OPENSEARCH_INDEXER_PASSWORD, role council_search_indexer), and `kibanaserver` for Dashboards when
OPENSEARCH_DASHBOARDS_PASSWORD is set. Only bcrypt hashes are written (the plugin's format); the file
lives under var/ (not committed) and is mounted by docker-compose.yml. Values from the environment
override the env file.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import bcrypt
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OUT = ROOT / "var" / "opensearch-security" / "internal_users.yml"
USERS = [  # (user, password variable, backend roles, description, required)
    ("admin", "OPENSEARCH_INITIAL_ADMIN_PASSWORD", ["admin"], "Administrator (all_access)", True),
    ("council_api", "OPENSEARCH_API_PASSWORD", [], "council-search API: read-only on the alias", True),
    ("council_indexer", "OPENSEARCH_INDEXER_PASSWORD", [], "council-search indexer", True),
    ("kibanaserver", "OPENSEARCH_DASHBOARDS_PASSWORD", [], "OpenSearch Dashboards server", False),
]


def read_env_file(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip().strip("'\"")
    return values


def internal_users(passwords: dict[str, str]) -> dict:
    doc: dict = {"_meta": {"type": "internalusers", "config_version": 2}}
    missing = [var for _u, var, _r, _d, required in USERS if required and not passwords.get(var)]
    if missing:
        raise ValueError(f"set {', '.join(missing)} (in .env or the environment)")
    for user, var, roles, description, _required in USERS:
        password = passwords.get(var)
        if not password:
            continue
        doc[user] = {"hash": bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=12)).decode("ascii"),
                     "reserved": user in ("admin", "kibanaserver"), "backend_roles": roles,
                     "description": description}
    return doc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env-file", type=Path, default=ROOT / ".env")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    passwords = {**read_env_file(args.env_file), **{k: v for k, v in os.environ.items() if k.startswith("OPENSEARCH_")}}
    try:
        doc = internal_users(passwords)
    except ValueError as exc:
        print(f"internal_users.py: {exc}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text("# written by opensearch/security/internal_users.py: bcrypt hashes only\n"
                   + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.chmod(0o644)  # read by the container's opensearch user (uid 1000); it holds hashes only
    tmp.replace(args.out)
    print(f"wrote {args.out} ({', '.join(k for k in doc if k != '_meta')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
