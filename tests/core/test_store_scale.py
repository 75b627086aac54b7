"""Session files at scale: literal strings, the fast reader agreeing with tomllib, leftovers of kills."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import toml_rs
from hypothesis import HealthCheck, given, settings

from predeploy_tui.core import store, tomlfmt
from predeploy_tui.core.results import CheckResult, Status
from predeploy_tui.core.store import SessionFileError

from .builders import T0, all_green, tiny_session
from .test_store import sessions

# -- literal strings ---------------------------------------------------------------------------

LITERAL = ["a\nb", "a\nb\n", "\n", "\n\nlead", "tab\there\n", "quote at end'\n", "x\nends with '",
           "x\nends with ''", "\"\"\" basic delimiters are fine\n", "back\\slash\n", "é 🚀 日本語\n",
           "'' two quotes\n", "'\nstarts with a quote", "x\n'"]
"""Multi-line text a literal string holds as it is, edges included (quotes right before the end)."""
ESCAPED = ["a\r\nb", "lone\rcr\n", "nul\x00\n", "esc \x1b[1m\n", "del\x7f\n", "three '''\n",
           "''''\n", "x\nends with '''", "\u0085 next line\nand\x0c form feed"]
"""Multi-line text that needs the escaped basic form: CR, controls, or ``'''``."""


@pytest.mark.parametrize("text", LITERAL)
def test_multiline_text_is_written_literal_and_read_back_exactly(text: str) -> None:
    written = tomlfmt.string(text)
    assert written.startswith("'''\n")
    doc = f"v = {written}\n"
    assert tomllib.loads(doc)["v"] == text
    assert toml_rs.loads(doc, toml_version="1.0.0")["v"] == text


@pytest.mark.parametrize("text", ESCAPED)
def test_text_a_literal_cannot_hold_is_escaped_and_read_back_exactly(text: str) -> None:
    written = tomlfmt.string(text)
    assert written.startswith('"""\n')
    doc = f"v = {written}\n"
    assert tomllib.loads(doc)["v"] == text
    assert toml_rs.loads(doc, toml_version="1.0.0")["v"] == text


def test_single_line_strings_stay_basic() -> None:
    assert tomlfmt.string("plain") == '"plain"'
    assert tomlfmt.string('say "hi" \\ there') == '"say \\"hi\\" \\\\ there"'
    assert tomlfmt.string("tab\tand\u00a0nbsp\x01") == '"tab\tand\u00a0nbsp\\u0001"'
    assert tomlfmt.string("a\nb", multiline=False) == '"a\\nb"'


def test_output_is_written_as_a_literal_string(tmp_path: Path) -> None:
    session = all_green(tiny_session())
    output = "line one\nline two 'quoted'\n"
    session.record_result("code.tests", CheckResult(Status.PASS, "ok", output=output,
                                                    started=T0, finished=T0), T0)
    text = store.save(session, tmp_path / "s.toml")
    assert "output = '''\nline one\nline two 'quoted'\n'''" in text
    assert store.load(tmp_path / "s.toml").items["code.tests"].runs[-1].output == output


# -- the two readers agree ---------------------------------------------------------------------

def _same(a: object, b: object) -> bool:
    """Equal, types and time zones included; nan equals nan."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        assert isinstance(b, dict)
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        assert isinstance(b, list)
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if hasattr(a, "tzinfo"):
        return a == b and a.tzinfo == b.tzinfo  # type: ignore[attr-defined]
    return a == b


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions())
def test_fast_reader_and_tomllib_read_a_saved_session_alike(session: store.Session) -> None:
    text = store.dumps(session)
    assert _same(toml_rs.loads(text, toml_version="1.0.0"), tomllib.loads(text))


def test_readers_agree_on_values_a_session_can_hold() -> None:
    doc = ("a = 2026-03-01T09:00:00Z\nb = 2026-03-01T09:00:00.000123+02:00\nc = nan\n"
           "d = -inf\ne = 1.0\nf = 3\ng = \"\"\"\nx\\r\\ny\\u0000\"\"\"\nh = '''\ncrlf\r\nline'''\n"
           "i = 9223372036854775807\nj = {x = 1, \"y z\" = [1, 2.5, \"q\"]}\n"
           "[t.\"a.b\"]\nk = true\n[[arr]]\nq = 1\n[[arr]]\nq = 2\n")
    assert _same(toml_rs.loads(doc, toml_version="1.0.0"), tomllib.loads(doc))
    assert tomllib.loads(doc)["h"] == "crlf\nline"  # CRLF in the file's own line breaks: LF


def test_a_file_the_fast_reader_refuses_gets_tomllibs_located_message(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    store.save(all_green(tiny_session()), path)
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[5] = "checklist_title = "
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SessionFileError) as caught:
        store.load(path)
    assert str(caught.value) == f"{path}:6:19: TOML syntax error: Invalid value"


# -- leftovers of killed saves -----------------------------------------------------------------

def _dead_pid() -> int:
    """The id of a process that has exited and been reaped."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, timeout=60, check=True)
    return int(child.stdout)


def test_save_removes_temp_files_of_dead_savers_only(tmp_path: Path) -> None:
    path = tmp_path / "release.toml"
    dead = path.with_name(f".release.toml.{_dead_pid()}.tmp")
    dead.write_text("half a file", encoding="utf-8")
    live_process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = path.with_name(f".release.toml.{live_process.pid}.tmp")
        live.write_text("another save in progress", encoding="utf-8")
        other_session = path.with_name(f".other.toml.{_dead_pid()}.tmp")
        other_session.write_text("not ours", encoding="utf-8")
        odd = path.with_name(".release.toml.notapid.tmp")
        odd.write_text("not a save's", encoding="utf-8")
        store.save(all_green(tiny_session()), path)
        assert not dead.exists()
        assert live.read_text(encoding="utf-8") == "another save in progress"
        assert other_session.exists()
        assert odd.exists()
        assert not path.with_name(f".release.toml.{os.getpid()}.tmp").exists()
        assert store.load(path).checklist_id
    finally:
        live_process.kill()
        live_process.wait(timeout=10)


# -- every table the writer writes takes the fast path ------------------------------------------

@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sessions())
def test_the_fast_reader_takes_every_table_the_writer_writes(session: store.Session) -> None:
    # A table the fast path turned down would still load (through the checks), only slowly:
    # nothing else would notice a field the fast path forgot.
    checked: list[tuple[str, dict[str, object]]] = []
    real = store._Reader.fields

    def noting(self: store._Reader, spec: object, d: dict[str, object], table: str) \
            -> dict[str, object]:
        checked.append((table, d))
        return real(self, spec, d, table)  # type: ignore[arg-type]

    text = store.dumps(session)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store._Reader, "fields", noting)
        assert store.loads(text) == session
    # Only an item with a waiver is read by the checks (its waiver table has rules of its own).
    assert all("waiver" in d for _, d in checked), [t for t, _ in checked]


def test_each_parsed_item_table_is_let_go_once_its_item_is_made(monkeypatch: pytest.MonkeyPatch) \
        -> None:
    # The parsed document and the session made from it are never both whole in memory: when an
    # item is made, the document's table for it is already out of the document.
    session = tiny_session()
    text = store.dumps(session)
    seen: list[tuple[str, bool, int]] = []
    parsed: dict[str, object] = {}
    real_session, real_item = store._Reader.session, store._Reader.item

    def spy_session(self: store._Reader, doc: dict[str, object]) -> object:
        parsed["doc"] = doc
        return real_session(self, doc)

    def spy_item(self: store._Reader, key: str, d: dict[str, object]) -> object:
        items = parsed["doc"]["items"]  # type: ignore[index]
        seen.append((key, key in items, len(items)))
        return real_item(self, key, d)

    monkeypatch.setattr(store._Reader, "session", spy_session)
    monkeypatch.setattr(store._Reader, "item", spy_item)
    loaded = store.loads(text)
    keys = list(session.items)
    assert len(keys) > 1
    assert seen == [(key, False, len(keys) - 1 - i) for i, key in enumerate(keys)]
    assert store.dumps(loaded) == text


@pytest.mark.parametrize("text", [*LITERAL, *ESCAPED, "", "one line", "x" * 100, "a'''b"])
def test_is_literal_says_what_string_writes(text: str) -> None:
    # The run writer decides by it, without writing the output first, how string() writes it.
    assert tomlfmt.is_literal(text) == (tomlfmt.string(text) == "'''\n" + text + "'''")
