"""A foreign Ansible inventory is read within bounds: one located message, never a traceback or a hang."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from predeploy_tui.engine.inventory import InventoryError, load_inventory

ROOT = Path(__file__).resolve().parents[2]


def _deep_yaml(depth: int) -> str:
    text = "all:\n"
    for level in range(depth):
        text += "  " * (level + 1) + "children:\n" + "  " * (level + 2) + f"g{level}:\n"
    return text


@pytest.mark.parametrize(("text", "words"), [
    # Nested past what any inventory is: the composer would run out of recursion.
    ("all:\n  vars:\n    x: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than"),
    (_deep_yaml(200), "nested more than"),
    # A group that is its own child, through an anchor: visiting it never ends.
    ("all: &top\n  children:\n    web: *top\n", "is its own"),
    # A host range that names a hundred million hosts.
    ("all:\n  hosts:\n    web[0:99999999]:\n", "hosts"),
    # Anchors that double at each level: 2**40 visits of the same groups.
    ("a0: &a0 {hosts: {h: }}\n" + "".join(
        f"a{i}: &a{i} {{children: {{x{i}: *a{i - 1}, y{i}: *a{i - 1}}}}}\n" for i in range(1, 41)),
     "more than"),
], ids=["deep-list", "deep-children", "own-child", "huge-range", "doubling-anchors"])
def test_out_of_bounds_yaml_inventories_are_refused(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / "hosts.yml"
    path.write_text(text)
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    message = str(caught.value)
    assert message.startswith(str(path)), message
    assert words in message, message


def test_out_of_bounds_ini_range_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "hosts.ini"
    path.write_text("[web]\nweb[0:99999999]\n")
    with pytest.raises(InventoryError, match="hosts"):
        load_inventory(path)


def test_a_huge_or_odd_inventory_file_is_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.yml"
    with open(big, "wb") as f:
        f.truncate(9 * 2**20)
    with pytest.raises(InventoryError, match="MiB"):
        load_inventory(big)
    fifo = tmp_path / "fifo.yml"
    os.mkfifo(fifo)
    with pytest.raises(InventoryError, match="regular file"):
        load_inventory(fifo)


def _cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "predeploy_tui.cli", *args], capture_output=True,
                          text=True, timeout=60, cwd=folder, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_plan_and_validate_say_a_broken_inventory_will_not_check(tmp_path: Path) -> None:
    """The plan named the group as if it were one host (``root@web:22``); validate said nothing."""
    (tmp_path / "hosts.yml").write_text(_deep_yaml(200))
    (tmp_path / "c.yaml").write_text(
        "id: c\ntitle: C\ninventory: hosts.yml\nhost_groups:\n  web: {inventory_group: web}\n"
        "sections:\n  - id: s\n    title: S\n    groups:\n      - title: G\n        items:\n"
        "          - id: i\n            title: I\n"
        "            check: {type: ssh, host: web, run: 'true'}\n")
    plan = _cli(tmp_path, "plan", "c.yaml")
    assert plan.returncode == 0, plan.stderr
    assert "Traceback" not in plan.stderr + plan.stdout, plan.stderr
    assert "could not check: " in plan.stdout, plan.stdout
    assert "nested more than 64 deep" in plan.stdout, plan.stdout
    assert "root@web" not in plan.stdout, plan.stdout
    assert "web  cannot resolve: " in plan.stdout, plan.stdout
    validate = _cli(tmp_path, "validate", "c.yaml")
    assert "Traceback" not in validate.stderr, validate.stderr
    assert "warning: the inventory cannot be read" in validate.stderr, validate.stderr
    assert "an inventory is never nested like this" in validate.stderr, validate.stderr


def test_a_long_chain_of_ini_children_is_read(tmp_path: Path) -> None:
    # Two thousand [gN:children] sections, each naming the next: past the recursion limit.
    chain = "".join(f"[g{i}:children]\ng{i + 1}\n" for i in range(2_000))
    path = tmp_path / "hosts.ini"
    path.write_text(chain + "[g2000]\nlast ansible_host=127.0.0.1\n")
    inventory = load_inventory(path)
    assert inventory.group("g0") == ["last"]
    assert inventory.hosts["last"].host == "127.0.0.1"
