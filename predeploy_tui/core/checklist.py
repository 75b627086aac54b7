"""Provides the checklist definition: YAML read and validated into typed, immutable objects."""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from predeploy_tui.core import bounds, grouprule
from predeploy_tui.core.crosscheck import VARIABLE_REF as VARIABLE_REF
from predeploy_tui.core.crosscheck import KnownHosts, cross_checks
from predeploy_tui.core.format import ID as ID
from predeploy_tui.core.format import ITEM_REF, PLUGIN_FIELDS, format_spec
from predeploy_tui.core.located import MISSING, LocatedDict, Reader
from predeploy_tui.core.problems import Problem
from predeploy_tui.core.vocab import ItemKind as ItemKind
from predeploy_tui.core.vocab import VerdictStatus
from predeploy_tui.core.yamlnodes import MAX_ITEMS, duplicate_keys, node_problems, syntax_problem

DEFAULT_TIMEOUT = 60.0


class ChecklistError(Exception):
    """A checklist file could not be read; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass(frozen=True)
class Variable:
    """A value asked for when a session starts, used as ``${name}`` in checks."""

    name: str
    """How checks refer to it."""
    prompt: str
    """The question shown in the new-session form."""
    default: str | None = None
    """Pre-filled answer; hosts and endpoints default to the seed's values."""
    required: bool = False
    """The session cannot start without a value."""
    pattern: str | None = None
    """A regular expression the whole value must match."""
    choices: tuple[str, ...] = ()
    """When set, the value must be one of these."""
    secret: bool = False
    """Masked on screen and never saved."""
    description: str = ""
    """Help text shown beside the field."""

    def problem(self, value: str) -> str | None:
        """Why ``value`` is not acceptable, or None when it is."""
        if not value:
            return f"{self.prompt} is required" if self.required else None
        if self.choices and value not in self.choices:
            return f"{self.prompt} must be one of {', '.join(self.choices)}"
        if self.pattern and not re.fullmatch(self.pattern, value):
            return f"{self.prompt} must match {self.pattern}"
        return None


@dataclass(frozen=True)
class Host:
    """An SSH target; its name also works as an ~/.ssh/config alias."""

    name: str
    """How checks refer to it."""
    host: str | None = None
    """Address or name to connect to (default: the name, resolved through ssh_config)."""
    user: str | None = None
    """Login user (default: ssh_config, then the local user)."""
    port: int | str | None = None
    """Port (default: ssh_config, then 22); text holds a ``${variable}`` filled before use."""
    identity_file: str | None = None
    """Private key file (default: agent and ssh_config)."""
    proxy_jump: str | None = None
    """Jump host, as in ssh -J."""


@dataclass(frozen=True)
class HostGroup:
    """Several hosts that one item fans out over."""

    name: str
    """How checks refer to it."""
    hosts: tuple[str, ...]
    """Host names (from ``hosts:``, the inventory, or ssh_config aliases)."""
    inventory_group: str | None = None
    """Take the hosts from this group of the checklist's Ansible inventory."""


@dataclass(frozen=True)
class CheckSpec:
    """An automated check as written in the checklist, before variables are filled in."""

    type: str
    """The check type (shell, ssh, http, ...)."""
    params: Mapping[str, Any]
    """The type's own fields, as written (``expect`` and ``timeout`` excluded)."""
    expect: Mapping[str, Any] | None
    """How the result is judged, or None for the type's default."""
    timeout: float
    """Seconds that bound everything the check does."""

    def as_dict(self) -> dict[str, Any]:
        """The check as plain data, in the checklist's words."""
        out: dict[str, Any] = {"type": self.type, **plain(self.params), "timeout": self.timeout}
        if self.expect is not None:
            out["expect"] = plain(self.expect)
        return out


@dataclass(frozen=True)
class Item:
    """One line of the checklist: a check, a manual tick, or a mutating action."""

    key: str
    """Unique across the checklist: ``section.item`` (``section.parent.child`` for sub-items)."""
    id: str
    """The item's own id within its parent."""
    title: str
    """The seed's wording."""
    kind: ItemKind
    """check: runs automatically; manual: a person ticks it; action: runs only when confirmed."""
    description: str = ""
    """Longer help for the person doing it."""
    critical: bool = False
    """A critical item that is not passed makes the verdict NO GO."""
    depends_on: tuple[str, ...] = ()
    """Keys of items that must pass first; otherwise this one is blocked."""
    fresh_for: float | None = None
    """Seconds a pass stays valid (None: the checklist default)."""
    check: CheckSpec | None = None
    """The automated check or action command."""
    children: tuple[Item, ...] = ()
    """Nested sub-items (the seed's communication items)."""
    section: str = ""
    """Key of the section the item is in."""
    group: str = ""
    """Title of the group the item is in."""
    line: int = 0
    """Line of the checklist where the item starts."""


@dataclass(frozen=True)
class Group:
    """A titled run of items inside a section."""

    title: str
    """The seed's group heading."""
    items: tuple[Item, ...]
    """Items in order."""


@dataclass(frozen=True)
class Section:
    """A numbered part of the checklist."""

    id: str
    """Short id used in item keys."""
    title: str
    """The seed's section heading."""
    groups: tuple[Group, ...]
    """Groups in order."""

    def items(self) -> Iterator[Item]:
        """Every item of the section, sub-items after their parent."""
        for group in self.groups:
            for item in group.items:
                yield from _walk(item)


@dataclass(frozen=True)
class SignoffRole:
    """Someone who must approve the release."""

    role: str
    """Short id: engineering, operations, security, product."""
    title: str
    """What is approved: "Engineering lead approval"."""
    required: bool = True
    """Missing it makes the verdict NO GO."""
    required_when: str | None = None
    """Required only when this header flag is set (``major``)."""

    def is_required(self, flags: Mapping[str, bool]) -> bool:
        """Whether the role is required for a session with these header flags."""
        if self.required_when:
            return bool(flags.get(self.required_when, False))
        return self.required

    def as_dict(self) -> dict[str, Any]:
        """The role as a session file's ``[[roles]]`` table holds it (and sign-offs hash it)."""
        out: dict[str, Any] = {"role": self.role, "title": self.title, "required": self.required}
        if self.required_when is not None:
            out["required_when"] = self.required_when
        return out


@dataclass(frozen=True)
class Choice:
    """A decision option or a risk level, with the seed's explanation."""

    id: str
    """GO / CONDITIONAL GO / NO GO, or low / medium / high."""
    description: str
    """When it applies."""


DEFAULT_DECISIONS = (
    Choice(VerdictStatus.GO, "All checks passed, proceed with deployment"),
    Choice(VerdictStatus.CONDITIONAL_GO, "Minor issues noted, proceed with caution"),
    Choice(VerdictStatus.NO_GO, "Critical issues found, deployment blocked"),
)
DEFAULT_RISKS = (
    Choice("low", "All checks green, standard deployment"),
    Choice("medium", "Some warnings, increased monitoring needed"),
    Choice("high", "Multiple issues, consider postponing"),
)


@dataclass(frozen=True)
class Checklist:
    """A whole pre-deployment checklist."""

    id: str
    """Short id, used in session file names."""
    title: str
    """Shown at the top of the app."""
    description: str = ""
    """What the checklist is for."""
    variables: tuple[Variable, ...] = ()
    """Asked for when a session starts."""
    hosts: Mapping[str, Host] = field(default_factory=dict)
    """SSH targets by name."""
    host_groups: Mapping[str, HostGroup] = field(default_factory=dict)
    """Host groups by name."""
    inventory: str | None = None
    """An Ansible inventory file (INI or YAML) whose groups can be targeted."""
    plugins: Mapping[str, str] = field(default_factory=dict)
    """Site check types: name -> Python file under checks/."""
    sections: tuple[Section, ...] = ()
    """The checklist body."""
    signoffs: tuple[SignoffRole, ...] = ()
    """Approvals the release needs."""
    decisions: tuple[Choice, ...] = DEFAULT_DECISIONS
    """Decision options."""
    risks: tuple[Choice, ...] = DEFAULT_RISKS
    """Risk levels."""
    fresh_for: float | None = None
    """Default seconds a pass stays valid (None: forever)."""
    require_signatures: bool = False
    """Sign-offs must carry an SSH signature."""
    allowed_signers: str | None = None
    """allowed_signers file for verifying sign-off signatures."""
    path: str = ""
    """Where the checklist was read from."""
    sha256: str = ""
    """Hash of the file's bytes."""
    warnings: tuple[Problem, ...] = ()
    """Located warnings: what works but should be written otherwise (``predeploy validate``)."""

    def items(self) -> Iterator[Item]:
        """Every item in checklist order, sub-items after their parent."""
        for section in self.sections:
            yield from section.items()

    def item(self, key: str) -> Item:
        """The item with this key."""
        for item in self.items():
            if item.key == key:
                return item
        raise KeyError(key)

    def variable(self, name: str) -> Variable | None:
        """The variable with this name, if any."""
        return next((v for v in self.variables if v.name == name), None)

    @property
    def folder(self) -> Path:
        """The folder the checklist lives in; relative paths in checks start here."""
        return self._read_from if self.path else Path.cwd()

    @functools.cached_property
    def _read_from(self) -> Path:
        """The resolved folder of ``path``, worked out once: the runner asks for it per check.

        cached_property stores into the instance ``__dict__`` directly, which a frozen dataclass
        without slots allows.
        """
        return Path(self.path).resolve().parent


def _walk(item: Item) -> Iterator[Item]:
    yield item
    for child in item.children:
        yield from _walk(child)


def plain(value: Any) -> Any:
    """Frozen checklist mappings and tuples as plain dicts and lists (for JSON, TOML and SDKs)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _frozen(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


# ---------------------------------------------------------------------------------------------
# Loading.

class _UniqueKeyLoader(yaml.SafeLoader):
    """Composes nodes only; duplicate keys are found by the validator."""


# libyaml composes the same nodes with the same marks about 5x faster (it is most of a checklist's
# load, which is on the way to the first screen); its error messages differ, so a file it refuses
# is composed again by the pure-Python loader, whose message is the one users see.
_FastLoader: type[Any] | None = getattr(yaml, "CSafeLoader", None)


def _compose(text: str) -> yaml.Node | None:
    if _FastLoader is not None:
        try:
            node: yaml.Node | None = yaml.compose(text, Loader=_FastLoader)
            return node
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=_UniqueKeyLoader)


def _measure(text: str) -> None:
    """``bounds.check_yaml`` with the fast parser; the pure one says where a syntax error is."""
    if _FastLoader is not None:
        try:
            bounds.check_yaml(text, _FastLoader)
            return
        except yaml.YAMLError:
            pass
    bounds.check_yaml(text, _UniqueKeyLoader)


HostNames = Callable[[Path | None], KnownHosts | None]
"""Gives the host names from outside a checklist, given its inventory file (if it names one)."""


def load_checklist(path: str | Path, host_names: HostNames | None = None) -> Checklist:
    """Read, validate and build a checklist, or raise :class:`ChecklistError` with every problem.

    With ``host_names`` (``predeploy validate``), a check's host or a host group's member that
    is not a known name, nor a literal host name, is a problem too.
    """
    path = Path(path)
    shown = str(path)
    try:
        data = bounds.read_bytes(path, bounds.MAX_CHECKLIST_BYTES, "checklist")
    except OSError as exc:
        raise ChecklistError([Problem(shown, 1, 1, f"cannot read the file: {exc.strerror}")]) \
            from None
    except bounds.Refused as exc:
        raise ChecklistError([Problem(shown, exc.line, exc.column, exc.message)]) from None
    return parse_checklist(data, shown, host_names)


def parse_checklist(data: bytes, shown: str, host_names: HostNames | None = None) -> Checklist:
    """Validate checklist bytes (from ``shown``) and build the typed objects."""
    # A NUL byte means binary data whatever else is in the file; say so before UTF-8 complains.
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ChecklistError([Problem(shown, line, 1, "the file holds binary data (a NUL byte), "
                                                      "not YAML text")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise ChecklistError([Problem(shown, line, column, "the file is not UTF-8 text "
                                      f"(byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                                      "save it as UTF-8")]) from None
    if len(data) > bounds.MAX_CHECKLIST_BYTES:
        raise ChecklistError([Problem(shown, 1, 1, f"the text is {len(data) / 2**20:.1f} MiB; a "
                                      f"checklist is at most {bounds.MAX_CHECKLIST_BYTES // 2**20}"
                                      " MiB")])
    try:
        _measure(text)
        root = _compose(text)
    except bounds.Refused as exc:
        raise ChecklistError([Problem(shown, exc.line, exc.column, exc.message)]) from None
    except yaml.MarkedYAMLError as exc:
        raise ChecklistError([syntax_problem(exc, shown)]) from None
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow (a control character): say where it is.
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = exc.character if isinstance(exc.character, int) else ord(exc.character)
        raise ChecklistError([Problem(shown, line, column, f"YAML error: the character "
                                      f"U+{code:04X} is not allowed in YAML text")]) from None
    except yaml.YAMLError as exc:
        raise ChecklistError([Problem(shown, 1, 1, f"YAML error: {exc}")]) from None
    if root is None or (isinstance(root, yaml.ScalarNode) and root.tag == "tag:yaml.org,2002:null"):
        raise ChecklistError([Problem(shown, 1, 1, "the file is empty; expected a checklist "
                                                   "mapping with id, title and sections")])
    r = Reader(shown)
    node_problems(root, r)
    if r.problems:
        raise ChecklistError(r.problems)
    duplicate_keys(root, r)
    plugins = _plugin_names(root)
    raw = format_spec(dict.fromkeys(plugins, PLUGIN_FIELDS)).read(root, r)
    known = None
    if host_names is not None and isinstance(raw, LocatedDict):
        inventory = raw.get("inventory")
        known = host_names(None if not isinstance(inventory, str)
                           else Path(shown).resolve().parent / inventory)
    if raw is MISSING or r.problems:
        if raw is not MISSING and isinstance(raw, LocatedDict):
            cross_checks(raw, r, plugins, known)
        raise ChecklistError(r.problems)
    checklist = _build(raw, r, plugins, shown, hashlib.sha256(data).hexdigest(), known)
    if r.problems:
        raise ChecklistError(r.problems)
    return checklist


def _plugin_names(root: yaml.Node) -> list[str]:
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "plugins" \
                and isinstance(value, yaml.MappingNode):
            return [k.value for k, _ in value.value if isinstance(k, yaml.ScalarNode)]
    return []



def _build(raw: LocatedDict, r: Reader, plugins: list[str], shown: str, sha: str,
           known: KnownHosts | None) -> Checklist:
    cross_checks(raw, r, plugins, known)
    if r.problems:
        raise ChecklistError(r.problems)
    all_keys: set[str] = set()

    def keys(item: dict[str, Any], prefix: str) -> None:
        key = f"{prefix}.{item['id']}"
        all_keys.add(key)
        for child in item.get("items", []):
            keys(child, key)

    for section in raw["sections"]:
        for group in section["groups"]:
            for item in group["items"]:
                keys(item, section["id"])
    if len(all_keys) > MAX_ITEMS:
        r.problem(raw.mark_of("sections"), f"{len(all_keys)} items; a checklist holds at most "
                                            f"{MAX_ITEMS} (split it into several checklists)")
        raise ChecklistError(r.problems)

    def build_item(item: LocatedDict, prefix: str, section: str, group: str) -> Item:
        key = f"{prefix}.{item['id']}"
        check = None
        if "check" in item:
            c = dict(item["check"])
            ctype = c.pop("type")
            expect = c.pop("expect", None)
            timeout = c.pop("timeout", DEFAULT_TIMEOUT)
            c.pop("label", None)
            if grouprule.OLD_NAME in c:
                c["need"] = c.pop(grouprule.OLD_NAME)
            check = CheckSpec(ctype, _frozen(c), _frozen(expect) if expect is not None else None,
                              float(timeout))
        kind = ItemKind(item.get("kind", ItemKind.CHECK if check else ItemKind.MANUAL))
        deps = tuple(d if d in all_keys else f"{section}.{d}" for d in item.get("depends_on", []))
        return Item(
            key=key, id=item["id"], title=item["title"], kind=kind,
            description=item.get("description", ""), critical=item.get("critical", False),
            depends_on=deps, fresh_for=item.get("fresh_for"), check=check,
            children=tuple(build_item(ch, key, section, group) for ch in item.get("items", [])),
            section=section, group=group, line=item.line,
        )

    sections = tuple(
        Section(s["id"], s["title"], tuple(
            Group(g["title"], tuple(build_item(i, s["id"], s["id"], g["title"]) for i in g["items"]))
            for g in s["groups"]))
        for s in raw["sections"])
    variables = tuple(
        Variable(name=name, prompt=v.get("prompt", name), default=v.get("default"),
                 required=v.get("required", False), pattern=v.get("pattern"),
                 choices=tuple(v.get("choices", ())), secret=v.get("secret", False),
                 description=v.get("description", ""))
        for name, v in raw.get("variables", {}).items())
    hosts = {name: Host(name=name, host=h.get("host"), user=h.get("user"),
                        port=h.get("port"),
                        identity_file=h.get("identity_file"), proxy_jump=h.get("proxy_jump"))
             for name, h in raw.get("hosts", {}).items()}
    groups = {name: HostGroup(name, tuple(g.get("hosts", ())), g.get("inventory_group"))
              for name, g in raw.get("host_groups", {}).items()}
    signoffs = tuple(SignoffRole(s["role"], s["title"], s.get("required", "required_when" not in s),
                                 s.get("required_when")) for s in raw.get("signoffs", []))
    decisions = tuple(Choice(d["id"], d.get("description", "")) for d in raw.get("decisions", [])) \
        or DEFAULT_DECISIONS
    risks = tuple(Choice(d["id"], d.get("description", "")) for d in raw.get("risks", [])) \
        or DEFAULT_RISKS
    return Checklist(
        id=raw["id"], title=raw["title"], description=raw.get("description", ""),
        variables=variables, hosts=MappingProxyType(hosts), host_groups=MappingProxyType(groups),
        inventory=raw.get("inventory"), plugins=MappingProxyType(dict(raw.get("plugins", {}))),
        sections=sections, signoffs=signoffs, decisions=decisions, risks=risks,
        fresh_for=raw.get("fresh_for"), require_signatures=raw.get("require_signatures", False),
        allowed_signers=raw.get("allowed_signers"), path=shown, sha256=sha,
        warnings=tuple(sorted(r.warnings)),
    )


def json_schema() -> dict[str, Any]:
    """The checklist format as JSON Schema (draft 2020-12), for editors."""
    spec = format_spec()
    assert ITEM_REF.target is not None
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://predeploy.invalid/checklist.schema.json",
            "title": "predeploy checklist", **spec.schema(),
            "$defs": {"item": ITEM_REF.target.schema()}}
