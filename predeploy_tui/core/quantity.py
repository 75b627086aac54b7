"""Provides parsing of durations and quantities with units (24h, 100GB, 80%)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction


class QuantityError(ValueError):
    """A value with a unit could not be read."""


_DURATION: dict[str, Fraction] = {
    unit: Fraction(seconds) for unit, seconds in (
        ("ms", Fraction(1, 1000)), ("s", 1), ("m", 60), ("min", 60), ("h", 3600), ("d", 86400),
        ("w", 604800))}
_SIZE = {
    "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4,
    "kib": 1024, "mib": 1024**2, "gib": 1024**3, "tib": 1024**4,
}
DURATION_UNITS = tuple(_DURATION)
"""Units a duration may carry (any case): ms, s, m, min, h, d, w."""
QUANTITY_UNITS = ("%", *_SIZE, *_DURATION)
"""Units a quantity may carry (any case): percent, sizes and durations."""
_NUMBER = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z%]*)\s*$")


@dataclass(frozen=True)
class Amount:
    """A number with the dimension its unit gave it."""

    value: float
    """In base units: seconds, bytes, percent, or the plain number."""
    dimension: str
    """One of "", "duration", "bytes", "percent"."""
    exact: Fraction
    """``value`` exactly as written (``2**53 + 1`` and ``0.1`` are not rounded to a float)."""


class Seconds(float):
    """A duration in seconds that remembers how it was written (``8h``), to be saved that way."""

    text: str
    """The duration as written."""

    def __new__(cls, seconds: float, text: str) -> Seconds:
        self = super().__new__(cls, seconds)
        self.text = text
        return self

    def __reduce__(self) -> tuple[type[Seconds], tuple[float, str]]:
        return (Seconds, (float(self), self.text))


def parse_duration(value: object) -> float:
    """Seconds from ``30``, ``30s``, ``5m``, ``24h``, ``90d``, ``2w`` or ``500ms``."""
    if isinstance(value, bool) or value is None:
        raise QuantityError(f"expected a duration such as 30s, 5m or 24h, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise QuantityError(f"a duration cannot be negative ({value})")
        return _bounded(value, value)
    match = _NUMBER.match(str(value))
    if not match or match.group(2).lower() not in {*_DURATION, ""}:
        raise QuantityError(f"expected a duration such as 30s, 5m, 24h or 90d, got {value!r}")
    number = _finite(match.group(1), value)
    if number < 0:
        raise QuantityError(f"a duration cannot be negative ({value!r})")
    return _bounded(number * _DURATION.get(match.group(2).lower(), Fraction(1)), value)


MAX_SECONDS = 100 * 365 * 86400.0
"""A duration longer than a century is a typo (and past what a date can be moved by)."""


def _finite(number: object, shown: object) -> float:
    """``number`` as a finite float, or QuantityError: nan, inf and 400-digit numbers are not."""
    try:
        result = float(number)  # type: ignore[arg-type]  # a str or a number, as matched
    except (OverflowError, ValueError):
        result = math.inf
    if not math.isfinite(result):
        raise QuantityError(f"{str(shown)[:40]!r} is not a finite number")
    return result


def _bounded(seconds: object, shown: object) -> float:
    value = _finite(seconds, shown)
    if value > MAX_SECONDS:
        raise QuantityError(f"a duration of at most 100 years is expected, got {str(shown)[:40]!r}")
    return value


def parse_quantity(value: object) -> Amount:
    """Read ``80``, ``80%``, ``100GB``, ``4GiB``, ``500ms`` or ``30d`` into an :class:`Amount`."""
    if isinstance(value, bool) or value is None:
        raise QuantityError(f"expected a number, got {value!r}")
    if isinstance(value, int | float):
        _finite(value, value)
        # A float here was written as decimal text (YAML's 0.3): that text is the number meant.
        return _amount(Fraction(repr(value) if isinstance(value, float) else value), "")
    match = _NUMBER.match(str(value))
    if not match:
        raise QuantityError(f"expected a number with an optional unit, got {value!r}")
    _finite(match.group(1), value)
    number, unit = Fraction(match.group(1)), match.group(2)
    low = unit.lower()
    if not unit:
        return _amount(number, "")
    if unit == "%":
        return _amount(number, "percent")
    if unit in ("m", "M") and unit == "M":
        return _amount(number * _SIZE["m"], "bytes")
    if low in _DURATION and unit != "M":
        return _amount(number * _DURATION[low], "duration")
    if low in _SIZE:
        return _amount(number * _SIZE[low], "bytes")
    raise QuantityError(f"unknown unit {unit!r} in {value!r} (expected %, KB, MB, GB, GiB, "
                        "ms, s, m, h, d)")


def _amount(exact: Fraction, dimension: str) -> Amount:
    """An Amount from its exact value; a value past a float's range is not finite."""
    return Amount(_finite(exact, exact), dimension, exact)


def format_bytes(n: float) -> str:
    """A byte count for people: 1.5 GB, 300 MB."""
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if abs(n) >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n:.0f} B"


def format_duration(seconds: float) -> str:
    """A duration for people: 12 days, 3.5 h, 40 min, 2.1 s."""
    if seconds >= 2 * 86400:
        return f"{seconds / 86400:.0f} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds:.1f} s"
