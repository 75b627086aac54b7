"""Markdown import: the seed becomes a valid checklist with every item in order; no markdown crashes it."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from predeploy_tui.cli import main
from predeploy_tui.core.checklist import ChecklistError, parse_checklist
from predeploy_tui.core.yamlnodes import MAX_VALUES
from predeploy_tui.reports.importer import MAX_ITEMS, ImportProblem, to_yaml

SEED = Path("/work/shared/seeds/pre-deployment-checklist.md")
SEED_TEXT = SEED.read_text() if SEED.exists() else ""
needs_seed = pytest.mark.skipif(not SEED_TEXT, reason="the seed markdown is not on this machine")


def seed_items() -> list[str]:
    """Every checkbox of the seed that is an item (sign-offs and the decision are built in)."""
    titles = re.findall(r"^\s*- \[ \] (.*?)\s*$", SEED_TEXT, re.M)
    return [t for t in titles if "approval" not in t and "GO" not in t]


@needs_seed
def test_seed_imports_to_a_valid_checklist_with_every_item_in_order() -> None:
    text = to_yaml(SEED_TEXT, "pre-deployment-checklist.md")
    checklist = parse_checklist(text.encode(), "imported.yaml")
    assert [i.title for i in checklist.items()] == seed_items()
    assert len(seed_items()) == 62
    assert [s.title for s in checklist.sections][:2] == ["Code Readiness",
                                                        "Infrastructure Verification"]
    assert [r.role for r in checklist.signoffs] == ["engineering", "operations", "security",
                                                    "product"]
    assert checklist.signoffs[3].required_when == "major"
    by_title = {i.title: i for i in checklist.items()}
    kinds = {title: (item.kind, item.check.type if item.check else None)
             for title, item in by_title.items()}
    assert kinds["Code coverage meets threshold (>80%)"] == ("check", "shell")
    assert by_title["Code coverage meets threshold (>80%)"].check.expect["ge"] == 80
    assert kinds["Load balancer health checks passing"] == ("check", "http")
    assert kinds["SSL certificates valid (>30 days)"] == ("check", "tls")
    assert kinds["DNS resolution working"] == ("check", "dns")
    assert kinds["Database performance baseline recorded"] == ("check", "postgres")
    assert kinds["Redis cluster healthy"] == ("check", "redis")
    assert kinds["S3 bucket accessible"] == ("check", "aws")
    assert kinds["CPU capacity verified (>30% available)"] == ("check", "kubernetes")
    assert kinds["GPU availability confirmed"] == ("check", "gpu")
    assert kinds["Disk space verified (>100GB available)"] == ("check", "disk")
    assert by_title["Disk space verified (>100GB available)"].check.expect["ge"] == "100GB"
    assert kinds["Memory capacity verified (>4GB per node available)"] == ("check", "memory")
    assert kinds["Deployment credentials valid"] == ("check", "ssh")
    assert kinds["Recent backup exists (<24 hours old)"] == ("check", "aws")
    assert by_title["Recent backup exists (<24 hours old)"].check.expect["max_age"] == 86400
    assert kinds["Release branch created and protected"] == ("action", "shell")
    assert kinds["Version tags created"] == ("action", "shell")
    assert kinds["Staging deployment successful"] == ("action", "shell")
    assert kinds["Payment provider API accessible"] == ("manual", None)
    nested = by_title["Email sent to stakeholders"]
    assert nested.key == "communication.deployment-window-communicated.email-sent-to-stakeholders"
    assert "# guessed: tls" in text
    assert "# guessed: an action" in text


@needs_seed
def test_import_command_writes_yaml_that_validates(tmp_path: Path) -> None:
    out = tmp_path / "imported.yaml"
    assert main(["import", str(SEED), "-o", str(out)]) == 0
    assert main(["validate", str(out)]) == 0
    assert main(["import", str(SEED), "-o", str(out)]) == 2  # no silent overwrite


def test_markdown_without_checkboxes_is_a_clear_error(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    md = tmp_path / "notes.md"
    md.write_text("# Notes\n\nJust prose, <b>html</b>, and\n\n- a bullet\n")
    assert main(["import", str(md)]) == 2
    err = capsys.readouterr().err
    assert "no checklist items found" in err
    assert "Traceback" not in err
    md.write_bytes(b"- [ ] ok\n\xff\xfe")
    assert main(["import", str(md)]) == 2


def test_odd_markdown_still_imports() -> None:
    # As a renderer shows it: the blank line ends the <div> block; six spaces under "- [x]" are
    # the paragraph's continuation, and a fence indented less than the nested item's text
    # belongs to the outer item.
    text = to_yaml("<div>\n\n- [x] **Bold** item with ${HOME} <i>html</i>\n      - [ ] deep child\n"
                   "  - [ ] shallower child\n"
                   "  ```bash\n  echo ${HOME} ${not valid}\n  ```\n"
                   "## 2. Second\n### Group\n- [ ] same\n- [ ] same\n"
                   "```\nunclosed fence\n", "odd.md")
    checklist = parse_checklist(text.encode(), "odd.yaml")
    titles = [i.title for i in checklist.items()]
    assert titles == ["Bold item with ${HOME} html", "shallower child", "same", "same"]
    bold = checklist.item("checklist.bold-item-with-home-html")
    assert bold.description == "ticked ([x]) in the imported markdown; - [ ] deep child"
    assert bold.check is not None
    assert "${env:HOME}" in bold.check.params["run"]
    with pytest.raises(ImportProblem, match="no checklist items found"):
        to_yaml("<div>\n- [ ] swallowed by the HTML block\n</div>\n", "html.md")


BLOCKS = st.one_of(
    st.builds(lambda n, t: "#" * n + " " + t, st.integers(1, 7), st.text(max_size=20)),
    st.builds(lambda i, b, t: " " * i + "- [" + b + "] " + t, st.integers(0, 12),
              st.sampled_from([" ", "x", "X"]), st.text(max_size=30)),
    st.builds(lambda i, lang, body: " " * i + "```" + lang + "\n" + body + "\n" + " " * i + "```",
              st.integers(0, 6), st.sampled_from(["", "bash", "sql", "python", "yaml"]),
              st.sampled_from(["curl -I https://x.invalid/", "kubectl top nodes", "df -h /",
                               "dig a.invalid", "redis-cli -h r ping", "git push", "SELECT 1;",
                               "ssh u@h.invalid \"uptime\"", "aws s3 ls s3://b/", "echo ${X}",
                               "openssl s_client -connect h:443", "nvidia-smi", "free -m"])
              | st.text(max_size=40)),
    st.builds(lambda t: f"<{t}>", st.text(max_size=10)),
    st.text(max_size=60),
    st.builds(lambda i, t: " " * i + "- " + t, st.integers(0, 8),
              st.sampled_from(["Name: ____", "Date: ____", "plain"])),
    # The shapes of foreign checklists: numbered steps, tables, front matter, HTML, inline
    # commands and placeholders.
    st.builds(lambda i, n, t: " " * i + f"{n}. " + t, st.integers(0, 6), st.integers(0, 12),
              st.text(max_size=30)),
    st.builds(lambda h, rows: "| " + " | ".join(h) + " |\n|" + "---|" * len(h) + "\n"
              + "\n".join("| " + " | ".join(r) + " |" for r in rows),
              st.lists(st.sampled_from(["Check", "Description", "Severity", "Owner", "", "x"]),
                       min_size=1, max_size=4),
              st.lists(st.lists(st.sampled_from(["critical", "`curl -s URL`", "[x]", "", "a|b",
                                                 "`git push`", "Pods ok"]) | st.text(max_size=8),
                                min_size=1, max_size=4), max_size=4)),
    st.sampled_from(["---\nname: r\ntitle: Release [VERSION]\n---", "---\n*a\n---", "---",
                     "<details>", "</details>", "<summary>s</summary>", "<!--", "-->",
                     "<!-- - [ ] hidden -->", "- [ ] ok `curl -s -w '%{http_code}' URL` returns 200",
                     "- [ ] pods (`kubectl get pods -n <ns> -l app=x`)", "1. push `git push`",
                     "- [ ] v[VERSION] <version> {{ version }} <b>x</b> [X] [ ]",
                     "- [ ] `redis-cli -u <url> ping`", "- [ ] `psql \"<dsn>\" -c 'select 1'`",
                     "\ue000x\ue001", "> - [ ] quoted", "    - [ ] code block"]),
)


def _import_or_clear_error(markdown: str) -> None:
    try:
        text = to_yaml(markdown, "generated.md")
    except ImportProblem as exc:
        message = str(exc)
    else:
        message = ""
    if message:
        assert "generated.md" in message
        assert "does not validate" not in message, message
        return
    assert isinstance(yaml.safe_load(text), dict)
    parse_checklist(text.encode(), "generated.yaml")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(BLOCKS, max_size=25).map("\n".join))
def test_generated_markdown_never_crashes_the_importer(markdown: str) -> None:
    _import_or_clear_error(markdown)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_text_never_crashes_the_importer(markdown: str) -> None:
    _import_or_clear_error(markdown)


def test_huge_and_deep_markdown() -> None:
    deep = "\n".join(" " * (2 * i) + f"- [ ] level {i}" for i in range(40))
    text = to_yaml(deep, "deep.md")
    assert "deeper sub-items were left out" in text
    parse_checklist(text.encode(), "deep.yaml")
    many = "\n".join(f"- [ ] item {i}" for i in range(3000))
    assert len(list(parse_checklist(to_yaml(many, "many.md").encode(), "m.yaml").items())) == 3000
    with pytest.raises(ImportProblem, match="larger than"):
        to_yaml("- [ ] x\n" * 700_000, "huge.md")


def test_twenty_thousand_items_are_refused_early_and_clearly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    many = "# Huge\n\n" + "\n".join(f"- [ ] item {i}" for i in range(20_000)) + "\n"
    started = time.monotonic()
    with pytest.raises(ImportProblem) as caught:
        to_yaml(many, "huge.md")
    # Generous bound: refused while counting, not after building and validating 20,000 items
    # (which took tens of seconds and ended in a message about YAML aliases).
    assert time.monotonic() - started < 5
    message = str(caught.value)
    assert message.startswith(f"huge.md:{3 + MAX_ITEMS}: more than {MAX_ITEMS} checklist items")
    assert "alias" not in message
    md = tmp_path / "huge.md"
    md.write_text(many)
    assert main(["import", str(md)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"more than {MAX_ITEMS} checklist items" in err


def test_the_item_limit_itself_still_imports() -> None:
    # Items that each become a check with a matcher and a description: the most YAML values an
    # item makes, so the limit is known to stay inside the loader's value limit.
    many = "".join(f"- [ ] Coverage {i} (>80%)\n  ```bash\n  # coverage\n  pytest --cov p{i}\n"
                   "  ```\n" for i in range(MAX_ITEMS))
    text = to_yaml(many, "limit.md")  # validated by the importer itself
    assert text.count("\n  - id: ") + text.count("\n          - id: ") == MAX_ITEMS + 1


def test_value_limit_of_plain_yaml_does_not_blame_aliases() -> None:
    plain = "id: big\ntitle: Big\nsections: []\nextra: [" + ", ".join(["1"] * MAX_VALUES) + "]\n"
    with pytest.raises(ChecklistError) as caught:
        parse_checklist(plain.encode(), "big.yaml")
    messages = [p.message for p in caught.value.problems]
    assert any(f"more than {MAX_VALUES} values" in m for m in messages), messages
    assert not any("alias" in m for m in messages), messages
    bomb = "id: big\ntitle: Big\nsections: []\na: &a [" + ", ".join(["1"] * 400) + "]\n" \
        + "b: &b [" + ", ".join(["*a"] * 400) + "]\n"
    with pytest.raises(ChecklistError) as caught:
        parse_checklist(bomb.encode(), "bomb.yaml")
    assert any("aliases expand" in p.message for p in caught.value.problems)


MUTATING_BLOCKS = [
    ("bash", "rm -rf /var/cache/app"),
    ("bash", "sudo -u deploy mv release current"),
    ("bash", "dd if=backup.img of=/dev/sdb bs=4M"),
    ("bash", "sudo systemctl restart nginx"),
    ("bash", "systemctl stop worker"),
    ("bash", "systemctl start worker"),
    ("bash", "terraform apply -auto-approve"),
    ("bash", "terraform destroy"),
    ("bash", "kubectl apply -f deploy.yaml"),
    ("bash", "kubectl -n prod delete pod api-0"),
    ("bash", "kubectl scale deploy/api --replicas=3"),
    ("bash", "kubectl rollout restart deploy/api"),
    ("bash", "helm install api ./chart"),
    ("bash", "helm upgrade api ./chart"),
    ("bash", "helm uninstall api"),
    ("sql", "UPDATE users SET active = false"),
    ("sql", "DELETE FROM sessions"),
    ("sql", "DROP TABLE old_events;"),
    ("sql", "INSERT INTO audit VALUES (1)"),
    ("sql", "ALTER TABLE users ADD COLUMN x int"),
    ("sql", "TRUNCATE jobs"),
    ("sql", "-- make the index\nCREATE INDEX i ON t (a)"),
    ("bash", 'psql -c "DELETE FROM sessions WHERE expired"'),
    ("bash", "psql --command='DROP TABLE tmp'"),
    ("bash", "redis-cli -h cache FLUSHALL"),
    ("bash", "redis-cli FLUSHDB"),
    ("bash", "redis-cli SET maintenance on"),
    ("bash", "redis-cli -n 2 DEL session:1"),
]
READ_ONLY_BLOCKS = [
    ("bash", "systemctl status nginx"),
    ("bash", "terraform plan"),
    ("bash", "kubectl get pods"),
    ("bash", "kubectl rollout status deploy/api"),
    ("bash", "helm list"),
    ("bash", "ls -la --rm"),
    ("sql", "SELECT 'DROP' AS word, created_at, last_update FROM t -- DELETE later"),
    ("bash", 'psql -c "SELECT count(*) FROM users"'),
    ("bash", "redis-cli -h cache info replication"),
    ("bash", "redis-cli GET maintenance"),
]


def _block(lang: str, code: str) -> str:
    body = "\n".join(f"  {line}" for line in code.split("\n"))
    return f"# Ops\n\n- [ ] The step\n  ```{lang}\n{body}\n  ```\n"


@pytest.mark.parametrize(("lang", "code"), MUTATING_BLOCKS, ids=[c for _, c in MUTATING_BLOCKS])
def test_mutating_commands_become_actions(lang: str, code: str) -> None:
    text = to_yaml(_block(lang, code), "ops.md")
    item = next(iter(parse_checklist(text.encode(), "ops.yaml").items()))
    assert item.kind == "action", text
    assert "# guessed: an action, because the command changes something" in text
    if lang == "sql":
        assert item.check is not None
        assert item.check.type == "postgres"


@pytest.mark.parametrize(("lang", "code"), READ_ONLY_BLOCKS, ids=[c for _, c in READ_ONLY_BLOCKS])
def test_reading_commands_stay_checks(lang: str, code: str) -> None:
    text = to_yaml(_block(lang, code), "ops.md")
    item = next(iter(parse_checklist(text.encode(), "ops.yaml").items()))
    assert item.kind == "check", text


def test_one_item_limit_for_import_loader_and_sessions() -> None:
    # One constant: the importer refuses what the loader would, and the loader refuses more
    # items than the session scale target (5,000) rather than failing on a value count.
    from predeploy_tui.core import yamlnodes

    assert MAX_ITEMS is yamlnodes.MAX_ITEMS
    assert MAX_ITEMS == 5_000
    head = "id: big\ntitle: Big\nsections:\n  - id: s\n    title: S\n    groups:\n" \
           "      - title: G\n        items:\n"
    rows = "".join(f"          - {{id: i{i}, title: Item {i}}}\n" for i in range(MAX_ITEMS + 1))
    with pytest.raises(ChecklistError) as caught:
        parse_checklist((head + rows).encode(), "big.yaml")
    assert [p.message for p in caught.value.problems] == [
        f"{MAX_ITEMS + 1} items; a checklist holds at most {MAX_ITEMS} (split it into several "
        "checklists)"]
    last = rows.rindex("          - ")
    assert len(list(parse_checklist((head + rows[:last]).encode(), "big.yaml").items())) \
        == MAX_ITEMS


@pytest.mark.parametrize("unit", ["[a](", "![a](", "[", "**a", "<a "])
def test_hostile_inline_markdown_is_read_in_linear_time(unit: str) -> None:
    # 400 KB of unclosed parentheses and brackets in one title: the id's "(...)" removal took
    # minutes on it (quadratic); markdown-it-py's link rule was ten times slower than the rest,
    # so links are read from the text. Generous bound: a hang, not a speed, fails.
    markdown = "- [ ] " + unit * (400_000 // len(unit)) \
        + "\n- [ ] [Runbook](https://x.invalid) read\n"
    started = time.monotonic()
    text = to_yaml(markdown, "hostile.md")
    assert time.monotonic() - started < 30
    titles = [i.title for i in parse_checklist(text.encode(), "hostile.yaml").items()]
    assert titles[-1] == "Runbook read"
