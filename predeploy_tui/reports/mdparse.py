"""Provides the reading half of the markdown import: markdown -> sections, groups and items.

The markdown is parsed by markdown-it-py (CommonMark with GFM tables), so lists, fences, HTML
blocks and comments mean what a markdown renderer shows. What is an item:

- a task-list entry (``- [ ] Backups verified``), nested ones as sub-items;
- every step of a numbered list (``1. Run the tests:`` and the fenced block under it);
- every row of a table with a name column (other columns go to the description).

Front matter (a leading ``---`` YAML block) gives the id and title; placeholders such as
``v[VERSION]``, ``<version>`` and ``{{version}}`` become variables (see :func:`placeholders`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import yaml
from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode

from predeploy_tui.core.yamlnodes import MAX_ITEMS

OPEN, CLOSE = "\ue000", "\ue001"
"""A placeholder is carried through the import as OPEN name CLOSE and written as ``${name}``."""


class ImportProblem(Exception):
    """The markdown could not be turned into a checklist: the message says where and why."""


@dataclass
class Item:
    """One item read from the markdown."""

    title: str
    line: int
    label: str = ""
    """The title without its commands, for the id."""
    code: list[tuple[str, str]] = field(default_factory=list)
    """(language, text) of each fenced block under the item."""
    inline: list[str] = field(default_factory=list)
    """Commands written as inline code in the item's own text."""
    details: list[str] = field(default_factory=list)
    """Plain bullet lines under the item (Name:, Date:)."""
    notes: list[str] = field(default_factory=list)
    """Text for the description: further paragraphs, other table columns, the source's tick."""
    critical: bool = False
    children: list[Item] = field(default_factory=list)


@dataclass
class Group:
    """Items under a heading."""

    title: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Section:
    """A top-level part of the checklist."""

    title: str
    line: int
    groups: list[Group] = field(default_factory=list)


@dataclass
class Document:
    """What the markdown says."""

    title: str = ""
    name: str = ""
    """The id the front matter asks for (``name:``)."""
    sections: list[Section] = field(default_factory=list)
    has_version: bool = False
    variables: dict[str, str] = field(default_factory=dict)
    """Placeholder name -> how the markdown wrote it."""


# ---------------------------------------------------------------------------------------------
# Placeholders and front matter.

_HTML_TAGS = frozenset(str.split(
    "a abbr address area article aside audio b base bdi bdo blockquote body br button canvas "
    "caption center cite code col colgroup data dd del details dfn dialog div dl dt em embed "
    "fieldset figcaption figure font footer form h1 h2 h3 h4 h5 h6 head header hr html i iframe "
    "img input ins kbd label legend li link main map mark meta nav noscript object ol optgroup "
    "option output p param picture pre progress q rp rt ruby s samp script section select small "
    "source span strike strong style sub summary sup table tbody td template textarea tfoot th "
    "thead time title tr track tt u ul var video wbr"))
"""Names in angle brackets that are HTML, not placeholders."""
_BRACES = re.compile(r"\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}")
_ANGLE = re.compile(r"<([A-Za-z][\w-]*(?: [\w-]+){0,3})>")
_SQUARE = re.compile(r"\[([A-Z][A-Z0-9_ -]*[A-Z0-9])\](?![(\[:])")
_BARE_URL = re.compile(r"(?<=\s)(URL|[A-Z][A-Z0-9]*_(?:URL|HOST|ENDPOINT))(?=[\s`'\"]|$)")
"""An all-capitals URL word in a curl command: ``curl -s URL``."""
_CODE_SPAN = re.compile(r"`[^`]+`")


def _var_name(said: str) -> str:
    name = re.sub(r"[^a-z0-9]+", "_", _ascii(said).lower()).strip("_")
    return name if name and not name[0].isdigit() else f"var_{name}" if name else "value"


def placeholders(text: str, found: dict[str, str]) -> str:
    """``text`` with each placeholder replaced by OPEN name CLOSE; ``found`` gets name -> how."""

    def mark(match: re.Match[str]) -> str:
        name = _var_name(match.group(1))
        found.setdefault(name, match.group(0))
        return f"{OPEN}{name}{CLOSE}"

    def angle(match: re.Match[str]) -> str:
        return match.group(0) if match.group(1).lower() in _HTML_TAGS else mark(match)

    text = _BRACES.sub(mark, text)
    text = _ANGLE.sub(angle, text)
    text = _SQUARE.sub(mark, text)
    def curl_line(line: str) -> str:
        if re.match(r"\s*(?:\$\s+)?curl\s", line):  # a command line in a fenced block
            return _BARE_URL.sub(mark, line)
        return _CODE_SPAN.sub(lambda m: _BARE_URL.sub(mark, m.group(0))
                              if re.search(r"\bcurl\s", m.group(0)) else m.group(0), line)

    return "\n".join(curl_line(line) if "curl" in line else line for line in text.split("\n"))


MAX_FRONT_MATTER = 16_000
"""Front matter larger than this is read as markdown: issue templates use a few short keys."""


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    """The front matter's keys, and the text with its lines blanked (line numbers stay)."""
    found = re.match(r"---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|$)", text, re.S)
    if not found or found.end() > MAX_FRONT_MATTER:
        return {}, text
    body = found.group(1) or ""
    blank = "\n" * found.group(0).count("\n")
    # No anchors or aliases: a few plain keys are all a checklist's front matter needs.
    if re.search(r"(^|[\s\[{,:-])[&*][^\s,\]}]", body):
        return {}, blank + text[found.end():]
    try:
        data = yaml.safe_load(body)
    except yaml.YAMLError:
        data = None
    return (data if isinstance(data, dict) else {}), blank + text[found.end():]


# ---------------------------------------------------------------------------------------------
# Text of inline content.

def _ascii(text: str) -> str:
    text = text.replace("ß", "ss").replace("æ", "ae").replace("Æ", "AE").replace("ø", "o")
    text = text.replace("Ø", "O").replace("ł", "l").replace("Ł", "L").replace("đ", "d")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def ident(text: str, fallback: str) -> str:
    """An id from a title: accents dropped, lower case, dashes, at most 40 characters."""
    words = re.sub(r"[(（][^()（）]*[)）]", " ", text.replace(OPEN, " ").replace(CLOSE, " "))
    made = re.sub(r"[^a-z0-9]+", "-", _ascii(words).lower()).strip("-")[:40].strip("-")
    return made if made and made[0].isalnum() and re.search("[a-z]", made) else fallback


def clean(text: str) -> str:
    """Readable text of inline markdown: links, emphasis, code marks and HTML tags dropped."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]*>", "", text)
    text = re.sub(r"[*_`]{1,3}(\S(?:.*?\S)?)[*_`]{1,3}", r"\1", text)
    return " ".join(text.split())


_TOOLS = frozenset(str.split(
    "curl wget kubectl helm terraform git gh psql redis-cli dig nslookup host openssl aws gcloud "
    "az df free nvidia-smi ssh scp systemctl journalctl docker podman make pytest npm npx yarn "
    "pnpm pip pip-audit python python3 alembic ls cat grep test bash sh sudo mysql mongosh "
    "ansible ansible-playbook argocd flux kustomize promtool vault consul nc ping "
    "traceroute sed awk jq yq tar rsync cp mv rm ln chmod chown mkdir go cargo mvn gradle"))
"""Commands that mark an inline code span as a command rather than a name or value."""


def _is_command(code: str) -> bool:
    words = code.strip().removeprefix("$ ").split()
    if not words:
        return False
    first = words[0]
    return first in _TOOLS or (first.startswith(("./", "/", "~/")) and len(first) > 2
                               and not first.endswith("/"))


_CODE_AT = re.compile("\ue002(\\d+)\ue003")
_CODE_IN_PARENS = re.compile("\\s*[(（]\\s*\ue002(\\d+)\ue003\\s*[)）]")


@dataclass
class _Text:
    """Inline content as a renderer shows it, line by line, with its commands."""

    lines: list[str]
    """Plain text; inline commands stand as a mark (``\\ue002N\\ue003``) until :meth:`shown`."""
    commands: list[str]

    def shown(self, first: bool = False, keep: bool = True) -> str:
        """The first line or the rest; commands in parentheses taken out of a first line (the
        title), the others kept as text unless not ``keep``."""
        text = self.lines[0] if first else " ".join(self.lines[1:])
        if first:
            text = _CODE_IN_PARENS.sub("", text)
        text = _CODE_AT.sub(lambda m: self.commands[int(m.group(1))] if keep else "",
                            _LINK.sub(r"\1", text))
        return " ".join(text.split())


def _inline_parts(node: SyntaxTreeNode | None) -> _Text:
    """The text of a paragraph, heading or table cell, and the commands in its code spans."""
    out = _Text([""], [])
    if node is None or not node.children:
        return out

    def walk(children: list[SyntaxTreeNode]) -> None:
        for child in children:
            if child.type in ("softbreak", "hardbreak"):
                out.lines.append("")
            elif child.type == "code_inline":
                code = child.content.strip()
                if _is_command(code):
                    out.lines[-1] += f"\ue002{len(out.commands)}\ue003"
                    out.commands.append(code.removeprefix("$ "))
                else:
                    out.lines[-1] += code
            elif child.type == "html_inline":
                out.lines[-1] += " " if re.match(r"<br\b", child.content, re.I) else ""
            elif child.type == "text":
                out.lines[-1] += child.content
            else:
                walk(child.children)

    walk(node.children[0].children if node.children[0].type == "inline" else node.children)
    return out


# ---------------------------------------------------------------------------------------------
# Walking the tree.

_BOX = re.compile(r"^\[([ xX])\](?:\s+|$)")
_NAME_COLUMN = re.compile(r"check|item|step|task|test|verif|title|what|name|項目|チェック", re.I)
_LEVEL_COLUMN = re.compile(r"level|severity|priority|critical|blocking|required|risk|重要", re.I)
_CRITICAL = re.compile(r"^(critical|high|blocker|blocking|p0|p1|yes|required|must|x|✓|✔|✅|"
                       r"必須|高)$", re.I)
_STATE = re.compile(r"^(\[[ xX]\]|✅|☑|☐|✓|✔|done|todo)$", re.I)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source
        self.doc = Document()
        self.count = 0
        self.last: Item | None = None
        self.named = False

    def group(self) -> Group:
        if not self.doc.sections:
            self.doc.sections.append(Section(self.doc.title or "Checklist", 1))
        section = self.doc.sections[-1]
        if not section.groups:
            section.groups.append(Group(section.title))
        return section.groups[-1]

    def add(self, item: Item, parent: Item | None) -> None:
        self.count += 1
        if self.count > MAX_ITEMS:
            raise ImportProblem(too_many(self.source, item.line))
        (parent.children if parent else self.group().items).append(item)

    def blocks(self, nodes: list[SyntaxTreeNode], parent: Item | None, top: bool) -> None:
        for node in nodes:
            kind = node.type
            if kind == "heading" and top:
                self.heading(node)
            elif kind in ("fence", "code_block"):
                owner = parent or self.last
                if owner is not None:
                    owner.code.append(((node.info or "").split(" ")[0].lower(), node.content))
            elif kind in ("bullet_list", "ordered_list"):
                self.list(node, parent)
            elif kind == "table":
                self.table(node, parent)
            elif kind == "blockquote":
                self.blocks(node.children, parent, top)
            elif kind == "paragraph":
                raw = node.children[0].content if node.children else ""
                if re.search(r"\*\*\s*deployment version\s*\*\*", raw, re.I):
                    self.doc.has_version = True
                text = _inline_parts(node)
                said = " ".join([text.shown(first=True), text.shown()]).strip()
                if parent is not None and said:
                    parent.notes.append(said)

    def heading(self, node: SyntaxTreeNode) -> None:
        level = int(node.tag[1:])
        words = _inline_parts(node).shown(first=True)
        line = (node.map or (0, 0))[0] + 1
        self.last = None
        if level == 1 and not self.named:
            self.named = True
            self.doc.title = self.doc.title or words
        elif level <= 2:
            self.doc.sections.append(Section(words or f"Section {len(self.doc.sections) + 1}", line))
        else:
            if not self.doc.sections:
                self.doc.sections.append(Section(self.doc.title or "Checklist", line))
            self.doc.sections[-1].groups.append(Group(words or "Items"))

    def list(self, node: SyntaxTreeNode, parent: Item | None) -> None:
        ordered = node.type == "ordered_list"
        for entry in node.children:
            children = list(entry.children)
            first = children[0] if children and children[0].type == "paragraph" else None
            text = _inline_parts(first)
            box = _BOX.match(text.lines[0])
            if box:
                text.lines[0] = text.lines[0][box.end():]
            line = (entry.map or (0, 0))[0] + 1
            if not box and not ordered:
                # A plain bullet: a detail of the item it is under (Name:, Date:), or a wrapper.
                said = " ".join([text.shown(first=True), text.shown()]).strip()
                if parent is not None and first is not None and said:
                    parent.details.append(said)
                self.blocks(children[1:] if first is not None else children, parent, False)
                continue
            title = text.shown(first=True).rstrip(":：").strip()
            item = Item(title or f"Untitled item on line {line}", line, inline=text.commands,
                        label=text.shown(first=True, keep=False))
            if box and box.group(1) in "xX":
                item.notes.append("ticked ([x]) in the imported markdown")
            if text.shown():
                item.notes.append(text.shown())
            self.add(item, parent)
            if parent is None:
                self.last = item
            self.blocks(children[1:] if first is not None else children, item, False)

    def table(self, node: SyntaxTreeNode, parent: Item | None) -> None:
        rows = [[_inline_parts(cell) for cell in row.children]
                for part in node.children for row in part.children]
        if len(rows) < 2 or len(rows[0]) < 2:
            return
        header = [cell.shown(first=True) for cell in rows[0]]
        name_at = next((i for i, h in enumerate(header) if _NAME_COLUMN.search(h)), 0)
        for number, row in enumerate(rows[1:], start=1):
            if name_at >= len(row) or not row[name_at].shown(first=True, keep=False):
                continue
            line = (node.map or (0, 0))[0] + 2 + number
            named = row[name_at]
            item = Item(named.shown(first=True), line, label=named.shown(first=True, keep=False))
            cells = [(cell.shown(first=True), cell.commands) for cell in row]
            for i, (value, commands) in enumerate(cells):
                item.inline.extend(commands)
                if i == name_at or not value:
                    continue
                said = header[i] if i < len(header) and header[i] else f"Column {i + 1}"
                if _STATE.match(value):
                    if value.lower() in ("[x]", "✅", "☑", "✓", "✔", "done"):
                        item.notes.append(f"ticked ({value}) in the imported markdown")
                    continue
                if _LEVEL_COLUMN.search(said) and _CRITICAL.match(value):
                    item.critical = True
                item.notes.append(f"{said}: {value}")
            self.add(item, parent)
            if parent is None:
                self.last = item


def too_many(source: str, line: int) -> str:
    """The message for an import over the item limit."""
    return (f"{source}:{line}: more than {MAX_ITEMS} checklist items; a checklist holds at "
            f"most {MAX_ITEMS}: split it into several files")


_CANDIDATE = re.compile(r"^\s*(?:[-*+]\s+\[[ xX]\]|\d{1,9}[.)](?:\s|$)|\|)")
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def _count_early(lines: list[str], source: str) -> None:
    """Refuse a file with too many items before parsing it, counting lines that look like items
    (task-list and numbered lines, table rows) outside fenced blocks."""
    count = 0
    fence = ""
    for number, line in enumerate(lines, start=1):
        opened = _FENCE.match(line)
        if opened and (not fence or opened.group(1).startswith(fence)):
            fence = "" if fence else opened.group(1)
            continue
        if fence or not _CANDIDATE.match(line) or _SEPARATOR.match(line):
            continue
        if line.lstrip().startswith("|") and number < len(lines) \
                and _SEPARATOR.match(lines[number]):
            continue  # a table's header row
        count += 1
        if count > MAX_ITEMS:
            raise ImportProblem(too_many(source, number))


_PARSER = MarkdownIt("commonmark").enable("table").disable(["link", "image"])
"""CommonMark with GFM tables. Links and images are left as text (their text is kept by
:data:`_LINK`): markdown-it-py's link rule reads runs of unclosed brackets ten times slower."""
_LINK = re.compile(r"!?\[([^\[\]]*)\]\([^()\s]*(?:\s+\"[^\"()]*\")?\)")
"""An inline link or image, ``[text](url "title")``: its text is what a reader sees."""


def read(text: str, source: str) -> Document:
    """The sections, groups and items of a markdown checklist."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace(OPEN, " ").replace(CLOSE, " ")
    matter, text = _front_matter(text)
    found: dict[str, str] = {}
    text = placeholders(text, found)
    _count_early(text.split("\n"), source)
    reader = _Reader(source)
    meta = {k: placeholders(str(matter[k]), found) for k in ("name", "title")
            if isinstance(matter.get(k), str | int | float)}
    reader.doc.title = clean(meta.get("title", "") or meta.get("name", ""))
    reader.doc.name = ident(meta.get("name", ""), "")
    reader.blocks(SyntaxTreeNode(_PARSER.parse(text)).children, None, True)
    reader.doc.variables = found
    return reader.doc
