"""Tests host groups (aggregation over stand-in hosts), Ansible inventories and site plugins.

The stand-in transport here only answers ``df`` and ``/proc/meminfo`` like a host would: SSH itself
is tested against a real sshd by the integration tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from predeploy_tui.core.checklist import Checklist
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.engine.base import (
    CheckError,
    CommandResult,
    ItemStarted,
    Observation,
    OutputCallback,
    RunEvent,
)
from predeploy_tui.engine.connections import RunConnections
from predeploy_tui.engine.expect import judge
from predeploy_tui.engine.inventory import expand, parse_ini_inventory, parse_yaml_inventory
from predeploy_tui.engine.plan import aggregate
from predeploy_tui.engine.runner import Runner

Make = Callable[..., Checklist]
Items = Callable[..., str]


class StandInHost:
    """Answers df like a host with ``free_gb`` free; 'down' hosts refuse."""

    def __init__(self, name: str, free_gb: float | None) -> None:
        self.name = name
        self.free_gb = free_gb
        self.commands: list[str] = []

    async def run(self, command: str | Sequence[str], *, timeout: float,
                  on_output: OutputCallback | None = None, env: Mapping[str, str] | None = None,
                  cwd: str | None = None) -> CommandResult:
        self.commands.append(str(command))
        await asyncio.sleep(0.05)
        if self.free_gb is None:
            raise CheckError(f"{self.name}: connection refused")
        free_kb = int(self.free_gb * 1e9 / 1024)
        out = ("Filesystem 1024-blocks Used Available Capacity Mounted on\n"
               f"/dev/sda1 {free_kb * 2} {free_kb} {free_kb} 50% /\n")
        if on_output:
            on_output(out)
        return CommandResult(0, out, host=self.name)


class StandInConnections(RunConnections):
    def __init__(self, hosts: dict[str, StandInHost]) -> None:
        super().__init__()
        self.hosts = hosts

    def transport(self, host: str | None) -> StandInHost:  # type: ignore[override]
        assert host is not None
        return self.hosts[host]


GROUPS = """
hosts:
  web1: {host: 127.0.0.1}
  web2: {host: 127.0.0.1}
  web3: {host: 127.0.0.1}
host_groups:
  web: {hosts: [web1, web2, web3]}
"""


@pytest.mark.parametrize(("aggregate", "status", "summary"), [
    ("all", Status.FAIL, "2 of 3 hosts passed (need all); web3: free 2 GB < 10 GB"),
    ("any", Status.PASS, "2 of 3 hosts passed (need any)"),
    ("{at_least: 2}", Status.PASS, "2 of 3 hosts passed (need at least 2)"),
    ("{at_least: 3}", Status.FAIL, "2 of 3 hosts passed (need at least 3); web3: free 2 GB < 10 GB"),
])
@pytest.mark.parametrize("keyword", ["need", "aggregate"])
async def test_host_group_fans_out_and_aggregates(make_checklist: Make, items: Items, aggregate: str,
                                                  status: Status, summary: str,
                                                  keyword: str) -> None:
    checklist = make_checklist(items(
        f"{{id: disk, title: Disk, check: {{type: disk, host: web, {keyword}: {aggregate}, "
        "expect: {ge: 10GB}}}"), head=GROUPS)
    hosts = {"web1": StandInHost("web1", 50), "web2": StandInHost("web2", 20),
             "web3": StandInHost("web3", 2)}
    events: list[RunEvent] = []
    runner = Runner(checklist, {}, by="ann", listeners=[events.append],
                    connections=StandInConnections(hosts))
    result = (await runner.run())["s.disk"]
    assert (result.status, result.summary) == (status, summary)
    assert [h.host for h in result.hosts] == ["web1", "web2", "web3"]
    assert [h.status for h in result.hosts] == [Status.PASS, Status.PASS, Status.FAIL]
    assert all(h.by == "ann" for h in result.hosts)
    assert sorted(e.host or "" for e in events if isinstance(e, ItemStarted)) == ["web1", "web2", "web3"]
    assert hosts["web1"].commands == ["df -Pk /"]


async def test_unreachable_host_makes_the_group_error_not_fail(make_checklist: Make,
                                                               items: Items) -> None:
    checklist = make_checklist(items(
        "{id: disk, title: Disk, check: {type: disk, host: web, expect: {ge: 1GB}}}"), head=GROUPS)
    hosts = {"web1": StandInHost("web1", 50), "web2": StandInHost("web2", None),
             "web3": StandInHost("web3", 20)}
    runner = Runner(checklist, {}, by="ann", connections=StandInConnections(hosts))
    result = (await runner.run())["s.disk"]
    assert result.status is Status.ERROR
    assert result.summary == "2 of 3 hosts passed (need all); web2: web2: connection refused"


INI = """
# production
[web]
web[01:02].example.com ansible_user=deploy
db.example.com ansible_host=10.0.0.5 ansible_port=2222

[db]
db.example.com

[prod:children]
web
db

[prod:vars]
ansible_user=ops
"""

YAML = """
all:
  children:
    web:
      hosts:
        web01.example.com: {ansible_user: deploy}
        web02.example.com:
    db:
      hosts:
        db.example.com: {ansible_host: 10.0.0.5, ansible_port: 2222}
      vars: {ansible_user: ops}
"""


def test_ini_inventory_groups_children_ranges_and_vars() -> None:
    inv = parse_ini_inventory(INI)
    assert inv.group("web") == ["web01.example.com", "web02.example.com", "db.example.com"]
    assert inv.group("prod") == ["web01.example.com", "web02.example.com", "db.example.com"]
    assert inv.hosts["web01.example.com"].user == "deploy"
    db = inv.hosts["db.example.com"]
    assert (db.host, db.port, db.user) == ("10.0.0.5", 2222, "ops")


def test_yaml_inventory_groups_and_vars() -> None:
    inv = parse_yaml_inventory(YAML)
    assert inv.group("web") == ["web01.example.com", "web02.example.com"]
    assert inv.group("all") == ["web01.example.com", "web02.example.com", "db.example.com"]
    db = inv.hosts["db.example.com"]
    assert (db.host, db.port, db.user) == ("10.0.0.5", 2222, "ops")
    assert inv.hosts["web01.example.com"].user == "deploy"


def test_range_expansion() -> None:
    assert expand("node[a:c].lan") == \
        ["nodea.lan", "nodeb.lan", "nodec.lan"]
    assert expand("w[8:10]") == ["w8", "w9", "w10"]


async def test_item_targets_an_inventory_group(make_checklist: Make, items: Items,
                                               tmp_path: Path) -> None:
    (tmp_path / "hosts.ini").write_text("[app]\napp1\napp2\n")
    checklist = make_checklist(items(
        "{id: disk, title: Disk, check: {type: disk, host: app, expect: {ge: 1GB}}}"),
        head="inventory: hosts.ini\n")
    hosts = {"app1": StandInHost("app1", 5), "app2": StandInHost("app2", 6)}
    runner = Runner(checklist, {}, by="ann", connections=StandInConnections(hosts))
    result = (await runner.run())["s.disk"]
    assert result.status is Status.PASS
    assert result.summary == "2 of 2 hosts passed (need all)"
    assert [p.host for p in runner.plan()] == ["app1", "app2"]


PLUGIN = '''
"""A site check: counts words a local command prints."""
from predeploy_tui.engine.base import Observation


async def run(ctx):
    result = await ctx.transport().run(ctx.check.params["run"], timeout=ctx.remaining(),
                                       on_output=ctx.output)
    words = len(result.stdout.split())
    return Observation(output=result.stdout, exit_code=result.exit_code, value=words,
                       label="words", summary=f"{words} words ({ctx.variables['env']})")


DESCRIPTION = "count words of: {run}"
'''


async def test_site_plugin_gets_the_narrow_context(make_checklist: Make, items: Items,
                                                   tmp_path: Path) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "words.py").write_text(PLUGIN)
    checklist = make_checklist(items(
        "{id: w, title: Words, check: {type: words, run: 'echo a b c ${env}', expect: {ge: 4}}}",
        "{id: plain, title: Plain, check: {type: words, run: 'echo a'}}"),
        head="variables: {env: {default: staging}}\nplugins: {words: checks/words.py}\n")
    runner = Runner(checklist, {"env": "staging"}, by="ann")
    results = await runner.run()
    assert (results["s.w"].status, results["s.w"].summary) == (Status.PASS, "words 4 >= 4")
    assert results["s.plain"].summary == "1 words (staging)"
    assert runner.plan()[0].target == "count words of: echo a b c staging"


async def test_broken_plugin_is_an_error_result(make_checklist: Make, items: Items,
                                                tmp_path: Path) -> None:
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "bad.py").write_text("def run(ctx):\n    return None\n")
    checklist = make_checklist(items("{id: b, title: B, check: {type: bad, run: x}}"),
                               head="plugins: {bad: checks/bad.py}\n")
    result = (await Runner(checklist, {}, by="ann").run())["s.b"]
    assert result.status is Status.ERROR
    assert "async def run(ctx)" in result.summary


# -- one group rule for host groups and `each` -------------------------------------------------

@pytest.mark.parametrize("rule", ["all", "any", {"at_least": 1}, {"at_least": 2}])
@pytest.mark.parametrize(("passes", "warns", "fails"), [(0, 0, 0), (1, 0, 0), (0, 1, 0), (1, 0, 1),
                                                        (2, 0, 1), (0, 0, 2), (1, 1, 1)])
def test_host_groups_and_each_judge_members_by_the_same_rule(
        rule: object, passes: int, warns: int, fails: int) -> None:
    # Given the same members, once as per-host results and once as the elements of `each`,
    hosts = [CheckResult(Status.PASS, "ok", host=f"h{i}") for i in range(passes)] \
        + [CheckResult(Status.WARN, "low", host=f"w{i}") for i in range(warns)] \
        + [CheckResult(Status.FAIL, "bad", host=f"f{i}") for i in range(fails)]
    values = [50] * passes + [35] * warns + [10] * fails
    # when both are judged under the same rule,
    group, _ = aggregate(hosts, rule)
    each, _ = judge(Observation(data={"v": values}),
                    {"each": "v[*]", "gt": 30, "warn": {"gt": 40}, "need": rule})
    # then they agree (a group with no member that failed outright, none observed, cannot pass).
    assert group is each or (group is Status.ERROR and each is Status.FAIL and not fails)


@pytest.mark.parametrize("rule", ["all", "any", {"at_least": 1}])
def test_no_rule_passes_over_no_members(rule: object) -> None:
    # Nothing was observed: passing would be a GO on no evidence ("0 of 0 nodes have ..." passed
    # under `all` before, and so did every rule of an empty host group's aggregate).
    assert aggregate([], rule)[0] is Status.ERROR
    status, summary = judge(Observation(data={"v": []}), {"each": "v[*]", "gt": 0, "need": rule})
    assert status is Status.FAIL, summary
    assert summary.startswith("0 of 0 ")


def test_at_least_zero_is_refused_by_the_checklist_format(tmp_path: Path) -> None:
    from predeploy_tui.core.checklist import ChecklistError, load_checklist

    path = tmp_path / "c.yaml"
    path.write_text("id: t\ntitle: T\nsections:\n  - id: s\n    title: S\n    groups:\n"
                    "      - title: G\n        items:\n          - id: a\n            title: A\n"
                    "            check: {type: shell, run: 'echo []', expect: {each: '[*]', gt: 0,"
                    " need: {at_least: 0}}}\n")
    with pytest.raises(ChecklistError) as caught:
        load_checklist(path)
    assert "at_least" in str(caught.value)
