"""Tests SSH target resolution's ssh_config reading: the remembered line splitting changes nothing."""

from __future__ import annotations

import shlex
from pathlib import Path

import asyncssh.config
import pytest

from predeploy_tui.engine.base import CheckError
from predeploy_tui.engine.sshtarget import Resolver

LINES = ["Host web1 web2", 'IdentityFile "/keys/my key"', "Port=2222", "Port = 2222",
         "ProxyCommand ssh -W %h:%p 'jump host'", "Match exec \"test -f /x\" host *.corp",
         "User o'brien'x", "HostName a\\ b"]


@pytest.mark.parametrize("line", LINES)
def test_asyncssh_splits_config_lines_as_shlex_does(line: str) -> None:
    lexer = asyncssh.config.shlex  # type: ignore[attr-defined]
    first = lexer.split(line)
    assert first == shlex.split(line)
    first.append("changed by the reader")  # each call hands out its own list
    assert lexer.split(line) == shlex.split(line)


def test_a_line_that_does_not_split_fails_every_time(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="No closing quotation"):
        shlex.split('User "unclosed')
    config = tmp_path / "ssh_config"
    config.write_text('Host web\n    User "unclosed\n')
    for _ in range(2):
        with pytest.raises(CheckError, match="No closing quotation"):
            Resolver({}, config, tmp_path / "known_hosts").resolve("web")


def test_each_host_gets_its_own_blocks_from_the_same_lines(tmp_path: Path) -> None:
    config = tmp_path / "ssh_config"
    config.write_text("".join(f"Host h{i}\n    HostName 10.0.0.{i}\n    Port 22{i:02d}\n"
                              for i in range(1, 6)) + "Host *\n    User deploy\n")
    resolver = Resolver({}, config, tmp_path / "known_hosts")
    for _ in range(2):
        for i in range(1, 6):
            target = resolver.resolve(f"h{i}")
            assert (target.address, target.port, target.user) == (f"10.0.0.{i}", 2200 + i,
                                                                  "deploy")
