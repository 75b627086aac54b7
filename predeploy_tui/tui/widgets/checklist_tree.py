"""Provides the checklist tree: sections -> groups -> items (and sub-items) with status glyphs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from rich.text import Text
from textual import on
from textual.geometry import Region
from textual.message import Message
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from predeploy_tui.core.results import Status
from predeploy_tui.core.session import ItemState, Session
from predeploy_tui.core.terminal import printable
from predeploy_tui.core.vocab import ItemKind
from predeploy_tui.tui.look import STATUS_STYLE

FILTERS = ("all", "failing", "pending", "manual")
"""The tree's filters, in the order the filter key cycles through them."""

_FAILING = {Status.FAIL, Status.ERROR, Status.BLOCKED, Status.STALE, Status.WARN, Status.SKIPPED}


def matches(state: ItemState, status: Status, view: str, search: str) -> bool:
    """Whether an item is shown under a filter and a title search."""
    if search and search.casefold() not in state.title.casefold():
        return False
    if view == "failing":
        return status in _FAILING
    if view == "pending":
        return not status.settled
    if view == "manual":
        return state.kind == ItemKind.MANUAL
    return True


def section_label(title: str, statuses: list[Status]) -> Text:
    """``Infrastructure 7/9, 1 failed``: passed of total, then what went wrong."""
    passed = sum(1 for s in statuses if s.passed)
    failed = sum(1 for s in statuses if s in (Status.FAIL, Status.ERROR))
    running = sum(1 for s in statuses if s is Status.RUNNING)
    text = Text(printable(title), style="bold")
    text.append(f" {passed}/{len(statuses)}", style="green" if passed == len(statuses) else "")
    if failed:
        text.append(f", {failed} failed", style="bold red")
    if running:
        text.append(f", {running} running", style="cyan")
    return text


def approval_labels(session: Session, stale_roles: list[str], stale_decision: bool) \
        -> list[tuple[str, Text]]:
    """``(node key, label)`` for each sign-off role and the decision: signed, stale or missing.

    The same staleness the header shows (the app computes it once per change of the session).
    """
    out: list[tuple[str, Text]] = []
    for role in session.signoff_roles:
        signed = session.signoff(role.role)
        title = printable(role.title or role.role)
        if signed is None:
            text = Text(f"○ not signed: {title}" + ("" if role.required else " (optional)"),
                        style="dim")
        elif role.role in stale_roles:
            text = Text(f"◷ STALE: {title} ({printable(signed.name)}), changed since signed",
                        style="bold yellow")
        else:
            text = Text(f"✔ {title} ({printable(signed.name)})")
        out.append((f"signoff:{role.role}", text))
    decision = session.decision
    if not decision.status:
        out.append(("decision", Text("○ no decision yet", style="dim")))
    elif stale_decision:
        out.append(("decision", Text(f"◷ STALE: decision {decision.status}, changed since made",
                                     style="bold yellow")))
    else:
        out.append(("decision", Text(f"✔ decision {decision.status}")))
    return out


def item_label(state: ItemState, status: Status) -> Text:
    """Glyph and title, coloured by status; actions and critical items are marked."""
    text = Text(f"{status.glyph} ", style=STATUS_STYLE[status])
    text.append(printable(state.title), style=STATUS_STYLE[status] if status is Status.FAIL else "")
    if state.kind == ItemKind.ACTION:
        text.append(" [action]", style="italic dim")
    if state.critical and not status.passed:
        text.append(" *", style="bold red")
    other = state.reviewer_disagrees
    if other is not None:
        text.append(f" ≠ reviewer {other.glyph} {other.value}", style="bold reverse")
    return text


class ChecklistTree(Tree[str]):
    """The navigable checklist; node data is the item key (or ``section:<id>``, ``group:...``)."""

    @dataclass
    class ItemSelected(Message):
        """The cursor moved onto an item (or a section: ``key`` is then ``section:<id>``)."""

        tree: ChecklistTree
        """The tree that announced it."""
        key: str
        """The item key or ``section:<id>``."""

        @property
        def control(self) -> ChecklistTree:
            """The tree, for ``@on`` selectors."""
            return self.tree

    def __init__(self, session: Session, section_titles: dict[str, str], *, id: str | None = None,
                 selected: Callable[[str], None] | None = None) -> None:
        super().__init__("Checklist", id=id)
        self.selected = selected
        """Called at once with the key under the cursor when it moves (instead of posting
        ItemSelected): the pane beside then shows the item in the same frame as the cursor."""
        self.show_root = False
        self.guide_depth = 2
        self.session = session
        self.section_titles = section_titles
        self.view = "all"
        """The filter in force (one of FILTERS)."""
        self.search = ""
        """Case-insensitive text the titles must contain ("" for all)."""
        self._item_nodes: dict[str, TreeNode[str]] = {}
        self._section_nodes: dict[str, TreeNode[str]] = {}
        self._drawn: dict[str, tuple[Status, Status | None]] = {}
        self._section_drawn: dict[str, Text] = {}
        self.stale: tuple[list[str], bool] = ([], False)
        """Stale sign-off roles and whether the decision is stale (set by the screen)."""
        self._approval_nodes: dict[str, TreeNode[str]] = {}
        self._approvals_drawn: dict[str, str] = {}

    def build(self, now: datetime) -> None:
        """(Re)build the tree under the current filter and search, keeping the cursor's item."""
        keep = self.current_key
        self.clear()
        self._item_nodes.clear()
        self._section_nodes.clear()
        self._drawn.clear()
        self._section_drawn.clear()
        statuses = {s.key: st for s, st in self.session.effective(now)}
        shown = {k for k, st in statuses.items()
                 if matches(self.session.items[k], st, self.view, self.search)}
        for key in list(shown):  # a sub-item that matches keeps its parents visible
            above = self._parent_key(key)
            while above is not None:
                shown.add(above)
                above = self._parent_key(above)
        groups: dict[tuple[str, str], TreeNode[str]] = {}
        for state in self.session.items.values():
            if state.key not in shown:
                continue
            section = self._section_nodes.get(state.section)
            if section is None:
                section = self.root.add(self.section_titles.get(state.section, state.section),
                                        data=f"section:{state.section}", expand=True)
                self._section_nodes[state.section] = section
            owner_key = self._parent_key(state.key)
            if owner_key is not None and owner_key in self._item_nodes:
                owner = self._item_nodes[owner_key]
            else:
                group = groups.get((state.section, state.group))
                if group is None:
                    group = section.add(Text(state.group or "Items", style="italic"),
                                        data=f"group:{state.section}:{state.group}", expand=True)
                    groups[(state.section, state.group)] = group
                owner = group
            node = owner.add(item_label(state, statuses[state.key]), data=state.key, expand=True,
                              allow_expand=False)
            self._item_nodes[state.key] = node
        for node in self._item_nodes.values():
            node.allow_expand = bool(node.children)
        # Sign-offs and the decision close the tree, so a stale one is seen beside the items.
        self._approval_nodes.clear()
        self._approvals_drawn.clear()
        approvals = self.root.add(Text("Sign-offs and decision", style="italic"), data="approvals",
                                  expand=True)
        for key, label in approval_labels(self.session, *self.stale):
            self._approval_nodes[key] = approvals.add_leaf(label, data=key)
        self.refresh_labels(now)
        if keep and keep in self._item_nodes:
            self.call_after_refresh(self.select_key, keep)

    def _parent_key(self, key: str) -> str | None:
        parent = key.rpartition(".")[0]
        return parent if parent in self.session.items else None

    def refresh_labels(self, now: datetime) -> None:
        """Redraw glyphs and section counts from the session (cheap: only labels change)."""
        by_section: dict[str, list[Status]] = {}
        changed: list[TreeNode[str]] = []
        for state, status in self.session.effective(now):
            by_section.setdefault(state.section, []).append(status)
            node = self._item_nodes.get(state.key)
            drawn = (status, state.reviewer_disagrees)
            if node is not None and self._drawn.get(state.key) != drawn:
                self._drawn[state.key] = drawn
                self._relabel(node, item_label(state, status))
                changed.append(node)
        for sid, node in self._section_nodes.items():
            label = section_label(self.section_titles.get(sid, sid), by_section.get(sid, []))
            if self._section_drawn.get(sid) != label:
                self._section_drawn[sid] = label
                self._relabel(node, label, own_line=True)
                changed.append(node)
        for key, label in approval_labels(self.session, *self.stale):
            node = self._approval_nodes.get(key)
            if node is not None and self._approvals_drawn.get(key) != label.plain:
                self._approvals_drawn[key] = label.plain
                self._relabel(node, label)
                changed.append(node)
        if changed:
            # One repaint for the whole batch, of the changed lines on screen only, no layout:
            # a label's new text stays on its one line. Lines off screen render when shown.
            regions = self._regions(changed)
            if regions is None:
                self.refresh()
            elif regions:
                self.refresh(*regions)

    def _regions(self, nodes: list[TreeNode[str]]) -> list[Region] | None:
        """The lines of ``nodes`` on screen; None when a node's line is not known yet."""
        top, height, width = self.scroll_offset.y, self.size.height, self.size.width
        regions = []
        for node in nodes:
            line = node._line
            if line < 0:
                return None
            if top <= line < top + height:
                regions.append(Region(0, line - top, width, 1))
        return regions

    def _relabel(self, node: TreeNode[str], label: Text, own_line: bool = False) -> None:
        """Change a node's label without ``set_label``: that queues one repaint message per
        node, and 200 checks finishing together would put 200 of them ahead of the next key.

        Each line's cache key holds the update count of every node above it, so counting an
        update of a section re-renders every line of it: a section's new counts (``own_line``)
        drop only the cached renders of its own line.
        """
        node._label = self.process_label(label)
        if own_line and node._line >= 0:
            cache = self._line_cache
            for key in [k for k in list(cache.keys()) if k[0] == node._line]:
                cache.discard(key)
        else:
            node._updates += 1  # part of the tree's line-cache key: the line renders anew

    @property
    def current_key(self) -> str | None:
        """The item (or section) under the cursor."""
        node = self.cursor_node
        return node.data if node is not None else None

    @property
    def visible_keys(self) -> list[str]:
        """Item keys shown, in tree order."""
        return list(self._item_nodes)

    def select_key(self, key: str, *, scroll: bool = True) -> bool:
        """Move the cursor to an item; False when the filter hides it.

        ``scroll=False`` before the tree is laid out: a scroll to the item computed against no
        size yet would hide the lines above it.
        """
        node = self._item_nodes.get(key)
        if node is None:
            return False
        parent = node.parent
        while parent is not None:
            parent.expand()
            parent = parent.parent
        if scroll:
            self.move_cursor(node)
        else:
            self._tree_lines  # noqa: B018  # Tree numbers its lines on first use: number them now
            self.cursor_line = node.line
        return True

    def next_matching(self, statuses: Iterable[Status], now: datetime) -> str | None:
        """The next shown item after the cursor (wrapping) whose status is one of ``statuses``."""
        wanted = set(statuses)
        keys = self.visible_keys
        if not keys:
            return None
        current = self.current_key
        start = keys.index(current) + 1 if current in keys else 0
        for key in keys[start:] + keys[:start]:
            if self.session.items[key].effective_status(now) in wanted:
                return key
        return None

    def watch_cursor_line(self, previous_line: int, line: int) -> None:
        """Move the cursor; with ``selected``, tell it now, not by a message: the screen updates
        between the key and the message, and its timer then waits one or two frames (up to
        33 ms) before it paints the pane."""
        previous = self._get_node(previous_line)
        super().watch_cursor_line(previous_line, line)
        node = self._get_node(line)
        if self.selected is not None and previous_line != line and node is not None \
                and node != previous and node.data is not None:
            self.selected(node.data)

    @on(Tree.NodeHighlighted)
    def _announce(self, event: Tree.NodeHighlighted[str]) -> None:
        event.stop()
        if event.node.data is not None and self.selected is None:
            self.post_message(self.ItemSelected(self, event.node.data))
