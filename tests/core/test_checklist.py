"""Valid checklists: the typed objects they become, and the JSON Schema editors get."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from predeploy_tui.cli import main
from predeploy_tui.core.checklist import (
    DEFAULT_DECISIONS,
    DEFAULT_RISKS,
    DEFAULT_TIMEOUT,
    ChecklistError,
    load_checklist,
    parse_checklist,
)

from .builders import CHECKLIST, tiny_checklist

ROOT = Path(__file__).parents[2]
BUNDLED = [ROOT / "checklists" / "demo.yaml", ROOT / "checklists" / "pre-deployment.yaml"]
SCHEMA_FILE = ROOT / "predeploy_tui" / "data" / "checklist.schema.json"
BROKEN = Path(__file__).parent / "broken"


def test_types_are_built_right() -> None:
    checklist = tiny_checklist()
    assert (checklist.id, checklist.title, checklist.path) == ("tiny", "Tiny release checklist",
                                                               "tiny.yaml")
    assert checklist.sha256
    assert len(checklist.sha256) == 64
    assert checklist.fresh_for == 8 * 3600
    assert [s.id for s in checklist.sections] == ["code", "ops"]
    assert [g.title for g in checklist.sections[0].groups] == ["Code Quality"]
    tests = checklist.item("code.tests")
    assert (tests.kind, tests.critical, tests.section, tests.group) == ("check", True, "code",
                                                                        "Code Quality")
    assert tests.check is not None
    assert (tests.check.type, dict(tests.check.params), tests.check.expect,
            tests.check.timeout) == ("shell", {"run": "pytest -q"}, None, 300.0)
    coverage = checklist.item("code.coverage")
    assert coverage.check is not None
    assert coverage.check.expect is not None
    assert dict(coverage.check.expect) == {"regex": r"TOTAL.*\s(\d+)%", "ge": 80}
    assert coverage.check.timeout == DEFAULT_TIMEOUT
    assert coverage.check.as_dict() == {"type": "shell", "run": "pytest --cov", "timeout": 60.0,
                                        "expect": {"regex": r"TOTAL.*\s(\d+)%", "ge": 80}}
    # Frozen: a checklist cannot be changed behind the session's back.
    with pytest.raises(AttributeError):
        tests.title = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        tests.check.params["run"] = "rm -rf /"  # type: ignore[index]


def test_kinds_default_from_the_presence_of_a_check() -> None:
    checklist = tiny_checklist()
    assert checklist.item("code.reviews").kind == "manual"
    assert checklist.item("code.reviews").check is None
    assert checklist.item("ops.tag").kind == "action"
    assert checklist.item("code.tests").kind == "check"


def test_depends_on_resolves_to_full_keys_across_sections() -> None:
    text = CHECKLIST.replace("            check: {type: shell, run: 'git tag v${version}'}",
                             "            depends_on: [comms, code.coverage]\n"
                             "            check: {type: shell, run: 'git tag v${version}'}")
    checklist = tiny_checklist(text)
    assert checklist.item("code.coverage").depends_on == ("code.tests",)
    assert checklist.item("ops.tag").depends_on == ("ops.comms", "code.coverage")


def test_sub_items_have_nested_keys_and_follow_their_parent() -> None:
    checklist = tiny_checklist()
    comms = checklist.item("ops.comms")
    assert [c.key for c in comms.children] == ["ops.comms.email", "ops.comms.slack"]
    assert [i.key for i in checklist.items()] == [
        "code.tests", "code.coverage", "code.reviews", "ops.comms", "ops.comms.email",
        "ops.comms.slack", "ops.tag"]
    assert checklist.item("ops.comms.slack").group == "Communication"
    email_line = next(i for i, line in enumerate(CHECKLIST.splitlines(), 1) if "Email sent" in line)
    assert checklist.item("ops.comms.email").line == email_line


def test_defaults() -> None:
    checklist = parse_checklist(b"id: x\ntitle: X\nsections:\n  - id: s\n    title: S\n"
                                b"    groups:\n      - title: G\n        items:\n"
                                b"          - {id: a, title: A}\n", "x.yaml")
    assert checklist.decisions == DEFAULT_DECISIONS
    assert [c.id for c in checklist.decisions] == ["GO", "CONDITIONAL GO", "NO GO"]
    assert checklist.risks == DEFAULT_RISKS
    assert checklist.variables == ()
    assert checklist.signoffs == ()
    assert checklist.fresh_for is None
    item = checklist.item("s.a")
    assert (item.kind, item.critical, item.depends_on, item.fresh_for, item.children) == (
        "manual", False, (), None, ())


def test_signoff_roles_hosts_and_groups() -> None:
    checklist = tiny_checklist()
    engineering, product = checklist.signoffs
    assert engineering.required
    assert engineering.is_required({})
    assert not product.required
    assert not product.is_required({"major": False})
    assert product.is_required({"major": True})
    text = CHECKLIST.replace("sections:\n", "hosts:\n  prod: {host: 127.0.0.1, user: deploy, "
                             "port: 2222}\nhost_groups:\n  web: {hosts: [prod]}\nsections:\n", 1)
    checklist = tiny_checklist(text)
    assert checklist.hosts["prod"].port == 2222
    assert checklist.hosts["prod"].user == "deploy"
    assert checklist.host_groups["web"].hosts == ("prod",)


def test_variables_and_their_problems() -> None:
    checklist = tiny_checklist()
    version = checklist.variable("version")
    env = checklist.variable("env")
    token = checklist.variable("token")
    assert version is not None
    assert env is not None
    assert token is not None
    assert version.required
    assert version.prompt == "Deployment version"
    assert version.problem("") == "Deployment version is required"
    assert version.problem("1.2") == r"Deployment version must match ^\d+\.\d+\.\d+$"
    assert version.problem("1.2.3") is None
    assert version.problem("1.2.3\n") is not None  # the whole value must match
    assert env.default == "staging"
    assert env.choices == ("staging", "production")
    assert env.problem("prod") == "Environment must be one of staging, production"
    assert env.problem("") is None
    assert token.secret
    assert token.problem("") is None
    assert checklist.variable("nope") is None


def test_env_references_and_bare_numbers_are_accepted() -> None:
    text = CHECKLIST.replace("run: 'pytest -q'", "run: 'curl -H \"X: ${env:API_TOKEN}\" x'") \
        .replace("title: All tests passing", "title: 2024-01-01")
    checklist = tiny_checklist(text)
    assert checklist.item("code.tests").title == "2024-01-01"
    assert checklist.item("code.tests").check.params["run"].endswith("${env:API_TOKEN}\" x")  # type: ignore[union-attr]


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_bundled_checklists_load(path: Path) -> None:
    checklist = load_checklist(path)
    assert sum(1 for _ in checklist.items()) > 5


def test_validate_bundled_checklists_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", *map(str, BUNDLED)]) == 0
    out = capsys.readouterr().out
    assert all(f"{p}: ok" in out for p in BUNDLED)


def test_load_checklist_of_a_missing_file_is_located(tmp_path: Path) -> None:
    with pytest.raises(ChecklistError) as caught:
        load_checklist(tmp_path / "absent.yaml")
    assert str(caught.value).startswith(f"{tmp_path / 'absent.yaml'}:1:1: cannot read")


# -- JSON Schema -------------------------------------------------------------------------------

def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def test_schema_command_output_equals_the_committed_schema(capsys: pytest.CaptureFixture[str]) \
        -> None:
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert printed == SCHEMA_FILE.read_text(encoding="utf-8"), \
        "regenerate it: predeploy schema -o predeploy_tui/data/checklist.schema.json"
    jsonschema.Draft202012Validator.check_schema(json.loads(printed))


def test_schema_written_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "schema.json"
    assert main(["schema", "-o", str(out)]) == 0
    assert json.loads(out.read_text(encoding="utf-8")) == _schema()


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.name)
def test_schema_validates_the_bundled_checklists(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "yaml-language-server: $schema=../predeploy_tui/data/checklist.schema.json" in text
    errors = list(jsonschema.Draft202012Validator(_schema()).iter_errors(yaml.safe_load(text)))
    assert errors == []


@pytest.mark.parametrize("name", [
    "unknown-key-top", "unknown-key-item", "unknown-key-check", "unknown-key-expect",
    "wrong-type-boolean", "bad-id-pattern", "missing-title", "unknown-kind", "bad-duration",
    "bad-quantity-unit", "negative-duration", "bad-http-method", "empty-sections",
])
def test_schema_rejects_broken_checklists(name: str) -> None:
    data = yaml.safe_load((BROKEN / f"{name}.yaml").read_text(encoding="utf-8"))
    assert list(jsonschema.Draft202012Validator(_schema()).iter_errors(data)) != []


@pytest.mark.parametrize(("value", "ok"), [
    ("30s", True), ("5 min", True), ("24H", True), ("500ms", True), (90, True), ("1.5h", True),
    ("5 parsecs", False), ("-5m", False), (-1, False), ("h", False),
])
def test_schema_durations_match_the_loader(value: object, ok: bool) -> None:
    text = CHECKLIST.replace("timeout: 5m", f"timeout: {json.dumps(value)}")
    data = yaml.safe_load(text)
    schema_ok = not list(jsonschema.Draft202012Validator(_schema()).iter_errors(data))
    try:
        tiny_checklist(text)
        loader_ok = True
    except ChecklistError:
        loader_ok = False
    assert (schema_ok, loader_ok) == (ok, ok)


def test_folder_is_resolved_once_per_checklist(tmp_path: Path) -> None:
    """The runner asks for the folder per check: it is resolved once, where the file was read."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    link = tmp_path / "current"
    link.symlink_to(first)
    checklist = parse_checklist(CHECKLIST.encode(), str(link / "tiny.yaml"))
    assert checklist.folder == first.resolve()
    # The link moves on; the checklist already read keeps the folder it was read from.
    link.unlink()
    link.symlink_to(second)
    assert checklist.folder == first.resolve()
    assert parse_checklist(CHECKLIST.encode(), str(link / "tiny.yaml")).folder == second.resolve()
    assert parse_checklist(CHECKLIST.encode(), "").folder == Path.cwd()
