"""Provides secret redaction: known secret values (and their encodings) and secret shapes become ``***``.

Applied to output chunks, summaries and every field of a result before any listener sees it,
so secrets never reach the screen's evidence or the session file. The shapes are gitleaks'
maintained rule set (vendored as ``data/secret_rules.toml``) plus predeploy's own rules for what a
deployment's output holds that gitleaks leaves to its entropy-filtered generic rule: assignments
(``password = ...``), URLs with a password, ``Authorization: Basic``, netrc, ``curl --user``,
PuTTY key files.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from importlib import resources
from typing import Any
from urllib.parse import quote, quote_plus

import toml_rs

from predeploy_tui.core.results import CheckResult

MASK = "***"
"""What a secret becomes."""
FUZZY_LENGTH = 6
"""Known values at least this long are also found upper-cased, reversed, as hex, split across a
line break and inside longer base64 (``Basic`` of ``user:secret``); shorter ones only as given,
so a three-letter secret does not eat every word that contains it backwards."""

SPLIT_LENGTH = 256
"""Longer known values (a key file's text) are not also sought split across a line break: the
pattern would hold an optional break between every two of their characters."""

_KEY_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|^Private-Lines:", re.M)
_KEY_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|^Private-MAC:.*$", re.M)
_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_")


@dataclass(frozen=True)
class Rule:
    """One secret shape."""

    kind: str
    """What it is, as said to a person ("GitHub token"); never the secret."""
    source: str
    """Where it is: the regular expression, compiled on first use (see :attr:`pattern`)."""
    group: int | None
    """The group holding the secret; None: the first group that matched, else the whole match."""
    words: tuple[str, ...]
    """Lower-case words one of which every match contains: a text without any skips the rule."""
    entropy: float = 0.0
    """Minimum Shannon entropy (bits per character) of the secret, as gitleaks filters."""
    accept: Callable[[re.Match[str]], bool] | None = None
    """A further test of a match."""
    anchored: bool = False
    """Every match starts with one of ``words``: the pattern is tried only where they occur,
    instead of scanning the text (a case-insensitive alternation scans slowly)."""
    flags: int = 0
    """``re`` flags of :attr:`source`."""

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        """The compiled expression. Compiled when a text first holds one of the rule's words:
        compiling all ~230 rules costs a process a tenth of a second, and most runs' output
        holds the words of a few rules at most."""
        return re.compile(self.source, self.flags)


def _basic_credentials(match: re.Match[str]) -> bool:
    """``Basic X`` after ``Authorization`` always; elsewhere only when X decodes to ``a:b``."""
    line_start = match.string.rfind("\n", 0, match.start()) + 1
    if "authorization" in match.string[line_start:match.start()].lower():
        return True
    token = match.group(2)
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except ValueError:
        return False
    return b":" in decoded


def _netrc_context(match: re.Match[str]) -> bool:
    """netrc's ``password X`` starts a line or follows ``login NAME``."""
    before = match.string[match.string.rfind("\n", 0, match.start()) + 1:match.start()]
    return not before.strip() or re.search(r"\blogin\s+\S+\s+$", before) is not None


_ASSIGNED = (r"(\"[^\"\n]*\"|'[^'\n]*'|(?!\*\*\*|\$\{)[^\s,;&\"'<>}]+)")
"""A value after ``=`` or ``:``: quoted, or up to a separator; never ``***`` or ``${...}``."""

_OWN_RULES: tuple[Rule, ...] = (
    Rule("private key", (r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?"
                         r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)"), 0,
         words=("private key",)),
    Rule("PuTTY private key", r"(?m)^Private-Lines:[\s\S]*?(?:^Private-MAC:.*$|\Z)", 0,
         words=("private-lines",)),
    Rule("AWS access key id", r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA)[A-Z0-9]{16}\b", 0,
         words=("akia", "asia", "aida", "aroa", "agpa", "anpa")),
    Rule("AWS secret key", (r"(?i)\b(aws_?secret_?(?:access_?)?key[\"']?\s*[=:]\s*[\"']?)"
                            r"([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])"), 2, ("aws",),
         anchored=True),
    Rule("bearer token", r"(?i)(\bbearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)", 2, ("bearer",)),
    Rule("basic credentials", r"(?i)(\bbasic\s+)([A-Za-z0-9+/]{4,}={0,2})(?![\w+/=])", 2,
         ("basic",), accept=_basic_credentials),
    # The password runs to the last @ before the host, so one holding an @ is masked whole; the
    # user may be empty (redis://:pw@host).
    Rule("password in URL", r"(?i)\b[a-z][a-z0-9+.-]*://[^\s/:@]*:([^\s/]+)@(?=[^\s@/])",
         1, ("://",)),
    Rule("GitHub token", r"\b(?:gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{22,255})",
         0, ("gh",)),
    Rule("Slack token", r"\bxox[abprs]-[A-Za-z0-9-]{10,}", 0, ("xox",)),
    Rule("netrc password", (r"(?i)passw(?:or)?d[ \t]+(?!\*\*\*)(\S+)"
                            r"(?=[ \t]*(?:$|\s+(?:machine|login|account|macdef)\b))"),
         1, ("password", "passwd"), accept=_netrc_context, anchored=True, flags=re.M),
    Rule("curl --user", (r"(?:^|\s)(?:-u|--user)(?:=|\s+)(['\"]?)[^\s:'\"]*:"
                         r"(?!\*\*\*)([^\s'\"]+)\1"), 2, ("-u", "--user")),
    # The name before the keyword is not part of the secret, so the pattern starts at the keyword:
    # a lazy ``\b[\w.-]*?`` prefix made every word of every line a quadratic search.
    Rule("secret assignment", (
        r"(?i)((?:password|passwd|passphrase|pwd|secret|token|api[_-]?key|access[_-]?key"
        r"|private[_-]?key(?:[_-]?id)?|account[_-]?key|sharedaccesskey|credentials?"
        r"|(?<![a-z])auth(?:[_-]?token)?)"
        r"(?:_?key)?[\"']?\s*[=:]\s*)" + _ASSIGNED), 2,
        ("password", "passwd", "passphrase", "pwd", "secret", "token", "api", "access", "private",
         "account", "sharedaccesskey", "credential", "auth"), anchored=True),
)


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


@functools.cache
def rules() -> tuple[Rule, ...]:
    """Predeploy's own rules, then gitleaks' (loaded once, on first use).

    The vendored file is read with toml-rs (the session reader's parser, ten times faster than
    tomllib here; a test checks both read it alike).
    """
    raw = resources.files("predeploy_tui").joinpath("data/secret_rules.toml").read_text("utf-8")
    vendored = tuple(
        Rule(kind=rule["id"], source=rule["regex"], group=rule.get("secretGroup"),
             words=tuple(w.lower() for w in rule["keywords"]),
             entropy=float(rule.get("entropy", 0.0)))
        for rule in toml_rs.loads(raw, toml_version="1.0.0")["rules"])
    return _OWN_RULES + vendored


def _trie(words: Iterable[str]) -> str:
    """One pattern matching any of ``words``, shared prefixes factored out (a flat alternation
    of 250 words is tried word by word at every position and runs seven times slower)."""
    root: dict[str, Any] = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return emit(root)


@functools.cache
def _keywords() -> tuple[str, ...]:
    """Every rule's word once."""
    return tuple(dict.fromkeys(w for rule in rules() for w in rule.words))


@functools.cache
def _word_finder() -> re.Pattern[str]:
    """A pattern finding the longest of :func:`_keywords` starting at each position."""
    return re.compile(f"(?=({_trie(_keywords())}))")


SHORT_TEXT = 2048
"""A text this short is searched for each word in turn, not with the word pattern: most
(``exit 0 on web1``) hold none, and a process whose texts all are short never compiles the
pattern (7 ms, paid by the first screen of the app and by every short headless run)."""


@functools.cache
def _first_word() -> re.Pattern[str]:
    """A pattern matching where any of :func:`_keywords` starts (the first place only)."""
    return re.compile(_trie(_keywords()))


def _scan(lower: str) -> list[tuple[int, str]]:
    """Where the rules' words occur in the lower-cased text: (position, longest word there)."""
    if len(lower) <= SHORT_TEXT:
        longest: dict[int, str] = {}
        # ``in`` over every word first (most texts hold none: 4 us, where a find loop takes 25),
        # then every place of each word that is there.
        for word in [w for w in _keywords() if w in lower]:
            at = lower.find(word)
            while at >= 0:
                if len(word) > len(longest.get(at, "")):
                    longest[at] = word
                at = lower.find(word, at + 1)
        return sorted(longest.items())
    # Most output holds no word at all: finding the first place one starts, without the
    # lookahead that finds every word at every place, costs a third less per character, and
    # the full search then starts there.
    first = _first_word().search(lower)
    if first is None:
        return []
    return [(m.start(), m.group(1)) for m in _word_finder().finditer(lower, first.start())]


def _secret_span(rule: Rule, match: re.Match[str]) -> tuple[int, int] | None:
    if rule.group is not None:
        group = rule.group
    else:
        group = next((i for i in range(1, (match.re.groups or 0) + 1) if match.group(i)), 0)
    start, end = match.span(group)
    value = match.string[start:end].strip("\"'")
    if not value or MASK in value or value.startswith("${"):
        return None
    if rule.entropy and _entropy(value) < rule.entropy:
        return None
    if rule.accept is not None and not rule.accept(match):
        return None
    return start, end


def find_secrets(text: str) -> list[tuple[str, int, int]]:
    """Every known secret shape in ``text``: (kind, start, end) of the secret part, in order.

    Overlapping finds are merged into one span (under the first rule's kind).
    """
    lower = text.lower()
    return _secrets_at(text, lower, _scan(lower))


def _secrets_at(text: str, lower: str, hits: list[tuple[int, str]]) -> list[tuple[str, int, int]]:
    """:func:`find_secrets` of ``text``, given it lower-cased and the rules' words in it."""
    if not hits:
        return []
    # The longest word at a position holds the shorter ones starting there ("pass" in "password").
    longest = {word for _, word in hits}
    present = {word for word in _keywords() if any(word in found for found in longest)}
    same_places = len(lower) == len(text)
    found: list[tuple[str, int, int]] = []
    for rule in rules():
        if not any(word in present for word in rule.words):
            continue
        if rule.anchored and same_places:
            matches: Iterable[re.Match[str] | None] = (
                rule.pattern.match(text, at) for at, word in hits if word.startswith(rule.words))
        else:
            matches = rule.pattern.finditer(text)
        for match in matches:
            span = None if match is None else _secret_span(rule, match)
            if span is not None:
                found.append((rule.kind, *span))
    found.sort(key=lambda f: (f[1], -f[2]))
    merged: list[tuple[str, int, int]] = []
    for kind, start, end in found:
        if merged and start < merged[-1][2]:
            last = merged[-1]
            merged[-1] = (last[0], last[1], max(last[2], end))
        else:
            merged.append((kind, start, end))
    return merged


def _base64_cores(raw: bytes) -> set[str]:
    """Base64 text that every encoding holding ``raw`` contains, at each of the 3 alignments."""
    cores: set[str] = set()
    for skip in (0, 1, 2):
        body = raw[skip:]
        body = body[: len(body) - len(body) % 3]
        if len(body) >= 6:
            cores |= {base64.b64encode(body).decode(), base64.urlsafe_b64encode(body).decode()}
    return cores


@dataclass(frozen=True)
class _Forms:
    """The forms of the known values, as one pattern, and what tells they may be present."""

    pattern: re.Pattern[str]
    """Every form, longest first; fuzzy ones case-insensitive and split across a line break."""
    probes: tuple[str, ...]
    """Lower-cased texts one of which any occurrence contains (cheap ``in`` tests first)."""
    cores: frozenset[str]
    """Lower-cased base64 cores: a match of one is widened to the whole base64 run."""
    reach: int
    """How far from a probe a match can extend (a split form holds line breaks)."""


def _forms(values: Iterable[str]) -> _Forms | None:
    exact: set[str] = set()
    fuzzy: set[str] = set()
    split: set[str] = set()
    cores: set[str] = set()
    probes: set[str] = set()
    for value in values:
        raw = value.encode("utf-8")
        forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1],
                 json.dumps(value, ensure_ascii=False)[1:-1],
                 base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()}
        forms |= {f.rstrip("=") for f in forms if f.endswith("=")}
        if len(value) < FUZZY_LENGTH:
            exact |= {f for f in forms if len(f) >= 3}
            continue
        value_cores = _base64_cores(raw)
        cores |= {c.lower() for c in value_cores}
        fuzzy |= forms | value_cores | {value[::-1], raw.hex()}
        if len(value) <= SPLIT_LENGTH:
            split |= {value, value[::-1]}
        half = (len(value) + 1) // 2
        probes |= {value[:half].lower(), value[-half:].lower(),
                   value[::-1][:half].lower(), value[::-1][-half:].lower()}
    if not exact and not fuzzy:
        return None
    probes |= {f.lower() for f in exact | fuzzy}
    pieces = [(len(f), re.escape(f)) for f in exact]
    pieces += [(len(f), f"(?i:{re.escape(f)})") for f in fuzzy - split]
    # A value split across a line break: an optional line break between any two characters.
    pieces += [(len(f), "(?i:" + r"(?:\r?\n)?".join(re.escape(c) for c in f) + ")") for f in split]
    pieces.sort(key=lambda p: -p[0])
    return _Forms(re.compile("|".join(p for _, p in pieces)), tuple(probes), frozenset(cores),
                  reach=3 * max(n for n, _ in pieces))


def _near_probes(forms: _Forms, text: str, lower: str) -> Iterable[re.Match[str]]:
    """Matches of the forms, sought only around the probes' occurrences.

    Every match holds a probe, so windows of ``reach`` either side of each occurrence hold them
    all; the case-insensitive pattern, with an optional break between characters, costs too
    much to run over every position of a long output.
    """
    if len(lower) != len(text):
        return forms.pattern.finditer(text)
    windows: list[tuple[int, int]] = []
    for probe in forms.probes:
        at = lower.find(probe)
        while at >= 0:
            windows.append((max(0, at - forms.reach), min(len(text), at + forms.reach)))
            at = lower.find(probe, at + 1)
    windows.sort()
    merged: list[list[int]] = []
    for start, end in windows:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return (match for start, end in merged for match in forms.pattern.finditer(text, start, end))


class Redactor:
    """Replaces given secret values (and their encodings) and known secret shapes with ``***``."""

    def __init__(self, secret_values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._forms: _Forms | None = None
        self.add(secret_values)

    def add(self, secret_values: Iterable[str]) -> None:
        """Also redact these values from now on."""
        new = {v for v in secret_values if v and v != MASK and len(v) >= 3} - self._values
        if new:
            self._values |= new
            self._forms = _forms(self._values)

    def proof_token(self) -> object | None:
        """What :meth:`redact_traced`'s promise rests on: the known values, one object while none
        is added (a value added later was not sought in earlier lines); None when a value's
        probe holds a line break, so it could span two lines and the promise does not hold."""
        forms = self._forms
        if forms is None:
            return self
        if any("\n" in probe or "\r" in probe for probe in forms.probes):
            return None
        return forms

    def holds_back(self, text: str) -> bool:
        """Whether ``text`` ends with the start of a known value (its rest may follow)."""
        tail = text.rstrip("\r\n")[-64:].lower()
        return any(tail.endswith(v[:k].lower()) for v in self._values if len(v) >= FUZZY_LENGTH
                   for k in range(2, min(len(v), len(tail) + 1)))

    def _forms_masked(self, forms: _Forms, text: str, lower: str) -> str:
        out: list[str] = []
        last = 0
        for match in _near_probes(forms, text, lower):
            start, end = match.span()
            if start < last:
                continue
            if match.group().lower() in forms.cores:
                while start > 0 and text[start - 1] in _B64:
                    start -= 1
                while end < len(text) and text[end] in _B64:
                    end += 1
                while end < len(text) and text[end] == "=":
                    end += 1
                start = max(start, last)
            out.append(text[last:start])
            out.append(MASK + "\n" * match.group().count("\n"))
            last = end
        out.append(text[last:])
        return "".join(out)

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        return self.redact_traced(text)[0]

    def redact_traced(self, text: str) -> tuple[str, bool]:
        """``text`` redacted, and whether it was traceless: it holds none of the known values'
        probes and none of the rules' words, where every redaction starts. Each of those is
        found within one line (unless :meth:`proof_token` is None), so a text whose lines
        were all traceless, redacted in any pieces cut after line breaks, is traceless whole:
        redacting it whole changes nothing."""
        if not text:
            return text, True
        lower = text.lower()
        forms = self._forms
        probed = forms is not None and any(probe in lower for probe in forms.probes)
        if probed and forms is not None:
            text = self._forms_masked(forms, text, lower)
            lower = text.lower()
        hits = _scan(lower)
        spans = _secrets_at(text, lower, hits)
        if not spans:
            return text, not probed and not hits
        out: list[str] = []
        last = 0
        for _, start, end in spans:
            out.append(text[last:start])
            out.append(MASK)
            last = end
        out.append(text[last:])
        return "".join(out), False

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
    chunk, so a secret split across two reads is still seen whole; so is a last line that ends
    with the start of a known value, whose rest may come on the next line.
    """

    def __init__(self, redactor: Redactor, flush_at: int = 8192) -> None:
        self._redactor = redactor
        self._pending = ""
        self._in_key = False
        self._flush_at = flush_at
        self._token = redactor.proof_token()
        self._traceless = True
        """Every piece so far was traceless and cut after a line break."""

    @property
    def whole_unchanged(self) -> bool:
        """Whether redacting everything fed so far, whole, would give it back unchanged.

        True when every piece went out traceless (:meth:`Redactor.redact_traced`), each cut
        after a line break, and no known value was added meanwhile: whatever starts a
        redaction lies within one line, so it would have been found in that line's piece.
        A caller that must redact the whole text (multi-line secrets are only seen whole)
        may then skip it.
        """
        return (self._traceless and self._token is not None
                and self._redactor.proof_token() is self._token)

    def feed(self, text: str) -> str:
        """What of ``text`` (after what was held back) can be shown now, redacted."""
        self._pending += text
        cut = self._pending.rfind("\n") + 1
        if cut and self._redactor.holds_back(self._pending[:cut]):
            cut = self._pending.rfind("\n", 0, cut - 1) + 1
        if cut == 0 and len(self._pending) < self._flush_at:
            return ""
        if cut == 0:
            cut = len(self._pending)
            self._traceless = False  # a cut inside a line: something may span it
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return self._lines(ready)

    def flush(self) -> str:
        """Everything held back, redacted."""
        ready, self._pending = self._pending, ""
        return self._lines(ready) if ready else ""

    def _lines(self, text: str) -> str:
        if not self._in_key and _KEY_BEGIN.search(text) is None:
            # No key block starts or continues here: the whole run of complete lines is
            # redacted in one pass instead of line by line.
            shown, traceless = self._redactor.redact_traced(text)
            self._traceless = self._traceless and traceless
            return shown
        self._traceless = False
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
