"""Provides the catalogue of check types: the fields each one takes in a checklist.

The engine implements the types; this catalogue only says what a checklist may write, so the core
can validate a checklist (and print its JSON Schema) without importing any client library.
"""

from __future__ import annotations

from predeploy_tui.core import grouprule
from predeploy_tui.core.addressing import Address, Port
from predeploy_tui.core.spec import (
    Any_,
    Bool,
    Duration,
    Int,
    JMESPath,
    ListOf,
    MapOf,
    Obj,
    OneOf,
    Quantity,
    Regex,
    Spec,
    Text,
)

COMPARISONS = ("ge", "gt", "le", "lt", "eq", "ne")
"""Numeric comparisons a matcher can make, each against a quantity."""

_compare_fields: dict[str, Spec] = {
    op: Quantity(f"the value must be {word} this") for op, word in (
        ("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"), ("eq", "=="), ("ne", "!="))
}

def _group_rule(description: str) -> Spec:
    """How many members of a group must pass (judged by :mod:`predeploy_tui.core.grouprule`)."""
    return OneOf(scalar=Text(choices=grouprule.NAMED), mapping=Obj({"at_least": Int(minimum=1)}),
                 description=description)


WARN = Obj(dict(_compare_fields), description="thresholds that give warn instead of pass "
                                                "when the fail thresholds are met but these are not")

EXPECT = Obj(
    {
        "exit_code": OneOf(scalar=Int(), sequence=ListOf(Int()),
                           description="the exit code(s) that pass (default 0 for commands)"),
        "regex": Regex("find this in the output; with a capture group, compare its number"),
        "group": OneOf(scalar=Text(), description="which capture group holds the value (default 1)"),
        "jmespath": JMESPath("select a value from the JSON output (or the check's data)"),
        "equals": Any_("the selected value must equal this"),
        "contains": ListOf(Text(), single=True, description="text the output must contain"),
        "not_contains": ListOf(Text(), single=True,
                               description="text the output must not contain"),
        "max_age": Duration("the selected timestamp must be younger than this"),
        "min_age": Duration("the selected timestamp must be older than this"),
        "nagios": Bool("judge by the Nagios plugin convention: exit 0 OK, 1 WARNING, "
                       "2 CRITICAL, 3 UNKNOWN"),
        "each": JMESPath("select a list; the comparisons apply to every element"),
        "need": _group_rule("with each: how many elements must pass (all, any, at_least N); "
                            "a check's need says the same over a host group"),
        "label": Text("what the value is, for the summary: 'coverage'"),
        "unit": Text("unit for the summary: '%', 'GB', 'days'"),
        **_compare_fields,
        "warn": WARN,
    },
    description="how the output is judged pass / warn / fail",
)

STRICT = ("run the text with bash -euo pipefail: the first failing command, or any failing part "
          "of a pipeline, ends the script with its exit code (no bash: could not check)")
"""What ``strict: true`` does to a shell or ssh check."""

_common: dict[str, Spec] = {
    "type": Text("the check type"),
    "timeout": Duration("bounds everything the check does (default 60s)"),
    "expect": EXPECT,
    "label": Text("a short description of what the check measures"),
}

_host = {
    "host": Text("an SSH host or host group from the checklist (or an ssh_config alias); "
                 "without it the check runs locally"),
    "need": _group_rule("over a host group: how many hosts must pass: all (default), any, or "
                        "at_least N (the rule of expect.need over list elements)"),
    grouprule.OLD_NAME: _group_rule("deprecated: the old name of need (a warning says so)"),
}

CHECK_TYPES: dict[str, dict[str, Spec]] = {
    "shell": {
        "run": OneOf(scalar=Text(), sequence=ListOf(Text()),
                     description="the command: text runs in /bin/sh, a list runs as argv"),
        "cwd": Text("working folder, relative to the checklist's folder"),
        "env": MapOf(Text(), description="extra environment variables"),
        "shell": Bool("run text through /bin/sh (default true for text)"),
        "strict": Bool(STRICT),
    },
    "ssh": {
        "run": Text("the command to run on the host"),
        "strict": Bool(STRICT),
        **_host,
    },
    "http": {
        "url": Text("the URL to request"),
        "method": Text(choices=("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")),
        "headers": MapOf(Text(), description="request headers"),
        "body": Text("request body"),
        "json": Any_("request body as JSON"),
        "bearer": Text("bearer token, usually ${env:NAME}"),
        "basic": Obj({"user": Text(), "password": Text()}, required=("user", "password")),
        "status": OneOf(scalar=Int(), sequence=ListOf(Int()),
                        description="status code(s) that pass (default 2xx)"),
        "max_latency": Duration("slower than this fails"),
        "verify": Bool("verify TLS (default true)"),
        "ca_file": Text("CA bundle to verify against"),
        "follow_redirects": Bool("follow redirects (default false)"),
    },
    "tls": {
        "address": Address("address", "host name or address to connect to (the port goes in "
                                      "'port')"),
        "port": Port("the port (default 443)"),
        "server_name": Text("SNI and the name the certificate must match (default: address)"),
        "ca_file": Text("CA bundle to verify the chain against (default: system)"),
        "verify": Bool("verify the chain and host name (default true)"),
    },
    "dns": {
        "name": Text("the name to resolve"),
        "record": Text(choices=("A", "AAAA", "CNAME", "MX", "TXT", "NS", "PTR", "SRV")),
        "nameserver": Address("nameserver", "ask this server instead of the system resolver"),
        "port": Port("the nameserver's port (default 53)"),
        "values": ListOf(Text(), single=True, description="every one of these must be answered"),
    },
    "disk": {
        "path": Text("the path whose file system is measured (default /)"),
        **_host,
    },
    "memory": {**_host},
    "postgres": {
        "dsn": Text("libpq connection string or URL"),
        "service": Text("a service name from pg_service.conf"),
        "password": Text("password, usually ${env:NAME}"),
        "query": Text("the SQL to run"),
        "baseline": Bool("store the rows so a later session can be compared with them"),
        "baseline_key": Text("the column that identifies a row when comparing baselines"),
        "baseline_metric": Text("the column compared between baselines"),
        "max_rows": Int("rows kept as evidence (default 100); more makes an expectation that "
                        "reads the rows an error", minimum=1),
    },
    "redis": {
        "url": Text("redis:// or rediss:// URL"),
        "address": Address("address", "host name (default localhost)"),
        "port": Port("the port (default 6379)"),
        "password": Text("password, usually ${env:NAME}"),
        "username": Text(),
        "tls": Bool(),
        "ca_file": Text(),
        "info": ListOf(Text(), single=True, description="INFO sections to read (PING always)"),
    },
    "aws": {
        "probe": Text(choices=("bucket", "newest_object", "secret_rotation", "cloudfront", "call")),
        "profile": Text(),
        "region": Text(),
        "endpoint_url": Text(),
        "bucket": Text(),
        "prefix": Text(),
        "secret_id": Text(),
        "distribution_id": Text(),
        "call": Text("service.operation, e.g. ec2.describe_instances"),
        "params": Any_("parameters for the call"),
    },
    "kubernetes": {
        "probe": Text(choices=("nodes", "list")),
        "kubeconfig": Text(),
        "context": Text(),
        "resource": Text("for list: the API path, e.g. /api/v1/namespaces/default/pods"),
        "label_selector": Text(),
    },
    "gpu": {
        **_host,
        "nvidia_smi": Text("on a host: the nvidia-smi to run (default: nvidia-smi on the PATH)"),
    },
}
"""The registry of built-in check types: each name and its own fields (the common ones are added
by :func:`check_spec`). A built-in type is this entry plus its module
``predeploy_tui.engine.checks.<name>``; the engine's list, the host-capable types and the JSON
Schema all derive from here."""

HOST_TYPES = tuple(name for name, fields in CHECK_TYPES.items() if "host" in fields)
"""Built-in types that run on an SSH host (or host group) when given ``host``."""


def check_spec(plugin_types: dict[str, dict[str, Spec]] | None = None) -> Obj:
    """The rule for a ``check:`` mapping, with any plugin types a checklist declares."""
    variants = dict(CHECK_TYPES.items())
    variants.update(plugin_types or {})
    return Obj(dict(_common), required=("type",), discriminator="type", variants=variants,
               description="an automated check")
