"""Converts gitleaks' config/gitleaks.toml into predeploy_tui/data/secret_rules.toml (Python re).

Usage: python tools/vendor_secret_rules.py GITLEAKS_TOML COMMIT > predeploy_tui/data/secret_rules.toml
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
import warnings

SKIP = {"generic-api-key", "pkcs12-file"}
"""generic-api-key scans a lazy prefix at every word (predeploy's anchored assignment rule
replaces it); pkcs12-file matches file paths, not text."""


def scoped_flags(rx: str) -> str:
    """Go applies a mid-pattern ``(?i)`` to the rest of its group; Python needs ``(?i:...)``.

    Also escapes a ``[`` inside a character class, which Python warns may become a nested set.
    """
    out: list[str] = []
    closes = [0]  # per open group: how many scoped (?i: groups end with it
    in_class = False
    i = 0
    while i < len(rx):
        c = rx[i]
        step = 1
        if c == "\\":
            piece, step = rx[i:i + 2], 2
        elif in_class:
            in_class = c != "]"
            piece = "\\[" if c == "[" else c
        elif c == "[":
            in_class = True
            piece = c
            for extra in "^]":
                if rx[i + step:i + step + 1] == extra:
                    piece += extra
                    step += 1
        elif rx.startswith("(?i)", i) and i > 0:
            piece, step = "(?i:", 4
            closes[-1] += 1
        elif c == "(":
            closes.append(0)
            piece = c
        elif c == ")":
            piece = ")" * closes.pop() + c
        elif c == "|" and closes[-1]:
            # Go's flag reaches the following alternatives of its group too: close, then reopen.
            piece = ")" * closes[-1] + "|" + "(?i:" * closes[-1]
        else:
            piece = c
        out.append(piece)
        i += step
    out.append(")" * closes.pop())
    return "".join(out)


def toml_string(text: str) -> str:
    """A TOML literal string where possible (regexes stay readable), else a basic one."""
    if "'" not in text and "\n" not in text:
        return f"'{text}'"
    if "'''" not in text and "\n" not in text and not text.endswith("'"):
        return f"'''{text}'''"
    return json.dumps(text)


def main(src: str, commit: str) -> None:
    """Print the converted rules."""
    with open(src, "rb") as f:
        data = tomllib.load(f)
    print("# Secret shapes vendored from gitleaks (https://github.com/gitleaks/gitleaks),")
    print(f"# config/gitleaks.toml at commit {commit}, MIT License, Copyright (c) 2019 Zachary Rice.")
    print("# Made by tools/vendor_secret_rules.py: converted to Python re syntax (a mid-pattern (?i)")
    print("# becomes a scoped (?i:...), \\z becomes \\Z, a [ inside a class is escaped); dropped:")
    print("# generic-api-key (predeploy's own anchored 'secret assignment' rule replaces its lazy")
    print("# per-word prefix scan) and path-only rules. Fields kept: id, regex, keywords (lower-case")
    print("# words one of which every match contains), entropy (minimum Shannon entropy of the")
    print("# secret), secretGroup. Allowlists are not used: redaction errs on the side of masking.")
    for rule in data["rules"]:
        if rule["id"] in SKIP or "regex" not in rule or rule.get("path"):
            continue
        rx = scoped_flags(rule["regex"]).replace("\\z", "\\Z")
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            re.compile(rx)
        print()
        print("[[rules]]")
        print(f"id = {toml_string(rule['id'])}")
        print(f"regex = {toml_string(rx)}")
        print("keywords = [" + ", ".join(toml_string(k.lower()) for k in rule["keywords"]) + "]")
        if "entropy" in rule:
            print(f"entropy = {rule['entropy']}")
        if "secretGroup" in rule:
            print(f"secretGroup = {rule['secretGroup']}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
