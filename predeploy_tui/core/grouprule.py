"""Provides the one rule that judges a group by its members: all, any or at_least N.

A check's ``need`` over a host group and a matcher's ``each`` ... ``need`` over list elements say
how many members must pass, with one keyword; both ask this module, so the two can never disagree
on an edge (``any`` over no members). ``aggregate`` is the host rule's old name, still read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from predeploy_tui.core.results import Status

NAMED = ("all", "any")
"""The rules written as a word; the third is ``{at_least: N}``."""
OLD_NAME = "aggregate"
"""What a check's ``need`` over hosts was called: read as ``need``, with a warning."""


def need(rule: Any, total: int) -> tuple[int, str]:
    """How many of ``total`` members must pass under ``rule``, and the words for it.

    ``rule`` is ``"all"`` (the default), ``"any"`` or ``{"at_least": N}``. Every rule needs at least
    one member, whatever the count: over no members nothing was observed, so no rule can pass
    ("all of none" and "at least 0" would be a GO on no evidence).
    """
    if isinstance(rule, Mapping) and "at_least" in rule:
        n = int(rule["at_least"])
        return max(1, n), f"at least {n}"
    if rule == "any":
        return 1, "any"
    return max(1, total), "all"


def judge(rule: Any, total: int, passed: int, clean: int) -> Status:
    """PASS, WARN or FAIL for a group of ``total`` members, ``passed`` of which passed.

    ``clean`` of the passed members passed without a warning: WARN when the rule holds only with
    warned members counted. FAIL means too few passed; a caller that knows no member failed (they
    could not be checked) reports ERROR instead.
    """
    n = need(rule, total)[0]
    if passed < n:
        return Status.FAIL
    return Status.PASS if clean >= n else Status.WARN
