"""A virtualised table: rows are plain Python objects, only visible lines are ever rendered.

Textual's ``DataTable`` builds per-row structures for every row (seconds for 100,000 rows);
this widget keeps a list of row objects and turns a row into a line only when that line is on
screen (Line API ``render_line``), caching the few it has drawn. ``set_rows`` is O(n) with a
tiny constant (a list copy), so 100k rows cost milliseconds.

Cells are built by per-column callbacks that return ``rich.text.Text``; the table never parses
markup, so untrusted text (built with ``tui.widgets.safe.safe_text``) stays literal.

| Key | Action |
| :- | :- |
| up / k | cursor up |
| down / j | cursor down |
| pageup / pagedown | one page up / down |
| home / g | first row |
| end / G | last row |
| enter | select the row (posts ``RowSelected``) |

With ``selectable=False`` the table leaves ``enter`` to its screen, whose own binding then shows
in the footer (a widget's hidden ``enter`` would otherwise hide the screen's "enter Open").

Headings: rows for which ``is_heading`` is true are drawn across the whole width by
``render_heading`` (a group's name and counts) instead of by the columns. They are rows like
the others (the cursor can rest on one, so a screen can fold its group), and a sort orders the
rows between two headings only, so groups stay where the screen put them.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Literal, TypeVar

from rich.segment import Segment
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ledger_core.textfit import MARKER, middle_cut

from .mono import uncoloured

R = TypeVar("R")

Justify = Literal["left", "right", "center"]
_GAP = 1  # blank cells between columns


@dataclass(frozen=True)
class Column(Generic[R]):
    """One column: how to draw a cell of a row, how wide, and how to sort by it."""

    key: str
    label: str
    render: Callable[[R], Text]
    width: int = 10
    min_width: int | None = None  # shrink to this when the table is narrow; default: width
    justify: Justify = "left"
    sort_key: Callable[[R], Any] | None = None
    flex: bool = False  # takes the width left over by the other columns
    # "middle": a cell too wide loses its middle, not its end (ids that start alike).
    shorten: str = "end"


def shorten_text_middle(cell: Text, width: int) -> Text:
    """``cell`` cut in its middle to ``width`` (``ledger_core.textfit``), keeping its styles."""
    cut = middle_cut(len(cell.plain), width)
    if cut is None:
        return cell
    head, tail = cut
    pieces = cell.divide([head, len(cell.plain) - tail])
    out = pieces[0]
    out.append(MARKER, style="dim")
    out.append_text(pieces[-1])
    out.no_wrap, out.end = True, ""
    return out


def _none_last(key: Callable[[Any], Any], reverse: bool) -> Callable[[Any], tuple[bool, Any]]:
    """A sort key that puts rows whose key is ``None`` last in either direction."""

    def wrapped(row: Any) -> tuple[bool, Any]:
        value = key(row)
        return ((value is None) != reverse, value if value is not None else 0)

    return wrapped


def layout_widths(columns: Sequence[Column[Any]], available: int) -> list[int]:
    """Column widths for ``available`` cells: flex columns grow, then columns shrink right first.

    Never below a column's ``min_width``; if even that does not fit the table scrolls sideways.
    """
    widths = [c.width for c in columns]
    if not columns:
        return widths
    used = sum(widths) + _GAP * (len(columns) - 1)
    spare = available - used
    flex = [i for i, c in enumerate(columns) if c.flex]
    if spare > 0 and flex:
        share, extra = divmod(spare, len(flex))
        for n, i in enumerate(flex):
            widths[i] += share + (1 if n < extra else 0)
        return widths
    if spare < 0:
        # Flex columns give up width first, then the others from the right.
        order = flex + [i for i in reversed(range(len(columns))) if i not in flex]
        for i in order:
            floor = columns[i].min_width if columns[i].min_width is not None else columns[i].width
            give = min(widths[i] - floor, -spare)
            if give > 0:
                widths[i] -= give
                spare += give
            if spare >= 0:
                break
    return widths


class VirtualTable(ScrollView, Generic[R], can_focus=True):
    """A table of row objects with a cursor, sortable columns and Line-API rendering."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home,g", "first", "First", show=False),
        Binding("end,G", "last", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--empty",
        "virtual-table--heading",
    }

    DEFAULT_CSS = """
    VirtualTable {
        background: $surface;
        color: $foreground;
        height: 1fr;
        & > .virtual-table--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        &:ansi > .virtual-table--header {
            background: ansi_bright_blue;
            color: ansi_default;
        }
        & > .virtual-table--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus > .virtual-table--cursor {
            background: $block-cursor-background;
            color: $block-cursor-foreground;
            text-style: $block-cursor-text-style;
        }
        & > .virtual-table--empty {
            color: $text-muted;
            text-style: italic;
        }
        & > .virtual-table--heading {
            background: $boost;
            text-style: bold;
        }
    }
    """

    cursor_row: reactive[int] = reactive(0, always_update=False, repaint=False)
    """Index (in display order) of the highlighted row."""

    class RowHighlighted(Message):
        """The cursor moved to ``row`` (the row object) at ``index``."""

        def __init__(self, table: VirtualTable[Any], row: Any, index: int) -> None:
            super().__init__()
            self.table = table
            self.row = row
            self.index = index

        @property
        def control(self) -> VirtualTable[Any]:
            return self.table

    class RowSelected(Message):
        """``enter`` (or a click) on ``row`` at ``index``."""

        def __init__(self, table: VirtualTable[Any], row: Any, index: int) -> None:
            super().__init__()
            self.table = table
            self.row = row
            self.index = index

        @property
        def control(self) -> VirtualTable[Any]:
            return self.table

    class Sorted(Message):
        """The user sorted by ``column_key`` (``reverse`` for descending)."""

        def __init__(self, table: VirtualTable[Any], column_key: str, reverse: bool) -> None:
            super().__init__()
            self.table = table
            self.column_key = column_key
            self.reverse = reverse

        @property
        def control(self) -> VirtualTable[Any]:
            return self.table

    def __init__(
        self,
        columns: Sequence[Column[R]],
        *,
        row_key: Callable[[R], Hashable] | None = None,
        empty_message: str = "nothing to show",
        name: str | None = None,
        id: str | None = None,  # noqa: A002 - Textual's own parameter name
        classes: str | None = None,
        selectable: bool = True,
        is_heading: Callable[[R], bool] | None = None,
        render_heading: Callable[[R], Text] | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.selectable = selectable
        self._is_heading = is_heading if render_heading is not None else None
        self._render_heading = render_heading
        self._columns: list[Column[R]] = list(columns)
        self._rows: list[R] = []
        self._row_key = row_key
        self.empty_message = empty_message
        self.sort_column: str | None = None
        self.sort_reverse = False
        self._generation = 0  # bumped whenever cached lines may be stale
        self._line_cache: LRUCache[tuple[Any, ...], Strip] = LRUCache(256)
        self._widths_cache: tuple[int, list[int]] | None = None
        self._last_highlighted: Any = object()

    # -- public API -------------------------------------------------------------------------

    @property
    def rows(self) -> list[R]:
        """The rows in display order (do not mutate; use ``set_rows``)."""
        return self._rows

    @property
    def row_count(self) -> int:
        return len(self._rows)

    @property
    def columns(self) -> list[Column[R]]:
        return self._columns

    @property
    def cursor_value(self) -> R | None:
        """The highlighted row object, or ``None`` when the table is empty."""
        if 0 <= self.cursor_row < len(self._rows):
            return self._rows[self.cursor_row]
        return None

    def set_columns(self, columns: Sequence[Column[R]]) -> None:
        self._columns = list(columns)
        self._invalidate()

    def set_rows(self, rows: Sequence[R], *, keep_cursor: bool = True) -> None:
        """Replace every row (applying the current sort). Cheap: one list copy, plus a sort.

        With ``keep_cursor`` and a ``row_key``, the cursor stays on the same row if it is still
        there; otherwise it keeps its index (clamped).
        """
        current = self.cursor_value
        self._rows = list(rows)
        if self.sort_column is not None:
            self._apply_sort()
        self._after_rows_changed(current if keep_cursor else None)

    def sort(self, column_key: str, reverse: bool | None = None) -> None:
        """Sort by ``column_key``; without ``reverse``, a second sort on it flips direction."""
        column = self._column(column_key)
        if column is None or column.sort_key is None:
            return
        if reverse is None:
            reverse = not self.sort_reverse if self.sort_column == column_key else False
        current = self.cursor_value
        self.sort_column, self.sort_reverse = column_key, reverse
        self._apply_sort()
        self._after_rows_changed(current)
        self.post_message(self.Sorted(self, column_key, reverse))

    def clear_sort(self) -> None:
        """Back to the order rows were given in (at the next ``set_rows``)."""
        self.sort_column, self.sort_reverse = None, False
        self._invalidate()

    def move_cursor(self, index: int) -> None:
        """Put the cursor on ``index`` (clamped) and scroll it into view."""
        self.cursor_row = self._clamp(index)
        self._scroll_to_cursor()

    def find(self, predicate: Callable[[R], bool], start: int = 0) -> int | None:
        """Index of the first row from ``start`` for which ``predicate`` is true."""
        for index in range(max(0, start), len(self._rows)):
            if predicate(self._rows[index]):
                return index
        return None

    # -- actions ----------------------------------------------------------------------------

    def action_cursor_up(self) -> None:
        self.move_cursor(self.cursor_row - 1)

    def action_cursor_down(self) -> None:
        self.move_cursor(self.cursor_row + 1)

    def action_page_up(self) -> None:
        self.move_cursor(self.cursor_row - self._page())

    def action_page_down(self) -> None:
        self.move_cursor(self.cursor_row + self._page())

    def action_first(self) -> None:
        self.move_cursor(0)

    def action_last(self) -> None:
        self.move_cursor(len(self._rows) - 1)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # False passes the key on to the screen (and keeps the screen's binding in the footer).
        return self.selectable if action == "select" else True

    def action_select(self) -> None:
        row = self.cursor_value
        if row is not None:
            self.post_message(self.RowSelected(self, row, self.cursor_row))

    # -- reactives and events -----------------------------------------------------------------

    def validate_cursor_row(self, value: int) -> int:
        return self._clamp(value)

    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh()
        self._post_highlight()

    def on_resize(self, event: events.Resize) -> None:
        self._update_virtual_size()
        self._scroll_to_cursor()

    def on_focus(self) -> None:
        self._invalidate()

    def on_blur(self) -> None:
        self._invalidate()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._invalidate()

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            key = self._column_at(event.x + int(self.scroll_x))
            if key is not None:
                self.sort(key)
            return
        index = event.y - 1 + int(self.scroll_y)
        if 0 <= index < len(self._rows):
            already = index == self.cursor_row
            self.move_cursor(index)
            if already or event.chain > 1:
                self.action_select()

    # -- rendering ----------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        scroll_x, scroll_y = int(self.scroll_x), int(self.scroll_y)
        if y == 0:
            key: tuple[Any, ...] = ("header", width, scroll_x, self._generation)
            strip = self._line_cache.get(key)
            if strip is None:
                strip = self._crop(self._header_text(), scroll_x, width)
                self._line_cache[key] = strip
            return strip
        index = y - 1 + scroll_y
        if not self._rows:
            # The message wraps (at 80 columns "where it looked" must not be cut off).
            lines = Text(self.empty_message).wrap(self.app.console, max(10, width - 2))
            if 1 <= y <= len(lines):
                style = self.get_component_rich_style("virtual-table--empty")
                line = Text(" ", style=style)
                line.append_text(lines[y - 1])
                line.stylize(style)
                return self._crop(line, 0, width)
            return Strip.blank(width, self.rich_style)
        if index >= len(self._rows):
            return Strip.blank(width, self.rich_style)
        is_cursor = index == self.cursor_row
        key = ("row", index, is_cursor, width, scroll_x, self._generation)
        strip = self._line_cache.get(key)
        if strip is None:
            row = self._rows[index]
            if self._is_heading is not None and self._is_heading(row):
                # Not scrolled sideways: the group's name stays in view.
                strip = self._crop(self._heading_text(row, is_cursor), 0, width)
            else:
                strip = self._crop(self._row_text(row, is_cursor), scroll_x, width)
            self._line_cache[key] = strip
        return strip

    def _crop(self, text: Text, scroll_x: int, width: int) -> Strip:
        segments = list(text.render(self.app.console))
        strip = Strip(Segment.apply_style(segments, self.rich_style))
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, self.rich_style)

    def _widths(self) -> list[int]:
        available = self.scrollable_content_region.width or self.size.width
        if self._widths_cache is None or self._widths_cache[0] != available:
            self._widths_cache = (available, layout_widths(self._columns, available))
        return self._widths_cache[1]

    def _header_text(self) -> Text:
        style = self.get_component_rich_style("virtual-table--header")
        cells = []
        for column, width in zip(self._columns, self._widths(), strict=True):
            label = column.label
            if column.key == self.sort_column:
                label = f"{label}{'▼' if self.sort_reverse else '▲'}"
            cells.append(self._fit(Text(label), width, column.justify))
        line = Text(" " * _GAP).join(cells)
        line.stylize(style)
        line.pad_right(max(0, self.size.width - line.cell_len))
        line.stylize(style)
        return line

    def _row_text(self, row: R, is_cursor: bool) -> Text:
        mono = getattr(self.app, "no_color", False)
        cells = []
        for column, width in zip(self._columns, self._widths(), strict=True):
            try:
                cell = column.render(row)
            except Exception as exc:  # noqa: BLE001 - one bad cell must not blank the table
                cell = Text(f"<{type(exc).__name__}>", style="red")
            if mono:
                cell = uncoloured(cell)
            cells.append(self._fit(cell, width, column.justify, column.shorten))
        line = Text(" " * _GAP).join(cells)
        if is_cursor:
            line.pad_right(max(0, self.size.width - line.cell_len))
            line.stylize(self.get_component_rich_style("virtual-table--cursor"))
        return line

    def _heading_text(self, row: R, is_cursor: bool) -> Text:
        assert self._render_heading is not None
        try:
            line = self._render_heading(row).copy()
        except Exception as exc:  # noqa: BLE001 - one bad heading must not blank the table
            line = Text(f"<{type(exc).__name__}>", style="red")
        if getattr(self.app, "no_color", False):
            line = uncoloured(line)
        line.no_wrap, line.end = True, ""
        line.truncate(max(1, self.size.width), overflow="ellipsis")
        line.pad_right(max(0, self.size.width - line.cell_len))
        if is_cursor:
            line.stylize(self.get_component_rich_style("virtual-table--cursor"))
        else:  # beneath the heading's own colours (a count in red stays red)
            line.stylize_before(self.get_component_rich_style("virtual-table--heading"))
        return line

    @staticmethod
    def _fit(cell: Text, width: int, justify: Justify, shorten: str = "end") -> Text:
        cell = cell.copy()
        cell.no_wrap = True
        cell.end = ""
        if cell.cell_len > width and shorten == "middle":
            cell = shorten_text_middle(cell, width)
        if cell.cell_len > width:
            cell.truncate(width, overflow="ellipsis")
        cell.align(justify, width)
        return cell

    # -- internals ----------------------------------------------------------------------------

    def _column(self, key: str) -> Column[R] | None:
        return next((c for c in self._columns if c.key == key), None)

    def _column_at(self, x: int) -> str | None:
        left = 0
        for column, width in zip(self._columns, self._widths(), strict=True):
            if left <= x < left + width + _GAP:
                return column.key
            left += width + _GAP
        return None

    def _apply_sort(self) -> None:
        column = self._column(self.sort_column or "")
        if column is None or column.sort_key is None:
            return
        key = _none_last(column.sort_key, self.sort_reverse)
        is_heading = self._is_heading
        if is_heading is None:
            self._rows.sort(key=key, reverse=self.sort_reverse)
            return
        # Each run of rows between headings is sorted on its own; headings stay put.
        out: list[R] = []
        section: list[R] = []
        for row in self._rows:
            if is_heading(row):
                out += sorted(section, key=key, reverse=self.sort_reverse)
                out.append(row)
                section = []
            else:
                section.append(row)
        out += sorted(section, key=key, reverse=self.sort_reverse)
        self._rows = out

    def _after_rows_changed(self, previous: R | None) -> None:
        index = self.cursor_row
        if previous is not None and self._row_key is not None:
            wanted = self._row_key(previous)
            found = self.find(lambda r: self._row_key(r) == wanted)  # type: ignore[misc]
            if found is not None:
                index = found
        self._invalidate()
        self._update_virtual_size()
        self.set_reactive(VirtualTable.cursor_row, self._clamp(index))
        self._scroll_to_cursor()
        self._post_highlight()

    def _post_highlight(self) -> None:
        row = self.cursor_value
        key = (
            self._row_key(row) if self._row_key and row is not None else id(row),
            self.cursor_row,
        )
        if key != self._last_highlighted:
            self._last_highlighted = key
            if row is not None:
                self.post_message(self.RowHighlighted(self, row, self.cursor_row))

    def _invalidate(self) -> None:
        self._generation += 1
        self._line_cache.clear()
        self._widths_cache = None
        self.refresh()

    def _update_virtual_size(self) -> None:
        # The narrowest layout: the table scrolls sideways only when even that does not fit.
        widths = layout_widths(self._columns, 0)
        total = sum(widths) + _GAP * max(0, len(widths) - 1)
        self.virtual_size = Size(total, len(self._rows) + 1)

    def _clamp(self, index: int) -> int:
        return max(0, min(index, len(self._rows) - 1)) if self._rows else 0

    def _page(self) -> int:
        return max(1, self.scrollable_content_region.height - 2)

    def _scroll_to_cursor(self) -> None:
        visible = self.scrollable_content_region.height - 1  # the header line is fixed
        if visible <= 0:
            return
        top = int(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)
