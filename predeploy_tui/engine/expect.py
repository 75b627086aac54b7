"""Provides the matchers that turn what a check saw into pass / warn / fail, with a summary in words.

A summary says what was compared: "coverage 83% >= 80%", "free 42.1 GB < 100 GB",
"3 of 3 nodes have cpu_free_percent > 30". A matcher that cannot find its value (the regex does
not match, the JMESPath selects nothing) fails and says so.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

from predeploy_tui.core import grouprule
from predeploy_tui.core.quantity import QuantityError, format_duration, parse_quantity
from predeploy_tui.core.results import Status
from predeploy_tui.engine.base import Observation

OPS: Mapping[str, tuple[str, str]] = {
    "ge": (">=", "<"), "gt": (">", "<="), "le": ("<=", ">"),
    "lt": ("<", ">="), "eq": ("==", "!="), "ne": ("!=", "=="),
}
"""Comparison keys: (symbol when it holds, symbol when it does not)."""
_SEVERITY = {Status.PASS: 0, Status.WARN: 1, Status.FAIL: 2, Status.ERROR: 3}
_BYTE_UNITS = {"b": 1, "bytes": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
               "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4}
_TIME_UNITS: dict[str, Fraction | int] = {
    "ms": Fraction(1, 1000), "s": 1, "sec": 1, "seconds": 1, "min": 60, "minutes": 60, "h": 3600,
    "hours": 3600, "d": 86400, "day": 86400, "days": 86400}


class _Missing(Exception):
    """The matcher could not find the value it compares."""


def judge(obs: Observation, expect: Mapping[str, Any] | None, *,
          default_exit_codes: Sequence[int] = (0,), now: datetime | None = None) -> tuple[Status, str]:
    """The status and one-line summary for ``obs`` judged by ``expect``.

    Without an expectation the check type's own status and summary count, else exit code 0 passes.
    """
    if obs.status in (Status.ERROR, Status.FAIL):
        return obs.status, obs.summary or str(obs.status)
    if not obs.complete and expect and _reads_output(expect, obs):
        return Status.ERROR, ("the output was too long to hold in full (the cut is marked in it), "
                              "so the expectation cannot judge it")
    if not expect:
        if obs.status is not None:
            return obs.status, obs.summary or str(obs.status)
        exit_part = _exit_part(obs, None, default_exit_codes, implicit=False)
        if exit_part is not None and (exit_part[0] is not Status.PASS or not obs.summary):
            return exit_part
        return Status.PASS, obs.summary or "ok"
    if expect.get("nagios"):
        return _nagios(obs)
    parts: list[tuple[Status, str]] = []
    try:
        value_part = _value_part(obs, expect, now or datetime.now(UTC))
    except _Missing as exc:
        value_part = (Status.FAIL, str(exc))
    if value_part is not None:
        parts.append(value_part)
    output = obs.output
    for text in _texts(expect.get("contains")):
        parts.append((Status.PASS, f"output contains {text!r}") if text in output
                     else (Status.FAIL, f"output does not contain {text!r}"))
    for text in _texts(expect.get("not_contains")):
        parts.append((Status.FAIL, f"output contains {text!r}") if text in output
                     else (Status.PASS, f"output does not contain {text!r}"))
    explicit = "exit_code" in expect
    exit_part = _exit_part(obs, expect.get("exit_code"), default_exit_codes, implicit=not explicit)
    if exit_part is not None and (exit_part[0] is not Status.PASS or explicit or not parts):
        parts.append(exit_part)
    if obs.status is Status.WARN:
        parts.append((Status.WARN, obs.summary or "warning"))
    if not parts:
        return obs.status or Status.PASS, obs.summary or "ok"
    worst = max((s for s, _ in parts), key=_SEVERITY.__getitem__)
    return worst, "; ".join(text for s, text in parts if s is worst)


# ---------------------------------------------------------------------------------------------
# Exit codes and Nagios.

def _exit_part(obs: Observation, wanted: Any, default: Sequence[int], *, implicit: bool) \
        -> tuple[Status, str] | None:
    if obs.exit_code is None:
        return None
    codes = [int(c) for c in (wanted if isinstance(wanted, list | tuple) else [wanted])] \
        if wanted is not None else list(default)
    if obs.exit_code in codes:
        line = _first_line(obs.output)
        return Status.PASS, f"exit code {obs.exit_code}" + (f": {line}" if line and not implicit else "")
    expected = " or ".join(str(c) for c in codes)
    line = _first_line(obs.output)
    return Status.FAIL, f"exit code {obs.exit_code} (expected {expected})" + \
        (f": {line}" if line and implicit is False and wanted is None else "")


def _nagios(obs: Observation) -> tuple[Status, str]:
    line = _first_line(obs.output, strip_perfdata=True)
    code = obs.exit_code
    status = {0: Status.PASS, 1: Status.WARN, 2: Status.FAIL}.get(code if code is not None else -1,
                                                                     Status.ERROR)
    if not line:
        line = {0: "OK", 1: "WARNING", 2: "CRITICAL"}.get(code if code is not None else -1,
                                                          f"UNKNOWN (exit code {code})")
    return status, line


def _first_line(text: str, *, strip_perfdata: bool = False, width: int = 120) -> str:
    for line in text.splitlines():
        if strip_perfdata:
            line = line.split("|", 1)[0]
        line = line.strip()
        if line:
            return line if len(line) <= width else line[: width - 1] + "…"
    return ""


def _reads_output(expect: Mapping[str, Any], obs: Observation) -> bool:
    """Whether judging ``expect`` reads the output text (not the exit code, value or data)."""
    if any(key in expect for key in ("regex", "contains", "not_contains")):
        return True
    return obs.data is None and any(key in expect for key in ("jmespath", "each"))


def _texts(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


# ---------------------------------------------------------------------------------------------
# Selecting the value.

def _document(obs: Observation) -> Any:
    if obs.data is not None:
        return obs.data
    try:
        return json.loads(obs.output)
    except ValueError as exc:
        raise _Missing(f"the output is not JSON ({exc.args[0] if exc.args else exc})") from None


def _select(obs: Observation, expect: Mapping[str, Any]) -> tuple[Any, str, str]:
    """(value, label, unit) of what the expectation compares."""
    unit = str(expect.get("unit") or obs.unit or "")
    if "regex" in expect:
        pattern = re.compile(str(expect["regex"]), re.MULTILINE)
        match = pattern.search(obs.output)
        if match is None:
            raise _Missing(f"no match for /{pattern.pattern}/ in the output")
        group: Any = expect.get("group", 1 if pattern.groups else 0)
        if isinstance(group, str) and group.isdigit():
            group = int(group)
        try:
            value = match.group(group)
        except (IndexError, re.error):
            raise _Missing(f"the regex has no group {group}") from None
        if value is None:
            raise _Missing(f"group {group} of /{pattern.pattern}/ matched nothing")
        # obs.label names the type's headline value (an HTTP check's latency), not what a regex
        # found in the output: that is the expectation's label, or the group's name.
        named = group if isinstance(group, str) else None
        label = str(expect.get("label") or named or "value")
        return value, label, str(expect.get("unit") or "")
    if "jmespath" in expect:
        import jmespath  # imported by the checks that select with it, not by every run

        expr = str(expect["jmespath"])
        value = jmespath.search(expr, _document(obs))
        if value is None:
            raise _Missing(f"{expr} selects nothing")
        return value, str(expect.get("label") or expr), str(expect.get("unit") or "")
    if obs.value is None:
        raise _Missing("the check gave no value to compare")
    return obs.value, str(expect.get("label") or obs.label or "value"), unit


class _Figure(Fraction):
    """An observed number, exactly; ``rounded`` when the check handed over a binary float.

    Whole numbers compare exactly at any size (2**53 + 1 is not 2**53). A float is already rounded,
    so a fraction it is compared with is rounded the same way: 0.1 observed as a float equals 0.1
    written in the checklist.
    """

    rounded: bool

    def __new__(cls, value: Fraction | int | float | Decimal | str, rounded: bool = False) \
            -> _Figure:
        self = super().__new__(cls, value)
        self.rounded = rounded
        return self


def _number(value: Any, unit: str) -> tuple[_Figure, str]:
    """A number from a value (``83``, ``"83%"``, ``"42.1GB"``, ``"1,234"``) and its unit, exactly."""
    figure, unit = _read_number(value, unit)
    try:
        float(figure)
    except OverflowError:
        raise _Missing(f"{_short(value)} is not a finite number") from None
    return figure, unit


def _read_number(value: Any, unit: str) -> tuple[_Figure, str]:
    if isinstance(value, bool):
        return _Figure(int(value)), unit
    if isinstance(value, int):
        return _Figure(value), unit
    if isinstance(value, float | Decimal):
        if not math.isfinite(value):
            raise _Missing(f"{value!r} is not a finite number")
        return _Figure(value, rounded=isinstance(value, float)), unit
    text = str(value).strip().replace(",", "")
    if "/" not in text:  # "4/4" is a count of four, not the number 1
        try:
            return _Figure(text), unit
        except ValueError:
            pass
    try:
        amount = parse_quantity(text)
    except QuantityError:
        raise _Missing(f"{value!r} is not a number") from None
    return _Figure(amount.exact), {"bytes": "bytes", "duration": "s",
                                   "percent": "%"}.get(amount.dimension, unit)


def _threshold(raw: Any, unit: str) -> Fraction:
    """A threshold (``80``, ``80%``, ``100GB``, ``30d``) in the observed value's unit, exactly."""
    amount = parse_quantity(raw)
    u = unit.lower()
    if amount.dimension == "bytes" and u in _BYTE_UNITS:
        return amount.exact / _BYTE_UNITS[u]
    if amount.dimension == "duration" and u in _TIME_UNITS:
        return amount.exact / Fraction(_TIME_UNITS[u])
    return amount.exact


def show(value: float | Fraction, unit: str) -> str:
    """A value in its unit for a summary: ``42.1 GB``, ``83%``, ``12 days``."""
    if unit in ("bytes", "B"):
        for name, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
            if abs(float(value)) >= size:
                return f"{_trim(value / size)} {name}"
        return f"{_trim(value)} B"
    if unit == "%":
        return f"{_trim(value)}%"
    return f"{_trim(value)} {unit}" if unit else _trim(value)


def _show_apart(value: Fraction, unit: str, spec: Mapping[str, Any]) -> str:
    """``show(value)``, with more digits where rounding would make it read as a threshold it is not.

    29.96 against ``ge: 30`` reads "29.96% < 30%", never "30.0% < 30%".
    """
    text = show(value, unit)
    limits = [spec[op] for op in OPS if op in spec]
    limits += [v for op, v in (spec.get("warn") or {}).items() if op in OPS]
    for raw in limits:
        try:
            limit, read_back = _threshold(raw, unit), _threshold(text, unit)
        except QuantityError:
            continue
        if limit != value and math.isclose(read_back, limit, rel_tol=1e-9, abs_tol=1e-12):
            exact = _exactly(value)
            if unit in ("bytes", "B"):
                return f"{text} ({exact} bytes)"
            return f"{exact}%" if unit == "%" else f"{exact} {unit}".rstrip()
    return text


def _exactly(value: Fraction) -> str:
    """All the digits of a value: a whole number in full, a fraction to 15 significant digits."""
    return str(value.numerator) if value.denominator == 1 else f"{float(value):.15g}"


def _trim(value: float | Fraction) -> str:
    if isinstance(value, Fraction) and value.denominator == 1:
        return str(value.numerator)
    number = float(value)
    if math.isfinite(number) and number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.1f}" if abs(number) >= 10 else f"{number:.2f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------------------------------------
# Comparing.

def _same(value: Fraction, limit: Fraction) -> bool:
    """eq: whole numbers exactly (1,000,000,001 is not 1e9); fractions up to float noise only."""
    if value.denominator == 1 and limit.denominator == 1:
        return value == limit
    return math.isclose(value, limit, rel_tol=1e-12, abs_tol=1e-12)


def _holds(op: str, value: Fraction, limit: Fraction) -> bool:
    return {"ge": value >= limit, "gt": value > limit, "le": value <= limit, "lt": value < limit,
            "eq": _same(value, limit), "ne": not _same(value, limit)}[op]


def _compare(value: _Figure, unit: str, spec: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether every comparison in ``spec`` holds, and the words for it (the first that fails)."""
    held: list[str] = []
    for op in OPS:
        if op not in spec:
            continue
        limit = _threshold(spec[op], unit)
        against = limit
        if value.rounded and limit.denominator != 1:
            # A float observed is compared with the float nearest the fraction written.
            against = Fraction(float(limit))
        if not _holds(op, value, against):
            return False, f"{OPS[op][1]} {show(limit, unit)}"
        held.append(f"{OPS[op][0]} {show(limit, unit)}")
    return True, " and ".join(held)


def _percent_instead(obs: Observation, expect: Mapping[str, Any], unit: str) -> bool:
    """A percent threshold against a byte value compares the check's percent figure instead."""
    limits = [expect[op] for op in OPS if op in expect]
    limits += [v for op, v in (expect.get("warn") or {}).items() if op in OPS]
    return unit != "%" and bool(limits) and all(str(v).strip().endswith("%") for v in limits) \
        and isinstance(obs.data, Mapping) and isinstance(obs.data.get("percent"), int | float)


def _value_part(obs: Observation, expect: Mapping[str, Any], now: datetime) \
        -> tuple[Status, str] | None:
    has_cmp = any(op in expect for op in OPS) or bool(expect.get("warn"))
    if "each" in expect:
        return _each(obs, expect)
    wants_value = has_cmp or "equals" in expect or "max_age" in expect or "min_age" in expect
    if not wants_value and "regex" not in expect and "jmespath" not in expect:
        return None
    raw, label, unit = _select(obs, expect)
    if "equals" in expect:
        wanted = expect["equals"]
        if _equal(raw, wanted):
            return Status.PASS, f"{label} = {_short(raw)}"
        return Status.FAIL, f"{label} = {_short(raw)} (expected {_short(wanted)})"
    if "max_age" in expect or "min_age" in expect:
        return _age(raw, label, expect, now)
    if not has_cmp:
        if "regex" in expect:
            return Status.PASS, f"found {_short(raw)}"
        if raw in (False, 0, "", [], {}):
            return Status.FAIL, f"{label} = {_short(raw)}"
        return Status.PASS, f"{label} = {_short(raw)}"
    if _percent_instead(obs, expect, unit):
        value, unit = _number(obs.data["percent"], "%")
    else:
        value, unit = _number(raw, unit)
    shown = f"{label} {_show_apart(value, unit, expect)}"
    ok, words = _compare(value, unit, expect)
    if not ok:
        return Status.FAIL, f"{shown} {words}"
    warn = expect.get("warn")
    if warn:
        warn_ok, warn_words = _compare(value, unit, warn)
        if not warn_ok:
            return Status.WARN, f"{shown} {words} but {warn_words} (warning)".replace("  ", " ")
        words = words or warn_words
    return Status.PASS, f"{shown} {words}".rstrip()


def _equal(value: Any, wanted: Any) -> bool:
    if value == wanted:
        return True
    if isinstance(value, bool) or isinstance(wanted, bool):
        return str(value).lower() == str(wanted).lower()
    try:
        seen, meant = _number(value, "")[0], _number(wanted, "")[0]
    except _Missing:
        return str(value) == str(wanted)
    return _same(seen, meant)


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def parse_timestamp(value: Any) -> datetime:
    """A timestamp from ISO 8601, RFC 2822 or epoch seconds (milliseconds if very large)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        text = str(value).strip()
        try:
            seconds = float(text)
        except ValueError:
            parsed = _parse_text_time(text)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if seconds > 1e11:
        seconds /= 1000
    return datetime.fromtimestamp(seconds, UTC)


def _parse_text_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace(" UTC", "+00:00"))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # RFC 2822 dates are the rare case

    try:
        return parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise _Missing(f"{text!r} is not a timestamp (ISO 8601, RFC 2822 or epoch seconds)") \
            from None


def _age(raw: Any, label: str, expect: Mapping[str, Any], now: datetime) -> tuple[Status, str]:
    when = parse_timestamp(raw)
    age = (now - when).total_seconds()
    shown = f"{label} is {format_duration(max(age, 0))} old" if age >= 0 \
        else f"{label} is {format_duration(-age)} in the future"
    if "max_age" in expect:
        limit = float(expect["max_age"])
        if age > limit:
            return Status.FAIL, f"{shown} (max {format_duration(limit)})"
    if "min_age" in expect:
        limit = float(expect["min_age"])
        if age < limit:
            return Status.FAIL, f"{shown} (min {format_duration(limit)})"
    bounds = [f"max {format_duration(float(expect['max_age']))}"] if "max_age" in expect else []
    bounds += [f"min {format_duration(float(expect['min_age']))}"] if "min_age" in expect else []
    return Status.PASS, f"{shown} ({', '.join(bounds)})"


# ---------------------------------------------------------------------------------------------
# each + need.

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _each(obs: Observation, expect: Mapping[str, Any]) -> tuple[Status, str]:
    import jmespath

    expr = str(expect["each"])
    elements = jmespath.search(expr, _document(obs))
    if elements is None:
        raise _Missing(f"{expr} selects nothing")
    if not isinstance(elements, list):
        elements = [elements]
    names = _IDENT.findall(expr)
    noun = names[0] if names else "elements"
    attr = str(expect.get("label") or (names[-1] if len(names) > 1 else "value"))
    unit = str(expect.get("unit") or "")
    total = len(elements)
    passed = warned = 0
    for element in elements:
        try:
            if "equals" in expect:
                ok, warn_ok = _equal(element, expect["equals"]), True
            else:
                value, elem_unit = _number(element, unit)
                ok = _compare(value, elem_unit, expect)[0]
                warn_ok = _compare(value, elem_unit, expect.get("warn") or {})[0]
        except _Missing:
            ok, warn_ok = False, False
        if ok:
            passed += 1
            if not warn_ok:
                warned += 1
    if "equals" in expect:
        words = f"= {_short(expect['equals'])}"
    else:
        limits = expect if any(op in expect for op in OPS) else (expect.get("warn") or {})
        words = " and ".join(f"{OPS[op][0]} {show(_threshold(limits[op], unit), unit)}"
                             for op in OPS if op in limits)
    rule = expect.get("need", "all")
    text = f"{passed} of {total} {noun} have {attr} {words}".rstrip()
    status = grouprule.judge(rule, total, passed, passed - warned)
    if status is Status.FAIL:
        return Status.FAIL, f"{text} (need {grouprule.need(rule, total)[1]})"
    if status is Status.WARN:
        return Status.WARN, f"{text}; {warned} only just (warning)"
    return Status.PASS, text
