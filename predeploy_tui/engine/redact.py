"""Provides secret redaction: known secret values and known secret shapes become ``***``.

Applied to output chunks, summaries and every field of a result before any listener sees it,
so secrets never reach the screen's evidence or the session file.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any
from urllib.parse import quote, quote_plus

from predeploy_tui.core.results import CheckResult

MASK = "***"
"""What a secret becomes."""

_KEY_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")
_KEY_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----")

_SHAPES: tuple[tuple[str, re.Pattern[str], int, tuple[str, ...]], ...] = (
    # (kind, pattern, group holding the secret (0 = the whole match), lower-case words one of
    # which every match contains: a text without any of them skips the pattern, which is what
    # keeps ~66,000 lines a second of ordinary output cheap)
    ("private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
                               r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)"), 0,
     ("private key",)),
    ("AWS access key id", re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA)[A-Z0-9]{16}\b"), 0,
     ("akia", "asia", "aida", "aroa", "agpa", "anpa")),
    ("AWS secret key", re.compile(r"(?i)\b(aws_?secret_?(?:access_?)?key[\"']?\s*[=:]\s*[\"']?)"
                                  r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"), 2, ("secret",)),
    ("bearer token", re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)"), 2, ("bearer",)),
    ("password in URL", re.compile(r"(?i)(\b[a-z][a-z0-9+.-]*://[^\s/:@]+:)([^\s/@]+)(@)"), 2,
     ("://",)),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})"),
     0, ("gh",)),
    ("Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), 0, ("xox",)),
    # The name before the keyword is not part of the secret, so the pattern starts at the keyword:
    # a lazy ``\b[\w.-]*?`` prefix made every word of every line a quadratic search.
    ("secret assignment", re.compile(
        r"(?i)((?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)"
        r"(?:_?key)?[\"']?\s*[=:]\s*)(\"[^\"\n]*\"|'[^'\n]*'|(?!\*\*\*)[^\s,;&\"'<>}]+)"), 2,
     ("pass", "pwd", "secret", "token", "api", "access")),
)


# Every word once: a plain ``in`` per word over the lower-cased text beats one case-insensitive
# alternation by an order of magnitude.
_ANY_WORD = tuple(dict.fromkeys(w for _, _, _, words in _SHAPES for w in words))


def find_secrets(text: str) -> list[tuple[str, int, int]]:
    """Every known secret shape in ``text``: (kind, start, end) of the secret part, in order."""
    found: list[tuple[str, int, int]] = []
    lower = text.lower()
    if not any(word in lower for word in _ANY_WORD):
        return found
    for kind, pattern, group, words in _SHAPES:
        if not any(word in lower for word in words):
            continue
        for match in pattern.finditer(text):
            start, end = match.span(group)
            value = text[start:end].strip("\"'")
            if not value or value == MASK:
                continue
            if not any(s <= start < e or start <= s < end for _, s, e in found):
                found.append((kind, start, end))
    return sorted(found, key=lambda f: f[1])


def _encodings(value: str) -> set[str]:
    raw = value.encode("utf-8")
    forms = {value, quote(value, safe=""), quote_plus(value),
             base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
    forms |= {f.rstrip("=") for f in forms if f.endswith("=")}
    return {f for f in forms if len(f) >= 3}


class Redactor:
    """Replaces given secret values (and their encodings) and known secret shapes with ``***``."""

    def __init__(self, secret_values: Iterable[str] = ()) -> None:
        self._forms: list[str] = []
        self._pattern: re.Pattern[str] | None = None
        self.add(secret_values)

    def add(self, secret_values: Iterable[str]) -> None:
        """Also redact these values from now on."""
        forms = set(self._forms)
        for value in secret_values:
            if value and value != MASK:
                forms |= _encodings(value)
        if len(forms) != len(self._forms):
            self._forms = sorted(forms, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(f) for f in self._forms))

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        if not text:
            return text
        if self._pattern is not None and any(form in text for form in self._forms):
            text = self._pattern.sub(MASK, text)
        spans = find_secrets(text)
        if not spans:
            return text
        out: list[str] = []
        last = 0
        for _, start, end in spans:
            out.append(text[last:start])
            out.append(MASK)
            last = end
        out.append(text[last:])
        return "".join(out)

    def redact_data(self, value: Any) -> Any:
        """JSON-like data with every string redacted."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.redact(str(k)): self.redact_data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.redact_data(v) for v in value]
        return value

    def result(self, result: CheckResult, *, output: bool = True) -> CheckResult:
        """A result with its summary, output, data and per-host results redacted.

        ``output=False`` leaves the outputs alone, for a caller that redacted them already: a
        second pass over 200 outputs of a few hundred kilobytes each stalls the loop.
        """
        return replace(result, summary=self.redact(result.summary),
                       output=self.redact(result.output) if output else result.output,
                       data=self.redact_data(result.data),
                       hosts=tuple(self.result(h, output=output) for h in result.hosts))


class LineRedactor:
    """Redacts a stream chunk by chunk: complete lines go out, a private key block is masked whole.

    The unfinished last line (and a key block whose END has not arrived) is carried into the next
    chunk, so a secret split across two reads is still seen whole.
    """

    def __init__(self, redactor: Redactor, flush_at: int = 8192) -> None:
        self._redactor = redactor
        self._pending = ""
        self._in_key = False
        self._flush_at = flush_at

    def feed(self, text: str) -> str:
        """What of ``text`` (after what was held back) can be shown now, redacted."""
        self._pending += text
        cut = self._pending.rfind("\n") + 1
        if cut == 0 and len(self._pending) < self._flush_at:
            return ""
        if cut == 0:
            cut = len(self._pending)
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return self._lines(ready)

    def flush(self) -> str:
        """Everything held back, redacted."""
        ready, self._pending = self._pending, ""
        return self._lines(ready) if ready else ""

    def _lines(self, text: str) -> str:
        if not self._in_key and "PRIVATE KEY" not in text:
            # No key block starts or continues here: the whole run of complete lines is
            # redacted in one pass instead of line by line.
            return self._redactor.redact(text)
        out: list[str] = []
        for line in text.splitlines(keepends=True):
            if self._in_key:
                if _KEY_END.search(line):
                    self._in_key = False
                    out.append(MASK + ("\n" if line.endswith("\n") else ""))
                continue
            begin = _KEY_BEGIN.search(line)
            if begin and not _KEY_END.search(line, begin.end()):
                self._in_key = True
                out.append(self._redactor.redact(line[: begin.start()]))
                continue
            out.append(self._redactor.redact(line))
        return "".join(out)
