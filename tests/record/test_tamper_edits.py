"""Every single-field and structural edit of a signed session's TOML is caught by ``verify``.

The session has three sign-offs (one superseded), an SSH signature and a decision. Each edit is
made to the parsed document and written back as TOML, as a hand edit would be: delete each key,
change each value, rename each table key, remove, duplicate and swap array tables, reverse the
items. An edit that changes nothing the file means (deleting a key holding its default) is not
counted; an edit of a field left outside the seal (``integrity.UNSEALED``) must pass.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import tomllib
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from predeploy_tui.cli import main
from predeploy_tui.core import integrity, store
from predeploy_tui.core.session import Session

from .demo import at, finished_session, resign

Doc = dict[str, Any]
Edit = tuple[tuple[Any, ...], str, Callable[[Doc], None]]
"""(the path of what was edited, how, the edit made to a copy of the document)."""

_OTHER = {"status": {"pass": "fail", "fail": "pass", "done": "fail", "waived": "pass",
                     "GO": "NO GO", "CONDITIONAL GO": "GO", "NO GO": "GO"},
          "kind": {"check": "manual", "manual": "check", "action": "check"},
          "role": {"deployer": "reviewer", "reviewer": "deployer", "engineering": "product",
                   "product": "engineering"},
          "risk": {"low": "high", "medium": "low", "high": "low"},
          "suggested": {"GO": "NO GO", "CONDITIONAL GO": "GO", "NO GO": "GO"}}
"""Another valid value for enumerated keys, so the edit reaches verify instead of the reader."""


def signed_session() -> Session:
    """The demo session signed by engineering, product, engineering again (SSH-signed), decided."""
    session = finished_session()
    resign(session, "product", "Pia Product", at(42))
    resign(session, "engineering", "Eve Lead", at(43))
    last = session.signoffs[-1]
    last.signature, last.signer_key = "-----BEGIN SSH SIGNATURE-----\nU1NI\n", "SHA256:abc"
    integrity.reseal(last)
    session.approvals_sha256 = ""  # made again below, as Session.sign would after signing
    decision = integrity.seal_decision(session, copy.copy(session.decision))
    session.decide(decision, at(44))
    return session


def _changed(key: str, value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 1.5
    if isinstance(value, datetime):
        return value + timedelta(seconds=1)
    if isinstance(value, str):
        return _OTHER.get(key, {}).get(value, value + "x")
    if isinstance(value, list):
        return [*value, "x"] if value else ["x"]
    raise AssertionError(f"no edit for {type(value)}")


def _at(doc: Doc, path: tuple[Any, ...]) -> Any:
    for step in path:
        doc = doc[step]
    return doc


def edits(doc: Doc, path: tuple[Any, ...] = ()) -> Iterator[Edit]:
    """Every single-field and structural edit of ``doc`` below ``path``."""
    node = _at(doc, path)
    if isinstance(node, dict):
        for k in list(node):
            field = (*path, k)
            yield field, "deleted", partial(_delete, path=path, key=k)
            value = node[k]
            if isinstance(value, dict) or (isinstance(value, list) and value
                                           and isinstance(value[0], dict)):
                yield field, "key renamed", partial(_rename_at, path=path, key=k)
                yield from edits(doc, field)
            else:
                yield field, "changed", partial(_change, path=path, key=k)
                if isinstance(value, list) and len(value) > 1:
                    yield field, "last dropped", partial(_drop_last, path=path, key=k)
        if path == ("items",):
            yield path, "reversed", _reverse_items
    elif isinstance(node, list) and node and isinstance(node[0], dict):
        for i in range(len(node)):
            yield (*path, i), "removed", partial(_remove, path=path, index=i)
            yield (*path, i), "duplicated", partial(_duplicate, path=path, index=i)
            if i + 1 < len(node):
                yield (*path, i), "swapped with the next", partial(_swap_at, path=path, index=i)
            yield from edits(doc, (*path, i))
        yield path, "all removed", partial(_clear, path=path)


def _delete(d: Doc, path: tuple[Any, ...], key: str) -> None:
    _at(d, path).pop(key)


def _rename_at(d: Doc, path: tuple[Any, ...], key: str) -> None:
    _rename(_at(d, path), key)


def _change(d: Doc, path: tuple[Any, ...], key: str) -> None:
    table = _at(d, path)
    table[key] = _changed(key, table[key])


def _drop_last(d: Doc, path: tuple[Any, ...], key: str) -> None:
    _at(d, path)[key].pop()


def _reverse_items(d: Doc) -> None:
    d["items"] = dict(reversed(list(d["items"].items())))


def _remove(d: Doc, path: tuple[Any, ...], index: int) -> None:
    _at(d, path).pop(index)


def _duplicate(d: Doc, path: tuple[Any, ...], index: int) -> None:
    rows = _at(d, path)
    rows.insert(index, copy.deepcopy(rows[index]))


def _swap_at(d: Doc, path: tuple[Any, ...], index: int) -> None:
    _swap(_at(d, path), index)


def _clear(d: Doc, path: tuple[Any, ...]) -> None:
    _at(d, path).clear()


def _rename(table: dict[str, Any], key: str) -> None:
    items = list(table.items())
    table.clear()
    table.update((k + "x" if k == key else k, v) for k, v in items)


def _swap(rows: list[Any], i: int) -> None:
    rows[i], rows[i + 1] = rows[i + 1], rows[i]


def unsealed(field: tuple[Any, ...], how: str, doc: Doc) -> bool:
    """Whether the edit touches only a field listed in ``integrity.UNSEALED``."""
    last = field[-1] if field else None
    if field == ("session", "updated") or last in ("review_note", "review_notes", "reviewed_by",
                                                   "reviewed_at"):
        return True
    if field[:1] != ("items",) or "runs" not in field:
        return False
    if last == "duration":
        return True
    runs = _at(doc, field[:field.index("runs") + 1])
    index = field[field.index("runs") + 1] if len(field) > field.index("runs") + 1 else None
    if index is None:
        return False
    run = runs[index]
    if run.get("role") == "reviewer" and last != "role":
        return True  # a reviewer's run, except its role, which would make it the deployer's
    # Swapping a reviewer's run with a deployer's keeps the deployer's runs in their order.
    return how == "swapped with the next" and len(field) == field.index("runs") + 2 \
        and "reviewer" in (run.get("role"), runs[index + 1].get("role"))


def _verify(path: Path) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = main(["verify", str(path)])
    return code, out.getvalue()


def test_every_edit_of_a_signed_session_is_detected(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # Given a signed, decided session that verifies as written back from its parsed document
    session = signed_session()
    text = store.dumps(session)
    doc = tomllib.loads(text)
    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps(doc))
    assert _verify(path)[0] == 0
    base = store.loads(path.read_text())
    tried = detected = noop = passed_unsealed = bad_input = 0
    missed: list[str] = []
    for field, how, edit in edits(doc):
        what = ".".join(map(str, field)) + ": " + how
        # When one edit is made
        changed = copy.deepcopy(doc)
        edit(changed)
        path.write_text(tomli_w.dumps(changed))
        try:
            edited: Session | None = store.loads(path.read_text())
        except store.SessionFileError:
            edited = None
        if edited == base:
            noop += 1
            continue
        tried += 1
        code, out = _verify(path)
        # Then verify refuses it (2 when the reader does), unless the field is unsealed
        if unsealed(field, how, doc):
            assert code == (2 if edited is None else 0), (what, out)
            passed_unsealed += 1
        elif code == 0:
            missed.append(what)
            continue
        else:
            assert code == (2 if edited is None else 1), (what, out)
            bad_input += code == 2
            detected += 1
    with capsys.disabled():
        print(f"\nedits tried {tried}: detected {detected} ({bad_input} as bad input), "
              f"unsealed and passing {passed_unsealed}, missed {len(missed)}; "
              f"{noop} edits changed nothing")
    assert not missed, "\n".join(missed)
    assert tried > 500


@pytest.mark.parametrize(("what", "edit"), [
    ("decision covered deleted, CONDITIONAL GO -> GO",
     lambda d: (d["decision"].pop("covered"), d["decision"].__setitem__("status", "GO"))),
    ("sign-off covered deleted, signer renamed",
     lambda d: (d["signoffs"][0].pop("covered"), d["signoffs"][0].__setitem__("name", "Mallory"))),
    ("every sign-off deleted", lambda d: d.pop("signoffs")),
    ("the decision deleted", lambda d: d.pop("decision")),
    ("the last sign-off deleted", lambda d: d["signoffs"].pop()),
    ("the chain head deleted", lambda d: d["session"].pop("approvals_sha256")),
])
def test_issue_examples_are_tampered(tmp_path: Path, what: str,
                                     edit: Callable[[Doc], None]) -> None:
    doc = tomllib.loads(store.dumps(signed_session()))
    edit(doc)
    path = tmp_path / "s.toml"
    path.write_text(tomli_w.dumps(doc))
    code, out = _verify(path)
    assert code == 1, (what, out)
    assert "TAMPERED" in out
    assert out.rstrip().splitlines()[-1].startswith("NOT INTACT: tampered")
    report = io.StringIO()
    with contextlib.redirect_stdout(report):
        assert main(["export", str(path), "--format", "json"]) == 0
    integrity_report = json.loads(report.getvalue())["integrity"]
    assert not integrity_report["intact"]
    assert any(f["tampered"] for f in integrity_report["findings"])


def test_verify_names_what_it_leaves_outside_the_seal(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    store.save(signed_session(), path)
    code, out = _verify(path)
    assert code == 0, out
    assert "not covered by the seal: " + "; ".join(integrity.UNSEALED) in out
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    readme = " ".join(readme.replace("`", "").split())
    for line in integrity.UNSEALED:
        assert line in readme


def test_a_re_run_after_sign_off_is_stale_not_tampered(tmp_path: Path) -> None:
    session = signed_session()
    session.set_note("local.python", "edited later", at(50))
    path = tmp_path / "s.toml"
    store.save(session, path)
    code, out = _verify(path)
    assert code == 1
    assert "TAMPERED" not in out
    assert "CHANGED since it was signed (stale)" in out
    assert "changed: item local.python" in out
    assert out.rstrip().endswith("NOT INTACT: changed after sign-off")


BEFORE_CHAIN = Path(__file__).parent / "data" / "signed-before-chain.toml"
"""A session signed (engineering, product) and decided by predeploy before approvals were chained."""


def test_a_session_signed_before_the_chain_still_verifies(tmp_path: Path) -> None:
    code, out = _verify(BEFORE_CHAIN)
    assert code == 0, out
    assert "approval chain: not recorded (sealed by an older predeploy)" in out
    # An edit of its records is still caught, one by one.
    path = tmp_path / "s.toml"
    path.write_text(BEFORE_CHAIN.read_text().replace('name = "Pia Product"', 'name = "Mallory"'))
    code, out = _verify(path)
    assert code == 1
    assert "tampered: its own record (who, when, what was approved) was edited" in out


def test_signing_a_session_signed_before_the_chain_starts_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(BEFORE_CHAIN.read_text().replace(
        "../../../checklists/demo.yaml", str(Path(__file__).parents[2] / "checklists/demo.yaml")))
    assert main(["sign", str(path), "--role", "engineering", "--name", "Eve Lead"]) == 0
    code, out = _verify(path)
    assert code == 0, out
    assert "approvals (which exist, in which order): intact" in out
    # From now on removing the first, unchained, sign-off is caught.
    doc = tomllib.loads(path.read_text())
    doc["signoffs"].pop(0)
    path.write_text(tomli_w.dumps(doc))
    code, out = _verify(path)
    assert code == 1
    assert "TAMPERED" in out


def test_signing_after_the_decision_and_deciding_again_stay_intact(tmp_path: Path) -> None:
    # Given a decided session, then a later sign-off and a new decision
    session = signed_session()
    resign(session, "product", "Pia Product", at(60))
    session.decide(integrity.seal_decision(session, copy.copy(session.decision)), at(61))
    resign(session, "engineering", "Eve Lead", at(62))
    path = tmp_path / "s.toml"
    store.save(session, path)
    # Then every approval and the chain verify
    code, out = _verify(path)
    assert code == 0, out
    # And removing the sign-off made before the second decision is caught
    doc = tomllib.loads(path.read_text())
    doc["signoffs"].pop(3)
    path.write_text(tomli_w.dumps(doc))
    code, out = _verify(path)
    assert code == 1
    assert "TAMPERED" in out
