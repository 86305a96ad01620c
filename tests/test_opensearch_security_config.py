"""The security plugin's configuration for docker compose (opensearch/security/), checked by schema.

The OpenSearch node in the tests and CI runs without the security plugin (opensearch/dev-node), so it
cannot load these files; no docker engine runs here either. What is checked: each file has the
shape the plugin's config_version 2 format gives it (JSON Schemas below, written from the plugin's
documented format: _meta type/config_version, role = cluster_permissions + index_permissions with
index_patterns/allowed_actions, mapping = users/backend_roles, user = bcrypt hash), every mapped role
exists, the API's role cannot write, and the users file written from .env holds bcrypt hashes that
match the passwords.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bcrypt
import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SECURITY = ROOT / "opensearch" / "security"
ALIAS = "council-cases"


def _meta(type_: str) -> dict:
    return {"type": "object", "required": ["type", "config_version"], "additionalProperties": False,
            "properties": {"type": {"const": type_}, "config_version": {"const": 2}}}


STRINGS = {"type": "array", "items": {"type": "string", "minLength": 1}}
ROLES = {
    "type": "object", "required": ["_meta"], "properties": {"_meta": _meta("roles")},
    "additionalProperties": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "reserved": {"type": "boolean"}, "hidden": {"type": "boolean"}, "static": {"type": "boolean"},
            "description": {"type": "string"},
            "cluster_permissions": STRINGS,
            "index_permissions": {"type": "array", "items": {
                "type": "object", "required": ["index_patterns", "allowed_actions"], "additionalProperties": False,
                "properties": {"index_patterns": STRINGS, "allowed_actions": STRINGS, "fls": STRINGS,
                               "masked_fields": STRINGS, "dls": {"type": "string"}}}},
            "tenant_permissions": {"type": "array"},
        }},
}
ROLES_MAPPING = {
    "type": "object", "required": ["_meta"], "properties": {"_meta": _meta("rolesmapping")},
    "additionalProperties": {
        "type": "object", "additionalProperties": False, "anyOf": [{"required": ["users"]}, {"required": ["backend_roles"]}],
        "properties": {"reserved": {"type": "boolean"}, "hidden": {"type": "boolean"}, "description": {"type": "string"},
                       "users": STRINGS, "backend_roles": STRINGS, "hosts": STRINGS, "and_backend_roles": STRINGS}},
}
INTERNAL_USERS = {
    "type": "object", "required": ["_meta"], "properties": {"_meta": _meta("internalusers")},
    "additionalProperties": {
        "type": "object", "required": ["hash"], "additionalProperties": False,
        "properties": {"hash": {"type": "string", "pattern": r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$"},
                       "reserved": {"type": "boolean"}, "hidden": {"type": "boolean"}, "description": {"type": "string"},
                       "backend_roles": STRINGS, "attributes": {"type": "object"}, "opendistro_security_roles": STRINGS}},
}
# roles the image itself defines (static), which a mapping may name without roles.yml defining them
BUILT_IN_ROLES = {"all_access", "kibana_server", "readall", "own_index", "manage_snapshots", "kibana_user"}
PASSWORDS = {"OPENSEARCH_INITIAL_ADMIN_PASSWORD": "Admin-Passw0rd!", "OPENSEARCH_API_PASSWORD": "Api-Passw0rd!",
             "OPENSEARCH_INDEXER_PASSWORD": "Indexer-Passw0rd!"}


def _load(name: str) -> dict:
    return yaml.safe_load((SECURITY / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def users(tmp_path_factory) -> dict:
    """internal_users.yml as `make opensearch-security` writes it, from an env file of test passwords."""
    d = tmp_path_factory.mktemp("security")
    env = d / ".env"
    env.write_text("".join(f"{k}={v}\n" for k, v in PASSWORDS.items()), encoding="utf-8")
    out = d / "internal_users.yml"
    clean = {"PATH": "/usr/bin:/bin"}  # no OPENSEARCH_* of the developer's shell
    res = subprocess.run([sys.executable, str(SECURITY / "internal_users.py"), "--env-file", str(env), "--out", str(out)],
                         capture_output=True, text=True, timeout=120, env=clean)
    assert res.returncode == 0, res.stderr
    return yaml.safe_load(out.read_text(encoding="utf-8"))


def test_roles_match_the_schema():
    jsonschema.validate(_load("roles.yml"), ROLES)


def test_roles_mapping_matches_the_schema_and_names_existing_roles():
    mapping = _load("roles_mapping.yml")
    jsonschema.validate(mapping, ROLES_MAPPING)
    defined = set(_load("roles.yml")) - {"_meta"}
    assert set(mapping) - {"_meta"} <= defined | BUILT_IN_ROLES
    assert mapping["council_search_read"]["users"] == ["council_api"]
    assert mapping["council_search_indexer"]["users"] == ["council_indexer"]


def test_the_api_role_reads_the_alias_and_cannot_write():
    role = _load("roles.yml")["council_search_read"]
    actions = [a for p in role["index_permissions"] for a in p["allowed_actions"]] + role["cluster_permissions"]
    patterns = [i for p in role["index_permissions"] for i in p["index_patterns"]]
    assert ALIAS in patterns and all(p.startswith(ALIAS) for p in patterns)
    assert "read" in actions
    forbidden = ("write", "delete", "create_index", "manage", "indices_all", "crud", "bulk", "mapping/put",
                 "aliases/update", "settings/update", "cluster_all", "indices:admin/aliases\"")
    assert not any(f in a for a in actions for f in forbidden), actions
    assert "indices:admin/aliases" not in actions  # alias changes; only the read-only /get is allowed


def test_the_indexer_role_manages_builds_only_in_its_namespace():
    role = _load("roles.yml")["council_search_indexer"]
    patterns = {i for p in role["index_permissions"] for i in p["index_patterns"]}
    assert patterns == {ALIAS, f"{ALIAS}-v*"}
    actions = {a for p in role["index_permissions"] for a in p["allowed_actions"]}
    assert {"create_index", "write", "indices:admin/aliases"} <= actions
    assert "indices:data/write/bulk" in role["cluster_permissions"]


def test_users_file_written_from_env_matches_the_schema_and_the_passwords(users):
    jsonschema.validate(users, INTERNAL_USERS)
    assert set(users) - {"_meta"} == {"admin", "council_api", "council_indexer"}
    for user, var in (("admin", "OPENSEARCH_INITIAL_ADMIN_PASSWORD"), ("council_api", "OPENSEARCH_API_PASSWORD"),
                      ("council_indexer", "OPENSEARCH_INDEXER_PASSWORD")):
        assert bcrypt.checkpw(PASSWORDS[var].encode(), users[user]["hash"].encode())
    assert users["admin"]["backend_roles"] == ["admin"]  # -> all_access by roles_mapping.yml
    text = yaml.safe_dump(users)
    assert not any(p in text for p in PASSWORDS.values())  # hashes only


def test_users_file_refuses_a_missing_password(tmp_path):
    env = tmp_path / ".env"
    env.write_text("OPENSEARCH_INITIAL_ADMIN_PASSWORD=x-Passw0rd!\n", encoding="utf-8")
    res = subprocess.run([sys.executable, str(SECURITY / "internal_users.py"), "--env-file", str(env),
                          "--out", str(tmp_path / "u.yml")], capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin"})
    assert res.returncode == 2 and "OPENSEARCH_API_PASSWORD" in res.stderr and not (tmp_path / "u.yml").exists()


def test_schemas_reject_what_the_plugin_rejects():
    """Guards the schemas: a wrong _meta type, a plain-text password, an unknown key all fail."""
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"_meta": {"type": "roles", "config_version": 1}}, ROLES)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"_meta": {"type": "internalusers", "config_version": 2}, "u": {"password": "x"}}, INTERNAL_USERS)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"_meta": {"type": "roles", "config_version": 2},
                             "r": {"index_permissions": [{"index_patterns": ["a"], "actions": ["read"]}]}}, ROLES)
