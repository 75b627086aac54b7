"""Markdown import of foreign checklists: one test per shape (tests/record/data/import/*.md).

Each asserts the items, their kinds, the guessed checks and the variables of the imported YAML,
which the importer has validated and which is loaded again here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from predeploy_tui.cli import main
from predeploy_tui.core.checklist import Checklist, Item, parse_checklist
from predeploy_tui.reports.importer import ImportProblem, to_yaml

DATA = Path(__file__).parent / "data" / "import"


def imported(name: str) -> tuple[str, Checklist]:
    """The YAML and the loaded checklist of one markdown file under data/import."""
    text = to_yaml((DATA / name).read_text(encoding="utf-8"), name)
    return text, parse_checklist(text.encode(), name.replace(".md", ".yaml"))


def by_title(checklist: Checklist) -> dict[str, Item]:
    return {item.title: item for item in checklist.items()}


def kinds(checklist: Checklist) -> list[tuple[str, str | None]]:
    return [(item.kind, item.check.type if item.check else None) for item in checklist.items()]


def test_numbered_release_process_each_step_an_item() -> None:
    text, checklist = imported("numbered-release.md")
    assert [i.title for i in checklist.items()] == [
        "Run the tests", "Bump the version to v${version} in pyproject.toml and commit it.",
        "Tag the release", "Deploy with Helm", "Check the rollout: kubectl rollout status deploy/api",
        "Announce the release in #releases."]
    assert kinds(checklist) == [("check", "shell"), ("manual", None), ("action", "shell"),
                                ("action", "shell"), ("check", "shell"), ("manual", None)]
    items = by_title(checklist)
    assert items["Run the tests"].check.params["run"] == "make test"  # type: ignore[union-attr]
    tag = items["Tag the release"].check
    assert tag is not None
    # The engine shell-quotes a value where it lands: the placeholder is moved out of the quotes.
    assert tag.params["run"] == 'git tag -a v${version} -m "Release v"${version}\n' \
                                "git push origin v${version}"
    assert items["Deploy with Helm"].check.params["run"] == (  # type: ignore[union-attr]
        "helm upgrade api ./chart --set image.tag=${version}")
    assert [(v.name, v.required) for v in checklist.variables] == [("version", True)]
    assert "# guessed: from the placeholder [VERSION]" in text
    assert "`helm upgrade`; runs only after confirmation" in text


def test_table_rows_are_items_with_other_columns_in_the_description() -> None:
    text, checklist = imported("table.md")
    items = by_title(checklist)
    assert list(items) == ["Database migrations applied", "Health endpoint answers",
                           "Runbook updated"]
    migrations = items["Database migrations applied"]
    assert migrations.critical
    assert migrations.description == ("Description: alembic current shows head; "
                                      "Severity: critical; Owner: DBA")
    assert migrations.check is not None
    assert (migrations.check.type, migrations.check.params["run"]) == ("shell", "alembic current")
    health = items["Health endpoint answers"]
    assert health.critical
    assert health.check is not None
    assert health.check.type == "http"
    assert health.check.params["url"] == "https://api.example.test/health"
    runbook = items["Runbook updated"]
    assert (runbook.kind, runbook.critical) == ("manual", False)
    assert "Owner: On-call" in runbook.description
    assert "# from the table's level column" in text


def test_issue_template_front_matter_and_comments() -> None:
    text, checklist = imported("issue-template.md")
    assert (checklist.id, checklist.title) == ("release-checklist", "Release ${version}")
    assert [v.name for v in checklist.variables] == ["version"]
    titles = [i.title for i in checklist.items()]
    assert titles == ["Changelog for ${version} written", "Milestone ${version} closed",
                      "Release branch cut", "Docker image pushed", "Docs site rebuilt"]
    assert "commented out" not in text  # the HTML comment's checkbox is not an item
    items = by_title(checklist)
    assert items["Release branch cut"].description == "ticked ([x]) in the imported markdown"
    assert items["Release branch cut"].kind == "manual"
    docker = items["Docker image pushed"]
    assert docker.kind == "action"
    assert docker.check is not None
    assert docker.check.params["run"] == "docker push acme/app:${version}"
    milestone = items["Milestone ${version} closed"]
    assert milestone.check is not None
    assert milestone.check.params["run"] == "gh api repos/acme/app/milestones"
    assert "# guessed from inline code `gh api repos/acme/app/milestones`" in text


def test_japanese_checklist_with_inline_commands() -> None:
    text, checklist = imported("japanese.md")
    assert checklist.title == "リリース前チェックリスト"
    keys = [i.key for i in checklist.items()]
    assert keys == ["section-1.1-1", "section-1.1-2", "section-1.1-3", "section-1.2-1",
                    "section-1.2-2", "section-2.1-1", "section-2.1-2"]
    assert not any(k.split(".")[-1].startswith("item") for k in keys)
    items = by_title(checklist)
    pods = items["ポッドが稼働中"].check
    assert pods is not None
    assert pods.type == "kubernetes"
    assert dict(pods.params) == {"probe": "list", "resource": "/api/v1/namespaces/prod/pods",
                                 "label_selector": "app=api"}
    assert pods.expect is not None
    assert pods.expect["equals"] is True
    smoke = next(i for i in checklist.items() if i.title.startswith("スモークテスト"))
    assert smoke.check is not None
    assert (smoke.check.type, smoke.check.params["status"]) == ("http", 200)
    nodes = items["ノードの空き容量を確認"].check
    assert nodes is not None
    assert (nodes.type, nodes.params["probe"]) == ("kubernetes", "nodes")
    migrate = items["マイグレーションを適用"]
    assert migrate.kind == "action"
    assert items["バックアップを確認"].kind == "manual"
    assert "guessed: http from `curl` (passes on status 200" in text


def test_deep_nesting_keeps_the_tree() -> None:
    _, checklist = imported("deep-nesting.md")
    keys = [i.key for i in checklist.items()]
    assert keys == [
        "clusters.upgrade-every-cluster",
        "clusters.upgrade-every-cluster.staging",
        "clusters.upgrade-every-cluster.staging.control-plane",
        "clusters.upgrade-every-cluster.staging.control-plane.etcd-backed-up",
        "clusters.upgrade-every-cluster.staging.control-plane.etcd-backed-up"
        ".snapshot-copied-off-site",
        "clusters.upgrade-every-cluster.staging.node-pools",
        "clusters.upgrade-every-cluster.production",
        "clusters.upgrade-every-cluster.production.control-plane",
        "clusters.upgrade-every-cluster.production.node-pools",
        "clusters.verify-workloads"]
    assert {i.kind for i in checklist.items()} == {"manual"}


def test_html_comments_and_details_as_a_renderer_shows_them() -> None:
    text, checklist = imported("html.md")
    assert [i.title for i in checklist.items()] == [
        "Firewall rules reviewed", "DNS records point to the new load balancer",
        "TLS certificate renewed by the platform team", "Old item Status page ready"]
    assert "not an item" not in text
    assert "Twitter" not in text


def test_inline_commands_become_typed_checks_and_actions() -> None:
    text, checklist = imported("inline-commands.md")
    items = {i.id: i for i in checklist.items()}
    assert list(items) == ["pods-running", "smoke-test-returns-200", "database-answers",
                           "cache-answers", "push-the-release-branch", "apply-the-manifests",
                           "write-the-audit-row", "read-the-config-yaml-and-values-yaml-fil"]
    pods = items["pods-running"]
    assert pods.title == "Pods running"
    assert pods.check is not None
    assert (pods.check.type, pods.check.params["label_selector"]) == ("kubernetes", "app=api")
    smoke = items["smoke-test-returns-200"].check
    assert smoke is not None
    assert dict(smoke.params) == {"url": "${url}", "status": 200}
    database = items["database-answers"].check
    assert database is not None
    assert (database.type, database.params["run"]) == ("shell", "psql ${dsn} -tAc 'select 1'")
    cache = items["cache-answers"].check
    assert cache is not None
    assert dict(cache.params) == {"url": "${redis_url}"}
    for key in ("push-the-release-branch", "apply-the-manifests", "write-the-audit-row"):
        assert items[key].kind == "action", key
    assert items["read-the-config-yaml-and-values-yaml-fil"].kind == "manual"  # file names
    assert sorted(v.name for v in checklist.variables) == ["dsn", "redis_url", "url"]
    assert all(v.required for v in checklist.variables)
    assert text.count("# guessed from inline code") == 7
    assert "# guessed: from the placeholder URL" in text


def test_release_md_keeps_ticked_state_and_skips_plain_bullets() -> None:
    _, checklist = imported("release-md.md")
    items = by_title(checklist)
    assert list(items) == ["CI green on main", "Version bumped to ${version} in setup.cfg",
                           "Changelog reviewed", "PyPI upload: twine upload dist/*",
                           "Release notes published"]
    assert items["CI green on main"].description == "ticked ([x]) in the imported markdown"
    assert items["Changelog reviewed"].description == (
        "ticked ([x]) in the imported markdown; Second line of the changelog item.")
    assert "ticked" not in items["Release notes published"].description
    assert [v.name for v in checklist.variables] == ["version"]


def test_wiki_page_with_setext_title_parenthesised_numbers_and_tilde_fences() -> None:
    _, checklist = imported("wiki-page.md")
    assert checklist.title == "Deployment runbook (wiki)"
    assert [(g.title, [i.title for i in g.items]) for g in checklist.sections[0].groups] == [
        ("Preparation", ["Freeze merges to main.", "Confirm the on-call engineer."]),
        ("Execution", ["Drain traffic", "Run the database migration", "Verify the migration"])]
    items = by_title(checklist)
    drain = items["Drain traffic"].check
    assert drain is not None
    assert drain.params["run"] == "./scripts/drain.sh eu-west-1"  # the prompt is not the command
    assert items["Run the database migration"].kind == "action"
    verify = items["Verify the migration"].check
    assert verify is not None
    assert (verify.type, items["Verify the migration"].kind) == ("postgres", "check")


def test_accented_titles_get_transliterated_ids_and_thresholds() -> None:
    _, checklist = imported("accents.md")
    assert [i.id for i in checklist.items()] == ["datenbank-sicherung-prufen",
                                                 "ubersetzungen-vollstandig",
                                                 "grosse-des-speichers", "equipe-prevenue"]
    assert checklist.id == "checkliste-fur-die-auslieferung"
    assert next(checklist.items()).kind == "manual"
    storage = by_title(checklist)["Größe des Speichers (>100GB) df -h /var"].check
    assert storage is not None
    assert storage.expect is not None
    assert (storage.type, storage.params["path"], dict(storage.expect)) == (
        "disk", "/var", {"ge": "100GB"})


def test_every_shape_imports_through_the_command_and_validates(tmp_path: Path) -> None:
    shapes = sorted(DATA.glob("*.md"))
    assert len(shapes) >= 10
    for shape in shapes:
        out = tmp_path / (shape.stem + ".yaml")
        assert main(["import", str(shape), "-o", str(out)]) == 0, shape.name
        assert main(["validate", str(out)]) == 0, shape.name


@pytest.mark.parametrize("markdown", ["", "   \n\n", "# Title only\n\nSome prose.\n",
                                      "<!--\n- [ ] commented out\n-->\n",
                                      "<div>\n- [ ] inside an HTML block\n</div>\n",
                                      "| a | b |\n|---|---|\n|  |  |\n"])
def test_empty_or_item_less_markdown_is_one_clear_error(markdown: str) -> None:
    with pytest.raises(ImportProblem, match=r"^empty\.md: no checklist items found"):
        to_yaml(markdown, "empty.md")


def test_placeholders_only_declared_where_used_and_html_is_not_a_placeholder() -> None:
    text = to_yaml("# T\n\nIntro for <team> <b>bold</b>.\n\n- [ ] Deploy {{ app_name }} "
                   "to <Env Name>\n- [ ] Link [DOCS](https://x.invalid) read\n", "p.md")
    checklist = parse_checklist(text.encode(), "p.yaml")
    assert sorted(v.name for v in checklist.variables) == ["app_name", "env_name"]
    assert [i.title for i in checklist.items()] == ["Deploy ${app_name} to ${env_name}",
                                                    "Link DOCS read"]
    text = to_yaml("- [ ] Login works (`kubectl get pods`)\n  ```bash\n  curl -fsS -H "
                   "'Authorization: Bearer <API_TOKEN>' https://x.invalid/me\n  ```\n", "secret.md")
    checklist = parse_checklist(text.encode(), "secret.yaml")
    assert [(v.name, v.secret) for v in checklist.variables] == [("api_token", True)]
    login = next(checklist.items())
    assert login.title == "Login works"
    assert login.description == "also mentions `kubectl get pods`"
    assert login.check is not None
    assert login.check.params["run"] == ("curl -fsS -H 'Authorization: Bearer '${api_token} "
                                         "https://x.invalid/me")
    # URL is a placeholder in a curl command only, not in prose about curl.
    text = to_yaml("- [ ] Use curl against the URL: `curl -fsS URL`\n", "prose.md")
    checklist = parse_checklist(text.encode(), "prose.yaml")
    assert next(checklist.items()).title == "Use curl against the URL: curl -fsS ${url}"
    # Placeholders named like YAML words stay names (found by the generated-markdown test).
    text = to_yaml("- [ ] Set <TRUE> and {{null}}\n", "words.md")
    checklist = parse_checklist(text.encode(), "words.yaml")
    assert sorted(v.name for v in checklist.variables) == ["null", "true"]


def _pods(*phases: str) -> dict[str, object]:
    return {"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"},
            "items": [{"metadata": {"name": f"api-{i}", "labels": {"app": "api"}},
                       "status": {"phase": phase}} for i, phase in enumerate(phases)]}


@pytest.mark.parametrize(("phases", "passes"), [
    (("Running", "Running"), True), (("Running", "Pending"), False), ((), False),
    (("Failed",), False)])
def test_guessed_pod_check_passes_only_when_pods_are_listed_and_all_running(
        phases: tuple[str, ...], passes: bool) -> None:
    # The guess judges the PodList the list probe observes (the kubernetes check's own observation
    # of the body), so an empty list is not a pass.
    from predeploy_tui.core.results import Status
    from predeploy_tui.engine.checks.kubernetes import _list_observation
    from predeploy_tui.engine.expect import judge

    _, checklist = imported("inline-commands.md")
    check = next(checklist.items()).check
    assert check is not None
    assert check.expect is not None
    observed = _list_observation(str(check.params["resource"]), _pods(*phases))
    status, summary = judge(observed, check.expect)
    assert (status is Status.PASS) == passes, summary
