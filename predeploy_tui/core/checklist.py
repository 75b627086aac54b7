"""Provides the checklist definition: YAML read and validated into typed, immutable objects."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import yaml

from predeploy_tui.core.checkspec import CHECK_TYPES, check_spec
from predeploy_tui.core.spec import (
    MISSING,
    Bool,
    Duration,
    ListOf,
    LocatedDict,
    LocatedList,
    MapOf,
    Obj,
    OneOf,
    Problem,
    Reader,
    Ref,
    Spec,
    Text,
    suggest,
)

ItemKind = Literal["check", "manual", "action"]
ID = r"[a-z0-9][a-z0-9_-]*"
VARIABLE_REF = re.compile(r"\$\{([^}]*)\}")
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
    port: int | None = None
    """Port (default: ssh_config, then 22)."""
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
        out: dict[str, Any] = {"type": self.type, **_plain(self.params), "timeout": self.timeout}
        if self.expect is not None:
            out["expect"] = _plain(self.expect)
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
        if self.required_when is not None:
            return bool(flags.get(self.required_when, False))
        return self.required


@dataclass(frozen=True)
class Choice:
    """A decision option or a risk level, with the seed's explanation."""

    id: str
    """GO / CONDITIONAL GO / NO GO, or low / medium / high."""
    description: str
    """When it applies."""


DEFAULT_DECISIONS = (
    Choice("GO", "All checks passed, proceed with deployment"),
    Choice("CONDITIONAL GO", "Minor issues noted, proceed with caution"),
    Choice("NO GO", "Critical issues found, deployment blocked"),
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
        return Path(self.path).resolve().parent if self.path else Path.cwd()


def _walk(item: Item) -> Iterator[Item]:
    yield item
    for child in item.children:
        yield from _walk(child)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _frozen(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({str(k): _frozen(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(v) for v in value)
    return value


# ---------------------------------------------------------------------------------------------
# The format.

VARIABLE = Obj(
    {
        "prompt": Text("the question in the new-session form"),
        "default": Text("pre-filled answer"),
        "required": Bool("a value must be given"),
        "pattern": Text("a regular expression the value must match", check=lambda v: _regex_problem(v)),
        "choices": ListOf(Text(), description="allowed values"),
        "secret": Bool("masked on screen, never saved"),
        "description": Text("help text"),
    },
    description="a value asked for when a session starts",
)

HOST = Obj(
    {
        "host": Text("address or name to connect to"),
        "user": Text("login user"),
        "port": OneOf(scalar=Text(pattern=r"\d{1,5}"), description="SSH port"),
        "identity_file": Text("private key file"),
        "proxy_jump": Text("jump host, as in ssh -J"),
    },
    description="an SSH target",
)

HOST_GROUP = Obj(
    {
        "hosts": ListOf(Text(), description="host names"),
        "inventory_group": Text("take the hosts from this inventory group"),
    },
    description="hosts an item can fan out over",
)


def _regex_problem(value: Any) -> str | None:
    try:
        re.compile(str(value))
    except re.error as exc:
        return f"invalid regular expression: {exc}"
    return None


ITEM_REF = Ref("item")
"""Sub-items follow the same rule as items; the reference breaks the recursion."""


def _item_spec(plugins: dict[str, dict[str, Spec]]) -> Obj:
    item = Obj(
        {
            "id": Text("unique within its group's section", pattern=ID),
            "title": Text("what is being verified, in the checklist's words"),
            "description": Text("help for the person doing it"),
            "kind": Text(choices=("check", "manual", "action"),
                         description="check (default with a check), manual (default without), "
                                     "action (mutating: confirmed before it runs)"),
            "critical": Bool("NO GO unless this passes"),
            "depends_on": ListOf(Text(), single=True,
                                 description="items that must pass first (id or section.id)"),
            "fresh_for": Duration("a pass older than this is stale"),
            "check": check_spec(plugins),
            "items": ListOf(ITEM_REF, description="nested sub-items"),
        },
        required=("id", "title"),
        description="one checklist item",
    )
    return item


def format_spec(plugins: dict[str, dict[str, Spec]] | None = None) -> Obj:
    """The whole checklist format, with any plugin check types."""
    plugins = plugins or {}
    item = _item_spec(plugins)
    ITEM_REF.target = item
    group = Obj({"title": Text("group heading"), "items": ListOf(ITEM_REF)},
                required=("title", "items"), description="a titled run of items")
    section = Obj({"id": Text("short id used in item keys", pattern=ID),
                   "title": Text("section heading"), "groups": ListOf(group)},
                  required=("id", "title", "groups"), description="a part of the checklist")
    signoff = Obj({"role": Text(pattern=ID), "title": Text(), "required": Bool(),
                   "required_when": Text(choices=("major",),
                                         description="required only when this header flag is set")},
                  required=("role", "title"), description="an approval the release needs")
    choice = Obj({"id": Text(), "description": Text()}, required=("id",), shorthand="id")
    return Obj(
        {
            "id": Text("short id, used in session file names", pattern=ID),
            "title": Text("shown at the top of the app"),
            "description": Text("what the checklist is for"),
            "fresh_for": Duration("default: a pass older than this is stale"),
            "variables": MapOf(VARIABLE, key_pattern=r"[A-Za-z_][A-Za-z0-9_]*",
                               description="asked for when a session starts"),
            "hosts": MapOf(HOST, description="SSH targets by name"),
            "host_groups": MapOf(HOST_GROUP, description="host groups by name"),
            "inventory": Text("an Ansible inventory file (INI or YAML)"),
            "plugins": MapOf(Text(), key_pattern=ID,
                             description="site check types: name -> Python file under checks/"),
            "require_signatures": Bool("sign-offs must carry an SSH signature"),
            "allowed_signers": Text("allowed_signers file for sign-off signatures"),
            "sections": ListOf(section, min_items=1),
            "signoffs": ListOf(signoff),
            "decisions": ListOf(choice),
            "risks": ListOf(choice),
        },
        required=("id", "title", "sections"),
        description="a pre-deployment checklist for predeploy",
    )


PLUGIN_FIELDS: dict[str, Spec] = {
    "run": Text("command or argument for the plugin"),
    "host": Text("an SSH host or group"),
    "params": MapOf(Text(), description="plugin parameters"),
}


# ---------------------------------------------------------------------------------------------
# Loading.

class _UniqueKeyLoader(yaml.SafeLoader):
    """Composes nodes only; duplicate keys are found by the validator."""


def load_checklist(path: str | Path) -> Checklist:
    """Read, validate and build a checklist, or raise :class:`ChecklistError` with every problem."""
    path = Path(path)
    shown = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ChecklistError([Problem(shown, 1, 1, f"cannot read the file: {exc.strerror}")]) from exc
    return parse_checklist(data, shown)


def parse_checklist(data: bytes, shown: str) -> Checklist:
    """Validate checklist bytes (from ``shown``) and build the typed objects."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ChecklistError([Problem(shown, line, 1, "the file is not UTF-8 text "
                                      f"(byte 0x{data[exc.start]:02x} at offset {exc.start})")]) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ChecklistError([Problem(shown, line, 1, "the file holds binary data (a NUL byte), "
                                                      "not YAML text")])
    try:
        root = yaml.compose(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or "invalid YAML"
        if "\t" in what or "tab" in what.lower():
            what = "a tab character where YAML needs spaces for indentation"
        raise ChecklistError([Problem(shown, line, col, f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise ChecklistError([Problem(shown, 1, 1, f"YAML error: {exc}")]) from None
    if root is None:
        raise ChecklistError([Problem(shown, 1, 1, "the file is empty; expected a checklist "
                                                   "mapping with id, title and sections")])
    r = Reader(shown)
    _duplicate_keys(root, r)
    plugins = _plugin_names(root)
    raw = format_spec(dict.fromkeys(plugins, PLUGIN_FIELDS)).read(root, r)
    if raw is MISSING or r.problems:
        if raw is not MISSING and isinstance(raw, LocatedDict):
            _cross_checks(raw, r, plugins)
        raise ChecklistError(r.problems)
    checklist = _build(raw, r, plugins, shown, hashlib.sha256(data).hexdigest())
    if r.problems:
        raise ChecklistError(r.problems)
    return checklist


def _duplicate_keys(node: yaml.Node, r: Reader) -> None:
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in current.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value in seen:
                        r.at(key_node, f"duplicate key {key_node.value!r} (first on line "
                                       f"{seen[key_node.value]})")
                    else:
                        seen[key_node.value] = key_node.start_mark.line + 1
                stack.append(value_node)
        elif isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)


def _plugin_names(root: yaml.Node) -> list[str]:
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "plugins" \
                and isinstance(value, yaml.MappingNode):
            return [k.value for k, _ in value.value if isinstance(k, yaml.ScalarNode)]
    return []


def _cross_checks(raw: LocatedDict, r: Reader, plugins: list[str]) -> None:
    """Checks that need the whole document: ids, references, variables, check types."""
    known_types = [*CHECK_TYPES, *plugins]
    variables = set(raw.get("variables", {}))
    hosts = set(raw.get("hosts", {})) | set(raw.get("host_groups", {}))
    seen_sections: dict[str, int] = {}
    all_keys: dict[str, tuple[int, int]] = {}
    refs: list[tuple[str, str, str, tuple[int, int]]] = []  # (item key, section, ref, mark)

    def visit(item: LocatedDict, prefix: str, section: str) -> None:
        if "id" not in item:
            return
        key = f"{prefix}.{item['id']}"
        if key in all_keys:
            r.problem(item.mark_of("id"), f"duplicate item id {item['id']!r} "
                                          f"(first on line {all_keys[key][0]})")
        else:
            all_keys[key] = item.mark_of("id")
        check = item.get("check")
        if isinstance(check, LocatedDict):
            ctype = check.get("type")
            if ctype is not None and ctype not in known_types:
                r.problem(check.mark_of("type"), f"unknown check type {ctype!r}"
                          f"{suggest(str(ctype), known_types)}; expected one of "
                          + ", ".join(known_types))
            _variable_refs(check, r, variables)
            target = check.get("host")
            if isinstance(target, str) and "${" not in target and hosts and target not in hosts \
                    and ctype in ("ssh", "disk", "memory", "gpu"):
                # ssh_config aliases are allowed too, so only warn-level names close to a known one
                hint = suggest(target, sorted(hosts))
                if hint:
                    r.problem(check.mark_of("host"), f"unknown host {target!r}{hint}")
        if item.get("kind") in ("check", "action") and "check" not in item:
            r.problem(item.mark_of("kind"), f"a {item['kind']} item needs a 'check' "
                                            "(the command to run)")
        deps = item.get("depends_on")
        if isinstance(deps, LocatedList):
            for dep, mark in zip(deps, deps.marks, strict=False):
                refs.append((key, section, dep, mark))
        for child in item.get("items", []):
            if isinstance(child, LocatedDict):
                visit(child, key, section)

    for section in raw.get("sections", []):
        sid = section.get("id")
        if sid is None:
            continue
        if sid in seen_sections:
            r.problem(section.mark_of("id"), f"duplicate section id {sid!r} "
                                             f"(first on line {seen_sections[sid]})")
        seen_sections[sid] = section.mark_of("id")[0]
        for group in section.get("groups", []):
            for item in group.get("items", []):
                visit(item, sid, sid)

    graph: dict[str, list[str]] = {k: [] for k in all_keys}
    for key, section, ref, mark in refs:
        target = ref if ref in all_keys else f"{section}.{ref}"
        if target not in all_keys:
            r.problem(mark, f"depends_on {ref!r} names no item{suggest(ref, list(all_keys))}")
            continue
        if target == key:
            r.problem(mark, f"item {key!r} depends on itself")
            continue
        graph[key].append(target)
    _cycles(graph, all_keys, r)

    for name in variables:
        var = raw["variables"][name]
        default, choices = var.get("default"), var.get("choices")
        if default is not None and choices and default not in choices:
            r.problem(var.mark_of("default"), f"default {default!r} is not one of the choices "
                                              + ", ".join(choices))
        if default is not None and "pattern" in var and not re.fullmatch(var["pattern"], default):
            r.problem(var.mark_of("default"), f"default {default!r} does not match the pattern "
                                              f"{var['pattern']}")
    for name in raw.get("host_groups", {}):
        group = raw["host_groups"][name]
        if "hosts" not in group and "inventory_group" not in group:
            r.problem((group.line, group.column), f"host group {name!r} needs hosts or "
                                                  "inventory_group")
        if "inventory_group" in group and "inventory" not in raw:
            r.problem(group.mark_of("inventory_group"), "inventory_group needs a top-level "
                                                         "'inventory' file")
    roles: dict[str, int] = {}
    for signoff in raw.get("signoffs", []):
        role = signoff.get("role")
        if role in roles:
            r.problem(signoff.mark_of("role"), f"duplicate sign-off role {role!r} "
                                               f"(first on line {roles[role]})")
        elif role is not None:
            roles[role] = signoff.mark_of("role")[0]


def _variable_refs(value: Any, r: Reader, variables: set[str], mark: tuple[int, int] = (0, 0)) \
        -> None:
    if isinstance(value, LocatedDict):
        for key, child in value.items():
            _variable_refs(child, r, variables, value.mark_of(key))
    elif isinstance(value, LocatedList):
        for child, child_mark in zip(value, value.marks, strict=False):
            _variable_refs(child, r, variables, child_mark)
    elif isinstance(value, str):
        for match in VARIABLE_REF.finditer(value):
            name = match.group(1)
            if name.startswith("env:"):
                if not re.fullmatch(r"env:[A-Za-z_][A-Za-z0-9_]*", name):
                    r.problem(mark, f"${{{name}}} is not a valid environment reference "
                                    "(expected ${env:NAME})")
                continue
            if name not in variables:
                r.problem(mark, f"unknown variable ${{{name}}}{suggest(name, sorted(variables))}; "
                                "declare it under 'variables'")


def _cycles(graph: dict[str, list[str]], marks: dict[str, tuple[int, int]], r: Reader) -> None:
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()

    def dfs(node: str, trail: list[str]) -> None:
        state[node] = 1
        trail.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycle = trail[trail.index(nxt):]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    r.problem(marks[nxt], "depends_on forms a cycle: "
                                          + " -> ".join([*cycle, nxt]))
            elif state.get(nxt) is None:
                dfs(nxt, trail)
        trail.pop()
        state[node] = 2

    for node in graph:
        if state.get(node) is None:
            dfs(node, [])


def _build(raw: LocatedDict, r: Reader, plugins: list[str], shown: str, sha: str) -> Checklist:
    _cross_checks(raw, r, plugins)
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

    def build_item(item: LocatedDict, prefix: str, section: str, group: str) -> Item:
        key = f"{prefix}.{item['id']}"
        check = None
        if "check" in item:
            c = dict(item["check"])
            ctype = c.pop("type")
            expect = c.pop("expect", None)
            timeout = c.pop("timeout", DEFAULT_TIMEOUT)
            c.pop("label", None)
            check = CheckSpec(ctype, _frozen(c), _frozen(expect) if expect is not None else None,
                              float(timeout))
        kind: ItemKind = item.get("kind", "check" if check else "manual")
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
                        port=int(h["port"]) if "port" in h else None,
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
    )


def json_schema() -> dict[str, Any]:
    """The checklist format as JSON Schema (draft 2020-12), for editors."""
    spec = format_spec()
    assert ITEM_REF.target is not None
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://predeploy.invalid/checklist.schema.json",
            "title": "predeploy checklist", **spec.schema(),
            "$defs": {"item": ITEM_REF.target.schema()}}
