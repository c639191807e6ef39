"""A scrollable list of one-line items rendered lazily (Line API), for plans and progress logs.

A rollback plan or progress log can hold 100,000 steps: building one widget (or even one
``Text``) per line up front would stall the UI. ``LinesView`` keeps plain Python items and
turns only the visible ones into ``Text`` through a render function, cropped to the width.

Keys: ``j``/``k`` or arrows scroll a line, ``pageup``/``pagedown`` a page, ``g``/``G`` the ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

RenderItem = Callable[[Any, int], Text]  # (item, width) -> one line


def _as_text(item: Any, width: int) -> Text:
    return item if isinstance(item, Text) else Text(str(item))


class LinesView(ScrollView, can_focus=True):
    """Items shown one per line; only the lines on screen are ever rendered."""

    BINDINGS = [
        Binding("j,down", "scroll_down", "Down", show=False),
        Binding("k,up", "scroll_up", "Up", show=False),
        Binding("pagedown,space", "page_down", "Page down", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("g,home", "scroll_home", "Top", show=False),
        Binding("G,end", "scroll_end", "Bottom", show=False),
    ]

    DEFAULT_CSS = """
    LinesView {
        height: 1fr;
        overflow-x: hidden;
    }
    """

    def __init__(
        self,
        render_item: RenderItem | None = None,
        *,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._items: list[Any] = []
        self._render_item = render_item or _as_text

    @property
    def items(self) -> list[Any]:
        return self._items

    def set_items(self, items: Iterable[Any]) -> None:
        """Replace every item (the list is taken as is, not copied, when it is a list)."""
        self._items = items if isinstance(items, list) else list(items)
        self._resize()

    def append(self, item: Any, *, follow: bool = True) -> None:
        """Add an item at the end; with ``follow`` keep the end in view."""
        self._items.append(item)
        self._resize()
        if follow:
            self.scroll_end(animate=False, immediate=False)

    def replace(self, index: int, item: Any) -> None:
        """Change one item in place and repaint it."""
        self._items[index] = item
        self.refresh()

    def _resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._items))
        self.refresh()

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self._items))

    def render_line(self, y: int) -> Strip:
        # Lines are cut to the width left once the scrollbar is drawn, so no tail is hidden.
        width = self.scrollable_content_region.width
        index = self.scroll_offset.y + y
        style = self.rich_style
        if index >= len(self._items) or width <= 0:
            return Strip.blank(width, style)
        text = self._render_item(self._items[index], width).copy()
        text.no_wrap = True
        text.truncate(width, overflow="ellipsis")
        segments = list(text.render(self.app.console, end=""))
        return Strip(segments).adjust_cell_length(width, style).apply_style(style)
