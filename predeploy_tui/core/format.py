"""Provides the checklist format: the rule for every key of a checklist YAML file.

One description serves the loader (located problems with "did you mean") and editors
(``predeploy schema`` emits it as JSON Schema).
"""

from __future__ import annotations

import re
from typing import Any

from predeploy_tui.core.addressing import Address, Port
from predeploy_tui.core.checkspec import check_spec
from predeploy_tui.core.spec import Bool, Duration, ListOf, MapOf, Obj, Ref, Spec, Text
from predeploy_tui.core.vocab import ItemKind

ID = r"[a-z0-9][a-z0-9_-]*"
"""What section, item and sign-off role ids look like."""

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
        "host": Address("host", "address or name to connect to"),
        "user": Text("login user"),
        "port": Port("SSH port"),
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
            "kind": Text(choices=tuple(ItemKind),
                         description="check (default with a check), manual (default without), "
                                     "action (mutating: confirmed before it runs)"),
            "critical": Bool("NO GO unless this passes"),
            "depends_on": ListOf(Text(), single=True,
                                 description="items that must pass first (id or section.id)"),
            "fresh_for": Duration("a pass older than this is stale", as_written=True),
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
            "fresh_for": Duration("default: a pass older than this is stale", as_written=True),
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
