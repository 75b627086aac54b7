"""Tests host names checked offline by ``predeploy validate``: ssh_config aliases, hosts, groups."""

from __future__ import annotations

from pathlib import Path

import pytest

from predeploy_tui.cli import main
from predeploy_tui.core.checklist import ChecklistError, load_checklist
from predeploy_tui.engine.hostnames import known_hosts, ssh_config_hosts

SSH_CONFIG = """\
# the deployer's aliases
Host web1 web2
    HostName 127.0.0.1
Host db-* !db-old
    User postgres
Host=gpu1
Host *
    ServerAliveInterval 30
Include extra/*.conf
"""


def checklist(hosts: str, *targets: str) -> str:
    """A checklist with a ``hosts:``/``host_groups:`` block and one ssh item per target."""
    items = "\n".join(f"          - {{id: i{n}, title: I, check: {{type: ssh, run: 'true', "
                      f"host: '{t}'}}}}" for n, t in enumerate(targets))
    return (f"id: c\ntitle: C\n{hosts}sections:\n  - id: s\n    title: S\n    groups:\n"
            f"      - title: G\n        items:\n{items}\n")


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "ssh" / "config"
    (tmp_path / "ssh" / "extra").mkdir(parents=True)
    path.write_text(SSH_CONFIG, encoding="utf-8")
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / ".ssh" / "extra").mkdir(parents=True)
    (tmp_path / ".ssh" / "extra" / "cache.conf").write_text("Host cache\n", encoding="utf-8")
    monkeypatch.setenv("PREDEPLOY_SSH_CONFIG", str(path))
    monkeypatch.chdir(tmp_path)
    return path


def validate(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    (tmp_path / "c.yaml").write_text(text, encoding="utf-8")
    code = main(["validate", "c.yaml"])
    return code, capsys.readouterr().err


def test_the_ssh_config_gives_names_and_patterns_but_not_a_bare_star(config: Path) -> None:
    names, patterns = ssh_config_hosts(config)
    assert names == {"web1", "web2", "gpu1", "cache"}
    assert patterns == ["db-*"]


def test_aliases_and_literal_hosts_are_valid_without_a_hosts_section(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = validate(tmp_path, checklist("", "web1", "db-7", "cache", "app.example.com",
                                             "10.0.0.5", "::1", "deploy@gpu1:2222",
                                             "localhost"), capsys)
    assert (code, err) == (0, "")


def test_a_typo_is_reported_without_a_hosts_section(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = validate(tmp_path, checklist("", "web1", "wbe1"), capsys)
    assert code == 2
    assert err.startswith("c.yaml:10:")
    assert "unknown host 'wbe1' (did you mean 'web1'?); expected a name from hosts, " \
           f"host_groups or the inventory, a Host of the ssh_config {config}" in err
    assert err.count("\n") == 1


def test_aliases_mix_with_a_hosts_section_and_a_typo_is_still_reported(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hosts = ("hosts:\n  bastion: {host: 127.0.0.1}\nhost_groups:\n"
             "  fleet: {hosts: [bastion, web2, wbe2]}\n")
    code, err = validate(tmp_path, checklist(hosts, "bastion", "web2", "fleet", "bastoin"),
                         capsys)
    assert code == 2
    lines = err.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("c.yaml:6:")
    assert "unknown host 'wbe2' (did you mean" in lines[0]
    assert lines[1].startswith("c.yaml:16:")
    assert "unknown host 'bastoin' (did you mean 'bastion'?)" in lines[1]


def test_an_alias_missing_from_the_ssh_config_is_reported(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PREDEPLOY_SSH_CONFIG", str(tmp_path / "absent"))
    monkeypatch.chdir(tmp_path)
    code, err = validate(tmp_path, checklist("", "web1"), capsys)
    assert code == 2
    assert "unknown host 'web1'" in err


def test_inventory_hosts_and_groups_are_known(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "inventory.ini").write_text("[gpus]\ngpu-a ansible_host=127.0.0.1\n",
                                            encoding="utf-8")
    code, err = validate(tmp_path, "inventory: inventory.ini\n"
                         + checklist("", "gpus", "gpu-a", "gpu-b"), capsys)
    assert code == 2
    assert "unknown host 'gpu-b'" in err
    assert "'gpus'" not in err.split("did you mean")[0]
    assert err.count("\n") == 1


def test_an_unreadable_inventory_reports_no_names_it_cannot_see(config: Path) -> None:
    assert known_hosts(config.parent / "absent.ini") is None


def test_loading_for_a_run_does_not_read_the_ssh_config(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PREDEPLOY_SSH_CONFIG", str(tmp_path / "absent"))
    path = tmp_path / "c.yaml"
    path.write_text(checklist("hosts:\n  web1: {host: 127.0.0.1}\n", "some-alias", "web1"),
                    encoding="utf-8")
    load_checklist(path)  # an alias the loader cannot see is left to the run
    path.write_text(checklist("hosts:\n  web1: {host: 127.0.0.1}\n", "wbe1"), encoding="utf-8")
    with pytest.raises(ChecklistError, match="did you mean 'web1'"):
        load_checklist(path)


def test_aggregate_is_read_as_need_with_a_located_warning(
        config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = ("id: c\ntitle: C\nhost_groups:\n  fleet: {hosts: [web1, web2]}\nsections:\n"
            "  - id: s\n    title: S\n    groups:\n      - title: G\n        items:\n"
            "          - {id: d, title: D, check: {type: disk, host: fleet, aggregate: any}}\n")
    code, err = validate(tmp_path, text, capsys)
    assert code == 0
    assert err == ("c.yaml:11:64: warning: aggregate is the old name of need (how many hosts "
                   "must pass, the rule expect.need applies to list elements); write need\n")
    check = load_checklist(tmp_path / "c.yaml").item("s.d").check
    assert check is not None
    assert check.params["need"] == "any"
    assert "aggregate" not in check.params
