"""Provides the check inferred from a markdown item's code block and title.

The command decides the type (curl -> http, openssl s_client -> tls, dig/nslookup -> dns, SQL ->
postgres, redis-cli -> redis, aws -> aws, kubectl -> kubernetes, nvidia-smi -> gpu, df -> disk,
free -> memory, ssh user@host "cmd" -> ssh, anything else -> shell), a mutating command makes the
item an action, and a ``(>80%)``-style threshold in the title a matcher. Each guess carries a note
that the importer writes as a YAML comment.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from predeploy_tui.reports.mdparse import CLOSE, OPEN, ident

_THRESHOLD = re.compile(r"\(\s*([<>]=?)\s*(\d+(?:\.\d+)?)\s*(%|(?:[KMGT]i?B|hours?|days?|minutes?|h|d|m)"
                        r"\b)?\s*([^)]*)\)", re.I)
_MUTATING = re.compile(r"\bgit\s+(push|tag\s+-a|commit|merge|checkout\s+-b)\b|"
                       r"\bdocker\s+push\b|"
                       r"(^|[\s/_.-])(deploy|send|rollback|restore|publish)(?=[\s_.-]|$)", re.I)
_SQL_WRITES = re.compile(r"\b(UPDATE|DELETE|DROP|INSERT|ALTER|TRUNCATE|CREATE|GRANT|REVOKE)\b",
                         re.I)
"""SQL that changes data or schema (tested on the SQL with its strings and comments removed)."""
_SQL_QUOTED = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|\$(\w*)\$.*?\$\1\$|--[^\n]*|/\*.*?\*/",
                         re.S)
_WRITING_VERBS: dict[str, tuple[str, ...]] = {
    "systemctl": ("restart", "stop", "start", "reload", "enable", "disable", "kill", "mask"),
    "terraform": ("apply", "destroy", "import"),
    "kubectl": ("apply", "delete", "scale", "create", "patch", "replace", "edit", "drain",
                "cordon", "uncordon", "taint", "label", "annotate", "set", "rollout restart",
                "rollout undo", "rollout pause", "rollout resume"),
    "helm": ("install", "upgrade", "uninstall", "delete", "rollback"),
    "redis-cli": ("flushall", "flushdb", "set", "del", "unlink", "expire", "config set",
                  "shutdown"),
}
"""Per tool, the subcommands (first positional words) that change something."""
_WRITING_TOOLS = frozenset({"rm", "rmdir", "mv", "dd", "shred"})
"""Commands that change something whatever their arguments."""
_VALUE_OPTIONS = frozenset({"-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user",
                            "-s", "--server", "-l", "--selector", "-o", "--output", "-h", "-p",
                            "-a", "--pass", "-u", "--host", "--port", "-H", "--chdir", "-c"})
"""Options whose value is the next word, so it is not taken for a subcommand."""
_PREFIXES = frozenset({"sudo", "env", "time", "nohup", "exec", "xargs", "nice", "ionice"})
"""Commands that run the command after them."""
_WRAPPER_VALUE_OPTIONS = frozenset({"-u", "-g", "-n", "-c", "-C", "-U", "-h", "-p"})
"""Options of those wrappers whose value is the next word."""
_SEPARATORS = re.compile(r"&&|\|\||[;|\n]|\$\(|`")

_STATUS = re.compile(r"(?:\b(?:returns?|responds?(?:\s+with)?|answers?|gives?|expects?|expected|"
                     r"status(?:\s+code)?(?:\s+is)?)|->|→|=>)\s*(?:HTTP\s*)?([1-5]\d\d)\b"
                     r"|(?<!\d)([1-5]\d\d)\s*(?:OK\b|を返|が返)", re.I)
"""An HTTP status the title asks for: ``returns 200``, ``-> 204``, ``200 OK``, ``200を返す``."""
_PODS_RUNNING = "length(items) > `0` && length(items[?status.phase != 'Running']) == `0`"
"""Pods listed, and every one of them in phase Running (what ``kubectl get pods`` is read for)."""


def unique(base: str, taken: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``... whichever is not taken yet (and take it)."""
    out, n = base, 2
    while out in taken:
        out, n = f"{base}-{n}", n + 1
    taken.add(out)
    return out



_PLACEHOLDER = re.compile(OPEN + r"[a-z_][a-z0-9_]*" + CLOSE)


def outside_quotes(command: str) -> str:
    """A shell command with each placeholder moved out of any quotes around it.

    The engine shell-quotes a variable's value where it lands, so ``"Release v${version}"`` would
    run as ``"Release v'1.2'"``; this writes ``"Release v"${version}""`` and ``"${dsn}"`` as
    ``${dsn}``, which the shell reads as one word with the value in it.
    """
    out, quote, i = [], "", 0
    while i < len(command):
        found = _PLACEHOLDER.match(command, i)
        char = command[i]
        if found:
            out.append(f"{quote}{found.group(0)}{quote}" if quote else found.group(0))
            i = found.end()
            continue
        if quote and char == quote:
            quote = ""
        elif not quote and char in "'\"":
            quote = char
        elif char == "\\" and quote != "'" and i + 1 < len(command):
            out.append(command[i:i + 2])
            i += 2
            continue
        out.append(char)
        i += 1
    text = "".join(out)
    # "${dsn}" became ""${dsn}"": empty strings at a word's edge go.
    text = re.sub(r"(?<!\S)(?:\"\"|'')(" + _PLACEHOLDER.pattern + ")", r"\1", text)
    return re.sub("(" + _PLACEHOLDER.pattern + r")(?:\"\"|'')(?!\S)", r"\1", text)


@dataclass
class Check:
    """A check inferred from a code block, with what was guessed about it."""

    fields: dict[str, Any]
    """The ``check:`` mapping."""
    notes: list[str]
    """Comments saying what was guessed."""
    action: bool = False
    """A mutating command: the item becomes an action."""


def commands_of(lang: str, code: str) -> tuple[list[str], list[str]]:
    """Command lines (continuations joined) and comment lines of a block."""
    joined = re.sub(r"\\\n\s*", " ", code)
    comment = "--" if lang == "sql" else "#"
    commands, comments = [], []
    for line in joined.split("\n"):
        stripped = line.strip()
        if lang != "sql" and stripped.startswith("$ "):
            stripped = stripped[2:].strip()  # a shell prompt
        if not stripped:
            continue
        if stripped.startswith(comment):
            comments.append(stripped.lstrip(comment + "-").strip())
        else:
            commands.append(stripped)
    return commands, comments


def _words(command: str) -> list[str]:
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def _option(words: list[str], *names: str) -> str | None:
    for i, word in enumerate(words):
        for name in names:
            if word == name and i + 1 < len(words):
                return words[i + 1]
            if name.startswith("--") and word.startswith(name + "="):
                return word.split("=", 1)[1]
    return None


def sql_writes(sql: str) -> str | None:
    """The first keyword of ``sql`` that changes data or schema (UPDATE, DROP...), if any."""
    found = _SQL_WRITES.search(_SQL_QUOTED.sub(" ", sql))
    return found.group(1).upper() if found else None


def _simple_commands(script: str) -> list[list[str]]:
    """The words of each simple command of a script, wrappers like ``sudo`` and ``VAR=x`` off."""
    out = []
    for part in _SEPARATORS.split(script):
        words = _words(part.replace(")", " "))
        while words and (words[0] in _PREFIXES or re.match(r"^[A-Za-z_]\w*=", words[0])):
            wrapper, words = words[0], words[1:]
            # The wrapper's own options (sudo -u deploy, nice -n 10) come before the command.
            while wrapper in _PREFIXES and words and words[0].startswith("-"):
                words = words[2:] if words[0] in _WRAPPER_VALUE_OPTIONS else words[1:]
        if words:
            out.append(words)
    return out


def _positional(words: list[str]) -> list[str]:
    """The words after the command that are not options or option values."""
    out, skip = [], False
    for word in words[1:]:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in _VALUE_OPTIONS
        else:
            out.append(word.lower())
    return out


def mutation(lang: str, code: str) -> str | None:
    """What in a code block changes something (``rm``, ``kubectl apply``, SQL ``DROP``), if any."""
    if lang in ("sql", "psql", "postgresql"):
        keyword = sql_writes(code)
        return f"SQL {keyword}" if keyword else None
    commands, _ = commands_of(lang, code)
    script = "\n".join(commands)
    for words in _simple_commands(script):
        tool = words[0].rsplit("/", 1)[-1]
        if tool in _WRITING_TOOLS:
            return f"`{tool}`"
        if tool == "psql":
            sql = _option(words, "-c", "--command")
            keyword = sql_writes(sql) if sql else None
            if keyword:
                return f"`psql -c` with SQL {keyword}"
        said = " ".join(_positional(words)[:2])
        for verb in _WRITING_VERBS.get(tool, ()):
            if said == verb or said.startswith(verb + " "):
                return f"`{tool} {verb}`"
    found = _MUTATING.search(script)
    return f"`{' '.join(found.group(0).strip(' /_.-').split())}`" if found else None


def _action_note(what: str) -> str:
    return (f"guessed: an action, because the command changes something ({what}; runs only "
            "after confirmation)")


def infer(lang: str, code: str, title: str, hosts: dict[str, dict[str, str]]) -> Check:
    """The check for a code block; ssh targets are added to ``hosts``."""
    commands, _ = commands_of(lang, code)
    script = "\n".join(commands)
    changes = mutation(lang, code)
    if lang in ("sql", "psql", "postgresql"):
        query = "\n".join(c.rstrip() for c in code.strip().split("\n")
                          if not c.strip().startswith("--"))
        fields: dict[str, Any] = {"type": "postgres", "query": query.strip() or "SELECT 1"}
        notes = ["guessed: postgres from the SQL block; set dsn or service (PG* environment "
                 "variables are used otherwise)"]
        if changes:
            # Tested before the query is treated as a check: a check runs read-only.
            return Check(fields, [_action_note(changes), *notes], action=True)
        if "pg_stat_statements" in query.lower():
            fields["baseline"] = True
            notes.append("guessed: pg_stat_statements rows are kept as a baseline for "
                         "`predeploy diff`")
        return Check(fields, notes)
    if not commands:
        return Check({"type": "shell", "run": code.strip() or "true"},
                      ["guessed: shell, the block holds no command line"])
    if changes:
        return Check({"type": "shell", "run": script}, [_action_note(changes)], action=True)
    first = _words(commands[0])
    tool = first[0].rsplit("/", 1)[-1] if first else ""
    same_tool = all((_words(c) or [""])[0] == (first or [""])[0] for c in commands)
    if "openssl s_client" in script:
        target = _option(_words(script), "-connect") or ""
        host, _, port = target.rpartition(":") if ":" in target else (target, "", "443")
        fields = {"type": "tls", "address": host or target or "localhost",
                  "port": int(port) if port.isdigit() else 443}
        server_name = _option(_words(script), "-servername")
        if server_name and server_name != fields["address"]:
            fields["server_name"] = server_name
        return Check(fields, ["guessed: tls from `openssl s_client`"])
    if tool in ("dig", "nslookup", "host") and all(
            (_words(c) or [""])[0] in ("dig", "nslookup", "host") for c in commands):
        names = [w for w in first[1:] if not w.startswith(("-", "+", "@"))]
        fields = {"type": "dns", "name": names[0] if names else "localhost"}
        record = next((w.upper() for w in first[1:] if w.upper() in
                       ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "PTR", "SRV")), None)
        if record:
            fields["record"] = record
        return Check(fields, [f"guessed: dns from `{tool}`"])
    if len(commands) == 1 and "|" not in script:
        found = _single(tool, first, title, hosts)
        if found is not None:
            return found
    if tool == "redis-cli" and same_tool:
        return _redis(commands)
    if tool == "aws" and len(commands) == 1:
        found = _aws(first, title)
        if found is not None:
            return found
    reason = "a pipeline" if "|" in script else f"{len(commands)} commands" \
        if len(commands) > 1 else f"`{tool}`"
    return Check({"type": "shell", "run": script}, [f"guessed: shell ({reason})"])


_CURL_VALUE_OPTIONS = frozenset({"-o", "--output", "-w", "--write-out", "--cacert", "--capath",
                                 "-m", "--max-time", "--connect-timeout", "-A", "--user-agent",
                                 "-e", "--referer", "-b", "--cookie", "-c", "--cookie-jar",
                                 "--resolve", "-x", "--proxy", "-r", "--range", "--retry",
                                 "-K", "--config", "-T", "--upload-file"})
"""curl options whose value is the next word (so it is not the URL)."""


def _curl_url(words: list[str]) -> str | None:
    skip = False
    for word in words[1:]:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in _CURL_VALUE_OPTIONS
        elif re.match(r"https?://", word) or word.startswith(OPEN):
            return word
    return None


def _curl(words: list[str], title: str) -> Check | None:
    url = _curl_url(words)
    if url is None or any(w in ("-H", "--header", "-d", "--data", "-u", "-X", "--request",
                                "-F", "--form", "-E", "--cert") for w in words):
        return None
    fields: dict[str, Any] = {"type": "http", "url": url}
    if "-I" in words or "--head" in words:
        fields["method"] = "HEAD"
    if "-k" in words or "--insecure" in words:
        fields["verify"] = False
    ca_file = _option(words, "--cacert")
    if ca_file:
        fields["ca_file"] = ca_file
    if "-L" in words or "--location" in words:
        fields["follow_redirects"] = True
    status = _STATUS.search(title)
    if status:
        fields["status"] = int(status.group(1) or status.group(2))
        said = f"passes on status {fields['status']}, from '{status.group(0).strip()}' in the title"
    else:
        said = "2xx passes"
    if fields.get("verify") is False:
        said += "; certificate not verified, as curl -k"
    return Check(fields, [f"guessed: http from `curl` ({said})"])


def _kubectl_pods(words: list[str]) -> Check | None:
    """``kubectl get pods [-n NS] [-l SELECTOR]``: the pods listed, all Running."""
    if _positional(words)[:2] not in (["get", "pods"], ["get", "pod"], ["get", "po"]) \
            or len(_positional(words)) > 2:
        return None
    namespace = _option(words, "-n", "--namespace") or "default"
    every = "-A" in words or "--all-namespaces" in words
    fields: dict[str, Any] = {"type": "kubernetes", "probe": "list", "resource":
                              "/api/v1/pods" if every else f"/api/v1/namespaces/{namespace}/pods"}
    for option, key in (("-l", "label_selector"), ("--selector", "label_selector"),
                        ("--context", "context"), ("--kubeconfig", "kubeconfig")):
        value = _option(words, option)
        if value:
            fields[key] = value
    fields["expect"] = {"jmespath": _PODS_RUNNING, "equals": True}
    return Check(fields, ["guessed: kubernetes list of pods from `kubectl get pods`; passes "
                          "when at least one pod is listed and every one is Running"])


def _single(tool: str, words: list[str], title: str, hosts: dict[str, dict[str, str]]) \
        -> Check | None:
    if tool == "curl":
        return _curl(words, title)
    if tool == "kubectl" and words[1:3] in (["top", "nodes"], ["get", "nodes"]):
        return Check({"type": "kubernetes", "probe": "nodes"},
                      ["guessed: kubernetes node probe from `kubectl " + " ".join(words[1:3]) + "`"])
    if tool == "kubectl":
        return _kubectl_pods(words)
    if tool == "nvidia-smi":
        return Check({"type": "gpu"}, ["guessed: gpu from `nvidia-smi`"])
    if tool == "df":
        paths = [w for w in words[1:] if not w.startswith("-")]
        fields = {"type": "disk"} if not paths else {"type": "disk", "path": paths[0]}
        return Check(fields, ["guessed: disk from `df`"])
    if tool == "free":
        return Check({"type": "memory"}, ["guessed: memory from `free`"])
    if tool == "ssh" and len(words) >= 3:
        target = next((w for w in words[1:] if not w.startswith("-")), "")
        user, _, host = target.rpartition("@")
        name = ident(host.split(".")[0], "host")
        entry = {"host": host} if not user else {"host": host, "user": user}
        if hosts.get(name, entry) != entry:
            name = unique(name, set(hosts))
        hosts[name] = entry
        rest = words[words.index(target) + 1:]
        return Check({"type": "ssh", "host": name, "run": " ".join(rest) if len(rest) > 1
                       else (rest[0] if rest else "true")},
                      [f"guessed: ssh to {target} (added under hosts as {name!r})"])
    if tool == "aws":
        return _aws(words, title)
    return None


def _redis(commands: list[str]) -> Check:
    words = _words(commands[0])
    fields: dict[str, Any] = {"type": "redis"}
    host, port, url = _option(words, "-h"), _option(words, "-p"), _option(words, "-u")
    if url:
        fields["url"] = url
    if host:
        fields["address"] = host
    if port and port.isdigit():
        fields["port"] = int(port)
    sections = []
    for command in commands:
        w = _words(command)
        if "info" in (x.lower() for x in w):
            after = w[[x.lower() for x in w].index("info") + 1:]
            sections.extend(after[:1])
    if sections:
        fields["info"] = sections
    return Check(fields, ["guessed: redis from `redis-cli` (PING always, INFO sections read)"])


def _aws(words: list[str], title: str) -> Check | None:
    if words[1:3] == ["s3", "ls"] and len(words) > 3 and words[3].startswith("s3://"):
        bucket, _, prefix = words[3][5:].partition("/")
        aged = _THRESHOLD.search(title)
        probe = "newest_object" if aged and "old" in (aged.group(4) or "").lower() else "bucket"
        fields: dict[str, Any] = {"type": "aws", "probe": probe, "bucket": bucket}
        if prefix:
            fields["prefix"] = prefix
        return Check(fields, [f"guessed: aws {probe} probe from `aws s3 ls`"])
    secret = _option(words, "--secret-id")
    if words[1:3] == ["secretsmanager", "describe-secret"] and secret:
        return Check({"type": "aws", "probe": "secret_rotation", "secret_id": secret},
                      ["guessed: aws secret_rotation probe from `aws secretsmanager`"])
    dist = _option(words, "--id")
    if words[1:3] == ["cloudfront", "get-distribution"] and dist:
        return Check({"type": "aws", "probe": "cloudfront", "distribution_id": dist},
                      ["guessed: aws cloudfront probe"])
    return None


_TIME_UNITS = {"hour": "h", "hours": "h", "h": "h", "day": "d", "days": "d", "d": "d",
               "minute": "m", "minutes": "m", "m": "m"}


def expect_for(title: str, check: Check) -> tuple[dict[str, Any] | None, str]:
    """The matcher a ``(>80%)``-style threshold in the title asks for, and the note saying so."""
    match = _THRESHOLD.search(title)
    if match is None:
        return None, ""
    op, number, unit, rest = match.group(1), match.group(2), (match.group(3) or ""), match.group(4)
    ctype = check.fields["type"]
    said = f"{op}{number}{unit}"
    low = unit.lower()
    if low in _TIME_UNITS:
        amount = f"{number}{_TIME_UNITS[low]}"
        if "old" in rest.lower() or ctype == "aws":
            return {"max_age": amount}, f"guessed: '{said}' read as at most {amount} old"
        return {"ge" if op.startswith(">") else "le": amount}, \
            f"guessed: '{said}' read as {'at least' if op.startswith('>') else 'at most'} {amount}"
    value: Any = f"{number}{unit.upper() if unit != '%' else '%'}" if unit else float(number)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    key = "ge" if op.startswith(">") else "le"
    expect: dict[str, Any] = {key: value}
    note = f"guessed: '{said}' read as {'at least' if key == 'ge' else 'at most'} {value}"
    if ctype == "shell":
        plain = float(number)
        expect = {"regex": r"(\d+(?:\.\d+)?)\s*%" if unit == "%" else r"(\d+(?:\.\d+)?)",
                  key: int(plain) if plain.is_integer() else plain}
        note += "; the regex takes the first number in the output: adjust it"
    return expect, note
