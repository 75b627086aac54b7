"""Provides the engine's contracts: transports, the check context, observations and run events.

A check type is an ``async def run(ctx: CheckContext) -> Observation`` in a module of
``engine/checks/``; it measures and reports what it saw, and ``expect.judge`` turns that into
pass / warn / fail. A check that cannot measure raises :class:`CheckError` (or times out), which
becomes an ``error`` result with a readable summary: results are data, never exceptions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from predeploy_tui.core.results import CheckResult, Status

OutputCallback = Callable[[str], None]
"""Receives output as it arrives (text chunks, not necessarily whole lines)."""


class CheckError(Exception):
    """The check could not be judged: the message is the one-line reason a person reads."""


@dataclass(frozen=True)
class CommandResult:
    """What a transport's ``run`` gives back."""

    exit_code: int | None
    """Exit status; None when the command was killed by a signal or the channel closed."""
    stdout: str
    """Standard output, decoded as UTF-8 with replacement."""
    stderr: str = ""
    """Standard error."""
    host: str | None = None
    """Where it ran; None for local."""
    duration: float = 0.0
    """Seconds."""
    cut: int = 0
    """Characters of stdout and stderr that could not be held (see :mod:`engine.capture`)."""

    @property
    def output(self) -> str:
        """stdout followed by stderr, as a person would have seen them."""
        if self.stderr and self.stdout:
            return self.stdout + ("" if self.stdout.endswith("\n") else "\n") + self.stderr
        return self.stdout or self.stderr


# What shells print when a command cannot be found or run: dash ("sh: 1: x: not found",
# "/path/script.sh: 12: x: not found"), bash ("bash: x: command not found", "bash: line 3: x:
# command not found", "bash: /opt/x: No such file or directory"), zsh ("zsh: command not
# found: x"), env ("env: 'x': No such file or directory").
_NOT_FOUND = (
    re.compile(r"^[^\s:]+: (?:line )?\d+: (?:exec: )?([^\s:]+): (?:command )?not found$", re.M),
    re.compile(r"^[^\s:]*sh: (?:exec: )?([^\s:]+): (?:command )?not found$", re.M),
    re.compile(r"^[^\s:]*sh: command not found: (\S+)$", re.M),
    re.compile(r"^[^\s:]*sh: (?:line )?(?:\d+: )?([^\s:]*/[^\s:]*): No such file or directory$",
               re.M),
    re.compile(r"^[^\s:]*env: [\u2018'‘]?([^\s:'\u2019’]+)[\u2019'’]?: No such file or directory$",
               re.M),
)
# Clients whose daemon or server did not answer: the tool ran, but observed nothing.
_UNREACHABLE = re.compile(r"^(Cannot connect to the Docker daemon at \S+?)\.? |"
                          r"^(The connection to the server \S+ was refused)", re.M)
_CANNOT_RUN = re.compile(r"^[^\s:]+: (?:line )?(?:\d+: )?([^\s:]+): (Permission denied|cannot "
                         r"execute[^\n]*|Exec format error)$", re.M)


def could_not_run(result: CommandResult) -> str | None:
    """Why a command's outcome observed nothing, or None: the one "could not check" rule.

    A command (or any command inside a script) that the shell could not find (exit 127, or a
    "not found" line from the shell however the script went on) or could not execute (exit 126)
    ran nothing, and a client whose daemon did not answer (docker, kubectl) observed nothing:
    its exit code is no evidence, so the item is ``error``, never pass or fail. Neither did a
    command killed by a signal finish: its output is partial and nothing says how it would have
    ended (``contains: ok`` would pass a crash). Both transports, local and SSH, apply this to
    what they return.
    """
    if result.exit_code is None:
        return "the command was killed by a signal before it finished (no exit status)"
    for pattern in _NOT_FOUND:
        missing = pattern.search(result.stderr)
        if missing:
            return f"command not found: {missing.group(1)}"
    unreachable = _UNREACHABLE.search(result.stderr)
    if unreachable:
        return f"could not check: {unreachable.group(1) or unreachable.group(2)}"
    cannot = _CANNOT_RUN.search(result.stderr)
    if cannot and (result.exit_code == 126 or "cannot execute" in cannot.group(2)):
        return f"cannot run {cannot.group(1)}: {cannot.group(2)}"
    if result.exit_code == 127:
        return "command not found (exit 127)"
    if result.exit_code == 126:
        return "command found but not executable (exit 126)"
    return None


class Transport(Protocol):
    """Somewhere commands run: this machine or an SSH host. One verb, one result type."""

    @property
    def name(self) -> str:
        """``local`` or the host's name."""
        ...

    async def run(self, command: str | Sequence[str], *, timeout: float,
                  on_output: OutputCallback | None = None,
                  env: Mapping[str, str] | None = None, cwd: str | None = None) -> CommandResult:
        """Run a command; raise CheckError (readable reason) when it cannot be run at all.

        ``timeout`` bounds everything: connecting, opening the channel, running and reading.
        On timeout or cancellation the local process group is killed / the channel closed.
        """
        ...


@dataclass(frozen=True)
class ResolvedCheck:
    """A check with variables filled in, ready to run."""

    type: str
    """The check type."""
    params: Mapping[str, Any]
    """The type's fields with variables substituted (secrets in clear: never save this)."""
    shown: Mapping[str, Any]
    """The same fields with secret values masked: what is displayed and saved."""
    expect: Mapping[str, Any] | None
    """The matcher spec."""
    timeout: float
    """Seconds bounding the whole check."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Secret values the command names as ``$PREDEPLOY_SECRET_n``: the transport passes them in
    the process's environment (or its stdin over SSH), never in argv; never save this."""


@dataclass(frozen=True)
class Observation:
    """What a check saw, before it is judged."""

    output: str = ""
    """Text evidence: command output, response body, query table, certificate details."""
    exit_code: int | None = None
    """Exit code, where there is one."""
    data: Any = None
    """Structured evidence (JSON-able): JMESPath expectations select from it."""
    value: float | str | None = None
    """The check type's headline value, compared by ``expect`` ge/lt/... when no regex or
    jmespath selects another (days until a certificate expires, free bytes, ...)."""
    label: str = ""
    """What ``value`` is, for summaries: "certificate expires in"."""
    unit: str = ""
    """Unit of ``value`` for summaries and for reading thresholds: days, bytes, %, s, ms."""
    status: Status | None = None
    """A verdict the type reached itself (an HTTP status not expected: fail), or None."""
    summary: str = ""
    """The type's own one-line summary, used when nothing else is compared."""
    complete: bool = True
    """False when part of the output could not be held (a cut is marked in it): an expectation
    that reads the output cannot judge it, and the check is error."""


class Connections(Protocol):
    """Per-run shared clients: one SSH connection per host, one HTTP client, cached SDK clients."""

    def transport(self, host: str | None) -> Transport:
        """The local transport (None) or the SSH transport of a host name or alias."""
        ...

    async def to_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run a blocking call on the engine's dedicated, sized thread pool."""
        ...

    def shared(self, key: str, factory: Callable[[], Any]) -> Any:
        """A per-run cached object (an httpx client, a boto3 Session) created on first use."""
        ...


@dataclass
class CheckContext:
    """The narrow view of the world a check type (or a site plugin) gets."""

    item_key: str
    """The item being checked."""
    check: ResolvedCheck
    """What to do."""
    host: str | None
    """The SSH host this run targets (one host of a group), or None for local."""
    connections: Connections
    """Shared clients and the thread pool."""
    output: OutputCallback
    """Stream output to listeners as it arrives (redaction is applied by the engine)."""
    folder: Path
    """The checklist's folder: relative paths (scripts under checks/) start here."""
    variables: Mapping[str, str] = field(default_factory=dict)
    """Session variables (secret ones included: never print them)."""
    is_action: bool = False
    """The item mutates things and was confirmed (postgres runs read-write only then)."""
    deadline: float = 0.0
    """``loop.time()`` by which the check must be done."""
    output_cut: int = 0
    """Characters of command output the transports could not hold in this run."""

    def transport(self) -> Transport:
        """Where this run's commands go: the SSH host, or this machine."""
        return _Noting(self, self.connections.transport(self.host))

    def observed(self, obs: Observation) -> Observation:
        """``obs`` as matchers must take it: incomplete when a command's output was not all held."""
        return replace(obs, complete=False) if self.output_cut and obs.complete else obs

    def remaining(self) -> float:
        """Seconds left before the deadline (at least a little)."""
        import asyncio

        return max(0.05, self.deadline - asyncio.get_running_loop().time())


class _Noting:
    """A transport that notes in its context how much output it could not hold."""

    def __init__(self, ctx: CheckContext, inner: Transport) -> None:
        self._ctx = ctx
        self._inner = inner

    @property
    def name(self) -> str:
        """The wrapped transport's name."""
        return self._inner.name

    async def run(self, command: str | Sequence[str], *, timeout: float,
                  on_output: OutputCallback | None = None,
                  env: Mapping[str, str] | None = None, cwd: str | None = None) -> CommandResult:
        result = await self._inner.run(command, timeout=timeout, on_output=on_output, env=env,
                                       cwd=cwd)
        self._ctx.output_cut += result.cut
        return result


@dataclass(frozen=True)
class ItemStarted:
    """A check began (once per host for a host group)."""

    key: str
    host: str | None
    at: datetime


@dataclass(frozen=True)
class OutputChunk:
    """Output arrived (already redacted)."""

    key: str
    host: str | None
    text: str


@dataclass(frozen=True)
class ItemFinished:
    """An item has its result (the aggregate for a host group)."""

    key: str
    result: CheckResult


RunEvent = ItemStarted | OutputChunk | ItemFinished
Listener = Callable[[RunEvent], None]
"""Receives every event of a run, on the event loop's thread."""
