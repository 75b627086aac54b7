"""Provides what the data-store, cloud and GPU check types share: JSON-able evidence and tables."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

CELL_WIDTH = 60
"""Widest cell shown in a text table; the data keeps the whole value."""


def jsonable(value: Any) -> Any:
    """A value that ``json.dumps`` accepts: datetimes as ISO text, decimals as numbers."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        try:
            return raw.decode()
        except UnicodeDecodeError:
            return "base64:" + base64.b64encode(raw).decode()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, Sequence | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def one_line(exc: BaseException | str) -> str:
    """An error message on one line, whitespace collapsed (libpq and SDK messages span lines)."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def text_table(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows as an aligned text table, as psql would print them."""
    if not columns:
        return ""
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(c), *(len(r[i]) for r in cells)]) for i, c in enumerate(columns)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(),
             "-+-".join("-" * w for w in widths)]
    lines.extend(" | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
                 for row in cells)
    return "\n".join(lines)


def _cell(value: Any) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= CELL_WIDTH else text[:CELL_WIDTH - 1] + "…"


def age_seconds(when: dt.datetime, now: dt.datetime | None = None) -> float:
    """Seconds since ``when`` (an aware datetime; naive ones are read as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return ((now or dt.datetime.now(dt.UTC)) - when).total_seconds()
