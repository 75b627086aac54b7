"""The seed checklist made runnable: checklists/pre-deployment.yaml against the seed markdown.

The seed (../shared/seeds/pre-deployment-checklist.md) is read as it is written, so a title, an
item or a threshold that drifts from it fails here.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from predeploy_tui.core.checklist import Checklist, Item, load_checklist
from predeploy_tui.core.quantity import parse_quantity

ROOT = Path(__file__).resolve().parents[1]
CHECKLIST = ROOT / "checklists" / "pre-deployment.yaml"
# The seed lives in ../shared/seeds/; a copy is kept under tests/data so the test never skips on a
# clone without shared/, and a test below keeps the copy identical to the original when both exist.
SHARED_SEED = ROOT.parent / "shared" / "seeds" / "pre-deployment-checklist.md"
SEED = Path(os.environ.get("PREDEPLOY_SEED", ROOT / "tests" / "data" / "seed-pre-deployment-checklist.md"))


@dataclass
class SeedItem:
    """An item of the seed: its title, its code block (if any) and its sub-items."""

    title: str
    lang: str = ""
    code: list[str] = field(default_factory=list)
    children: list[SeedItem] = field(default_factory=list)

    @property
    def commands(self) -> list[str]:
        return [line.strip() for line in self.code
                if line.strip() and not line.strip().startswith(("#", "--"))]


@dataclass
class SeedGroup:
    title: str
    items: list[SeedItem] = field(default_factory=list)


@dataclass
class SeedSection:
    title: str
    groups: list[SeedGroup] = field(default_factory=list)


@dataclass
class Seed:
    sections: list[SeedSection]
    decisions: list[tuple[str, str]]
    risks: list[tuple[str, str]]


def read_seed(text: str) -> Seed:
    """Sections, groups, items (with code blocks and sub-items), decisions and risks."""
    sections: list[SeedSection] = []
    decisions: list[tuple[str, str]] = []
    risks: list[tuple[str, str]] = []
    current: SeedItem | None = None
    in_code = False
    in_body = True
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            if not in_code and current is not None and in_body:
                current.lang = stripped[3:].strip()
            in_code = not in_code
            continue
        if in_code:
            if current is not None and in_body:
                current.code.append(line)
            continue
        if line.startswith("## "):
            match = re.match(r"## \d+\. (.+)", line)
            in_body = bool(match)
            if match:
                sections.append(SeedSection(match.group(1).strip()))
            current = None
        elif line.startswith("### ") and in_body:
            sections[-1].groups.append(SeedGroup(line[4:].strip()))
            current = None
        elif in_body and (match := re.match(r"- \[ \] (.+)", line)):
            current = SeedItem(match.group(1).strip())
            sections[-1].groups[-1].items.append(current)
        elif in_body and current is not None and (match := re.match(r"\s+- \[ \] (.+)", line)):
            current.children.append(SeedItem(match.group(1).strip()))
        elif not in_body and (match := re.match(r"- \[ \] \S+ \*\*(.+?)\*\* - (.+)", line)):
            decisions.append((match.group(1), match.group(2).strip()))
        elif not in_body and (match := re.match(r"- \*\*(\w+) Risk\*\*: (.+)", line)):
            risks.append((match.group(1).lower(), match.group(2).strip()))
    return Seed(sections, decisions, risks)


@pytest.fixture(scope="module")
def seed() -> Seed:
    return read_seed(SEED.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def checklist() -> Checklist:
    return load_checklist(CHECKLIST)


def body_groups(seed: Seed) -> Iterator[tuple[SeedSection, SeedGroup]]:
    """Every group of the seed except the sign-offs, which are sign-offs in the checklist."""
    for section in seed.sections:
        for group in section.groups:
            if group.title != "Sign-offs":
                yield section, group


def seed_items(seed: Seed) -> Iterator[SeedItem]:
    for _, group in body_groups(seed):
        for item in group.items:
            yield item
            yield from item.children


def by_title(checklist: Checklist) -> dict[str, Item]:
    return {item.title: item for item in checklist.items()}


def expected_type(item: SeedItem) -> tuple[str, str | None]:
    """The check type (and aws / kubernetes probe) the seed's command maps to."""
    if item.lang == "sql":
        return "postgres", None
    text = " ".join(item.commands)
    first = item.commands[0].split()[0]
    if "openssl s_client" in text:
        return "tls", None
    if first == "curl":
        return "http", None
    if first in ("nslookup", "dig"):
        return "dns", None
    if first == "redis-cli":
        return "redis", None
    if first == "aws":
        if "secretsmanager" in text:
            return "aws", "secret_rotation"
        if "cloudfront" in text:
            return "aws", "cloudfront"
        return "aws", "newest_object" if "--recursive" in text else "bucket"
    if text.startswith("kubectl top"):
        return "kubernetes", "nodes"
    if first == "nvidia-smi":
        return "gpu", None
    if first == "free":
        return "memory", None
    if first == "df":
        return "disk", None
    if first == "ssh":
        return "ssh", None
    return "shell", None


# ---------------------------------------------------------------------------------------------
# Structure and wording.

def test_seed_is_read_whole(seed: Seed) -> None:
    # Guards the parser: the counts the issue states (10 sections, 20 groups, 6 sub-items).
    assert len(seed.sections) == 10
    assert sum(len(s.groups) for s in seed.sections) == 20
    assert sum(len(i.children) for i in seed_items(seed)) == 6


def test_sections_groups_and_items_in_seed_order(seed: Seed, checklist: Checklist) -> None:
    assert [s.title for s in checklist.sections] == [s.title for s in seed.sections]
    for ours, theirs in zip(checklist.sections, seed.sections, strict=True):
        seed_groups = [g for g in theirs.groups if g.title != "Sign-offs"]
        assert [g.title for g in ours.groups] == [g.title for g in seed_groups], ours.title
        for group, seed_group in zip(ours.groups, seed_groups, strict=True):
            assert [i.title for i in group.items] == [i.title for i in seed_group.items], group.title
            for item, seed_item in zip(group.items, seed_group.items, strict=True):
                assert [c.title for c in item.children] == [c.title for c in seed_item.children]


def test_whole_checklist_order_matches_flattened_seed(seed: Seed, checklist: Checklist) -> None:
    assert [i.title for i in checklist.items()] == [i.title for i in seed_items(seed)]


def test_communication_sub_items_are_nested(checklist: Checklist) -> None:
    nested = [item for item in checklist.items() if item.key.count(".") == 2]
    assert len(nested) == 6
    assert {item.key.rsplit(".", 1)[0] for item in nested} == {
        "communication.window-communicated", "communication.rollback-plan-shared"}
    assert all(item.kind == "manual" for item in nested)


def test_signoffs_are_the_seeds(seed: Seed, checklist: Checklist) -> None:
    signoff_group = next(g for s in seed.sections for g in s.groups if g.title == "Sign-offs")
    assert [s.title for s in checklist.signoffs] == [i.title for i in signoff_group.items]
    required = {s.role: (s.required, s.required_when) for s in checklist.signoffs}
    assert required == {"engineering": (True, None), "operations": (True, None),
                        "security": (True, None), "product": (False, "major")}
    assert checklist.signoffs[3].is_required({"major": True})
    assert not checklist.signoffs[3].is_required({})


def test_decisions_and_risks_are_the_seeds(seed: Seed, checklist: Checklist) -> None:
    assert [(d.id, d.description) for d in checklist.decisions] == seed.decisions
    assert [d.id for d in checklist.decisions] == ["GO", "CONDITIONAL GO", "NO GO"]
    assert [(r.id, r.description) for r in checklist.risks] == seed.risks
    assert [r.id for r in checklist.risks] == ["low", "medium", "high"]


# ---------------------------------------------------------------------------------------------
# Kinds and check types.

SEEN_BY_A_PERSON = {"security.firewall", "monitoring.log-aggregation", "monitoring.alert-routing"}
"""Items whose evidence a person sees (rules read, a log line arriving, an alert received): manual
items that carry the seed's command as a helper, never run for a verdict (its exit code proves
nothing)."""


def test_items_without_a_seed_command_are_manual(seed: Seed, checklist: Checklist) -> None:
    items = by_title(checklist)
    for seed_item in seed_items(seed):
        item = items[seed_item.title]
        if seed_item.commands:
            assert (item.kind == "manual") == (item.key in SEEN_BY_A_PERSON), item.key
            assert item.check is not None, item.key
        else:
            assert item.kind == "manual", item.key
            assert item.check is None, item.key


def test_commands_that_change_things_are_actions(seed: Seed, checklist: Checklist) -> None:
    mutating = ("git push", "deploy_staging", "send_test_alert", "test_rollback",
                "test_backup_restore")
    expected = {i.title for i in seed_items(seed) if any(m in " ".join(i.commands) for m in mutating)}
    assert len(expected) == 6
    # Alert routing is judged by a person (was the alert received?): manual, never run.
    expected.remove(checklist.item("monitoring.alert-routing").title)
    assert {i.title for i in checklist.items() if i.kind == "action"} == expected


def test_each_seed_command_becomes_the_check_type_that_fits(seed: Seed, checklist: Checklist) -> None:
    items = by_title(checklist)
    used: set[str] = set()
    for seed_item in seed_items(seed):
        if not seed_item.commands:
            continue
        check = items[seed_item.title].check
        assert check is not None
        ctype, probe = expected_type(seed_item)
        assert check.type == ctype, f"{seed_item.title}: {check.type} instead of {ctype}"
        if probe is not None:
            assert check.params["probe"] == probe, seed_item.title
        used.add(check.type)
    assert used == {"shell", "ssh", "http", "tls", "dns", "postgres", "redis", "aws", "kubernetes",
                    "gpu", "memory", "disk"}


def test_seed_sql_is_kept_as_written(seed: Seed, checklist: Checklist) -> None:
    items = by_title(checklist)
    for seed_item in seed_items(seed):
        if seed_item.lang == "sql":
            check = items[seed_item.title].check
            assert check is not None
            words = " ".join(" ".join(seed_item.code).split())
            assert " ".join(str(check.params["query"]).split()).endswith(words), seed_item.title


def test_seed_scripts_live_under_checks_and_are_referenced(seed: Seed, checklist: Checklist) -> None:
    items = by_title(checklist)
    for seed_item in seed_items(seed):
        for command in seed_item.commands:
            match = re.search(r"(?:\./)?scripts/(\S+)", command)
            if not match:
                continue
            script = ROOT / "checks" / match.group(1)
            assert script.is_file(), f"{script} is missing"
            assert os.access(script, os.X_OK), f"{script} is not executable"
            check = items[seed_item.title].check
            assert check is not None
            assert check.type == "shell"
            run = str(check.params["run"])
            assert f"../checks/{match.group(1)}" in run, seed_item.title
            # Items run from the checklist's folder, so the relative path must land on the script.
            assert "cwd" not in check.params
            assert (checklist.folder / f"../checks/{match.group(1)}").resolve() == script
            if len(seed_item.commands) == 1:
                # The scripts speak the Nagios convention: exit 3 ("could not check") is an error.
                assert check.expect == {"nagios": True}, seed_item.title


# ---------------------------------------------------------------------------------------------
# Thresholds: the seed's numbers, as matchers.

def expect_of(checklist: Checklist, key: str) -> dict[str, object]:
    check = checklist.item(key).check
    assert check is not None, key
    assert check.expect is not None, key
    return dict(check.expect)


def test_coverage_threshold_reads_pytest_cov_total(checklist: Checklist) -> None:
    expect = expect_of(checklist, "code.coverage")
    assert checklist.item("code.coverage").title.endswith("(>80%)")
    assert expect["gt"] == 80
    total = "TOTAL                              2143    201    418     37    90%\n"
    match = re.search(str(expect["regex"]), "Name  Stmts  Miss  Cover\n" + total)
    assert match is not None
    assert match.group(1) == "90"
    match = re.search(str(expect["regex"]), "TOTAL   512   10   97.5%")
    assert match is not None
    assert match.group(1) == "97.5"


def test_cpu_threshold_applies_to_every_node(checklist: Checklist) -> None:
    expect = expect_of(checklist, "infrastructure.cpu")
    assert expect["each"] == "nodes[].cpu_free_percent"
    assert expect["gt"] == 30


@pytest.mark.parametrize(("key", "amount"), [("infrastructure.memory", 4e9),
                                             ("infrastructure.disk", 100e9)])
def test_memory_and_disk_thresholds(checklist: Checklist, key: str, amount: float) -> None:
    quantity = parse_quantity(expect_of(checklist, key)["gt"])
    assert (quantity.value, quantity.dimension) == (amount, "bytes")


def test_memory_disk_and_gpu_are_measured_on_every_node(checklist: Checklist) -> None:
    assert "prod" in checklist.host_groups["nodes"].hosts
    for key in ("infrastructure.memory", "infrastructure.gpu", "infrastructure.disk"):
        check = checklist.item(key).check
        assert check is not None, key
        assert check.params["host"] == "nodes", key


def test_certificate_threshold_in_days(checklist: Checklist) -> None:
    expect = expect_of(checklist, "infrastructure.tls")
    assert (expect["gt"], expect["unit"]) == (30, "days")


@pytest.mark.parametrize(("key", "seconds"), [("database.backup-recent", 24 * 3600),
                                              ("configuration.secrets-rotated", 90 * 86400)])
def test_age_thresholds(checklist: Checklist, key: str, seconds: float) -> None:
    assert expect_of(checklist, key)["max_age"] == seconds


def test_blocking_items_are_critical_with_a_reason(checklist: Checklist) -> None:
    for key in ("code.ci-passing", "code.coverage", "code.no-critical-vulns",
                "database.backup-recent", "database.backup-restore", "database.migration-rollback",
                "configuration.env-vars", "security.deploy-credentials", "final.staging-deploy",
                "final.staging-tests"):
        item = checklist.item(key)
        assert item.critical, key
        assert item.description, key


def test_dependencies(checklist: Checklist) -> None:
    assert checklist.item("final.staging-tests").depends_on == ("final.staging-deploy",)
    assert checklist.item("database.backup-restore").depends_on == ("database.backup-recent",)
    assert checklist.item("code.version-tag").depends_on == ("code.release-branch",)


# ---------------------------------------------------------------------------------------------
# Variables: another team points the checklist elsewhere without editing items.

def test_hosts_and_endpoints_are_variables_with_the_seeds_defaults(checklist: Checklist) -> None:
    defaults = {v.name: v.default for v in checklist.variables}
    assert defaults | {
        "api_host": "api.musicgen.ai", "prod_host": "production.musicgen.ai",
        "redis_host": "redis.musicgen.ai", "prometheus_url": "http://prometheus.musicgen.ai:9090",
        "grafana_url": "http://grafana.musicgen.ai", "backup_bucket": "musicgen-backups",
        "audio_bucket": "musicgen-audio", "cdn_distribution": "E1234567890ABC",
        "secret_id": "musicgen/prod", "package": "music_gen",
        "staging_url": "https://staging.musicgen.ai", "api_port": "443", "prod_ssh_port": "22",
        "redis_port": "6379"} == defaults
    assert checklist.hosts["prod"].host == "${prod_host}"
    assert checklist.hosts["prod"].port == "${prod_ssh_port}"
    for key, port in (("infrastructure.tls", "${api_port}"), ("dependencies.redis", "${redis_port}")):
        check = checklist.item(key).check
        assert check is not None
        assert check.params["port"] == port
    assert checklist.hosts["prod"].user == "deploy"
    for item in checklist.items():
        if item.check is not None:
            assert "musicgen" not in repr(item.check.as_dict()), f"{item.key} names a seed value"


def test_version_and_environment_variables(checklist: Checklist) -> None:
    version, env = checklist.variable("version"), checklist.variable("env")
    assert version is not None
    assert env is not None
    assert version.required
    assert version.problem("1.2.3") is None
    assert version.problem("1.2") is not None
    assert env.choices == ("staging", "production")
    assert env.default == "production"
    for key in ("code.release-branch", "code.version-tag"):
        check = checklist.item(key).check
        assert check is not None
        assert "release/v${version}" in str(check.params["run"]) or "v${version}" in str(
            check.params["run"])


def test_grafana_key_comes_from_the_environment(checklist: Checklist) -> None:
    check = checklist.item("monitoring.grafana").check
    assert check is not None
    assert check.params["bearer"] == "${env:GRAFANA_API_KEY}"


def test_shell_commands_parse(checklist: Checklist) -> None:
    # Every shell command must at least be valid /bin/sh syntax once variables are filled in.
    sh = shutil.which("sh")
    assert sh is not None
    for item in checklist.items():
        if item.check is not None and item.check.type == "shell":
            command = re.sub(r"\$\{(\w+)\}", lambda m: shlex.quote("x.y"), str(item.check.params["run"]))
            proc = subprocess.run([sh, "-n", "-c", command], capture_output=True, text=True,
                                  timeout=10, check=False)
            assert proc.returncode == 0, f"{item.key}: {proc.stderr}"


# ---------------------------------------------------------------------------------------------
# The command line.

def test_predeploy_validate_accepts_both_bundled_checklists() -> None:
    exe = Path(sys.executable).parent / "predeploy"
    command = [str(exe)] if exe.exists() else [shutil.which("predeploy") or "predeploy"]
    proc = subprocess.run([*command, "validate", "checklists/pre-deployment.yaml",
                           "checklists/demo.yaml"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "pre-deployment.yaml: ok (10 sections" in proc.stdout
    assert proc.stderr == ""


# ---------------------------------------------------------------------------------------------
# Running a seed item for real: the script is found from the checklist's folder, and its Nagios
# exit code is judged (3, "could not check", is an error, never a failure).

def test_seed_script_items_run_from_the_checklist_folder(checklist: Checklist, tmp_path: Path) -> None:
    import asyncio

    from predeploy_tui.core.results import Status
    from predeploy_tui.engine.runner import Runner

    inventory = tmp_path / "keys.json"
    inventory.write_text('{"keys": [{"name": "stripe-live", "created": "2001-01-01"}]}')
    variables = {v.name: v.default for v in checklist.variables if v.default is not None}

    def run_item(**overrides: str) -> tuple[Status, str]:
        runner = Runner(checklist, {**variables, "version": "1.2.3", **overrides}, by="test")
        result = asyncio.run(runner.run(["security.api-keys"]))["security.api-keys"]
        return result.status, result.summary

    status, summary = run_item(api_key_inventory=str(inventory))
    assert status == Status.FAIL
    assert "1 of 1 key(s) need rotation" in summary
    inventory.write_text('{"keys": []}')
    assert run_item(api_key_inventory=str(inventory))[0] == Status.PASS
    status, summary = run_item(api_key_inventory=str(tmp_path / "missing.json"))
    assert status == Status.ERROR
    assert "not found" in summary


def test_vendored_seed_matches_shared_copy() -> None:
    if not SHARED_SEED.is_file():
        pytest.skip("no ../shared/seeds beside this clone: nothing to compare the copy with")
    assert SEED.read_bytes() == SHARED_SEED.read_bytes()
