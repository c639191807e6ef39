"""VirtualTable: keys, messages, sorting, cursor keeping and rendering only what is visible."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import App, ComposeResult

from tui.widgets.virtual_table import Column, VirtualTable, layout_widths


@dataclass(frozen=True)
class Item:
    key: int
    name: str
    size: int | None


@dataclass(frozen=True)
class Heading:
    key: str
    title: str


class TableApp(App[None]):
    """One table, recording what it posts and how many cells it drew."""

    def __init__(self, rows: list, headings: bool = False) -> None:
        super().__init__()
        self.headings = headings
        self.initial = rows
        self.rendered = 0
        self.highlighted: list[Item] = []
        self.selected: list[Item] = []

    def _name_cell(self, item: Item) -> Text:
        self.rendered += 1
        return Text(item.name)

    def compose(self) -> ComposeResult:
        yield VirtualTable(
            [
                Column(
                    "key",
                    "Key",
                    lambda i: Text(str(i.key)),
                    width=6,
                    justify="right",
                    sort_key=lambda i: i.key,
                ),
                Column(
                    "name",
                    "Name",
                    self._name_cell,
                    width=20,
                    min_width=8,
                    flex=True,
                    sort_key=lambda i: i.name,
                ),
                Column(
                    "size", "Size", lambda i: Text(str(i.size)), width=6, sort_key=lambda i: i.size
                ),
            ],
            row_key=lambda i: i.key,
            is_heading=(lambda row: isinstance(row, Heading)) if self.headings else None,
            render_heading=lambda row: Text(row.title),
        )

    def on_mount(self) -> None:
        table = self.query_one(VirtualTable)
        table.set_rows(self.initial)
        table.focus()

    def on_virtual_table_row_highlighted(self, event: VirtualTable.RowHighlighted) -> None:
        self.highlighted.append(event.row)

    def on_virtual_table_row_selected(self, event: VirtualTable.RowSelected) -> None:
        self.selected.append(event.row)


def items(n: int) -> list[Item]:
    return [Item(i, f"item {i:06d}", None if i % 7 == 0 else i % 10) for i in range(n)]


async def test_keys_move_the_cursor_and_post_the_row_object() -> None:
    app = TableApp(items(1000))
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.press("j", "j", "down", "k")
        assert table.cursor_row == 2
        await pilot.press("G")
        assert table.cursor_row == 999
        assert table.scroll_y > 0
        await pilot.press("g")
        assert table.cursor_row == 0 and table.scroll_y == 0
        await pilot.press("pagedown")
        assert table.cursor_row == 18  # a page: the 19 visible rows minus one
        await pilot.press("end", "up", "enter")
        await pilot.pause()
        assert app.selected == [app.initial[998]]
        assert app.highlighted[-1] is app.initial[998]


async def test_only_visible_rows_are_rendered_for_a_hundred_thousand_rows() -> None:
    app = TableApp(items(100_000))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        first = app.rendered
        assert 0 < first <= 2 * 24
        await pilot.press("G")
        await pilot.pause()
        assert app.rendered - first <= 2 * 24
        assert "item 099999" in app.query_one(VirtualTable).render_line(23).text


async def test_sort_toggles_keeps_none_last_and_the_cursor_on_its_row() -> None:
    app = TableApp(items(50))
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.press("j", "j", "j")
        chosen = table.cursor_value
        table.sort("size")
        assert table.cursor_value == chosen
        sizes = [i.size for i in table.rows]
        assert sizes[-1] is None and sizes[0] == 0
        table.sort("size")  # again: descending, None still last
        assert table.sort_reverse
        assert table.rows[0].size == 9
        assert "Size▼" in table.render_line(0).text


async def test_set_rows_keeps_the_cursor_on_the_same_row_by_key() -> None:
    app = TableApp(items(20))
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(VirtualTable)
        await pilot.press("j", "j", "j", "j", "j")
        assert table.cursor_value.key == 5
        table.set_rows([Item(-1, "new", 1), *items(20)])
        assert table.cursor_value.key == 5 and table.cursor_row == 6
        table.set_rows(items(3))
        assert table.cursor_row == 2


async def test_untrusted_text_is_drawn_literally() -> None:
    rows = [Item(1, "[@click=app.quit]x[/] [b]bold", 1)]
    app = TableApp(rows)
    async with app.run_test(size=(60, 10)) as pilot:
        await pilot.click(VirtualTable, offset=(10, 1))
        await pilot.click(VirtualTable, offset=(10, 1))
        await pilot.pause()
        assert app.is_running
        assert "[@click=app.quit]x[/] [b]bold" in app.query_one(VirtualTable).render_line(1).text


async def test_headings_span_the_width_and_a_sort_orders_each_group_alone() -> None:
    first, second = Heading("h1", "[b]group one[/b] · 3 items"), Heading("h2", "group two")
    rows = [first, Item(3, "c", 3), Item(1, "a", 1), Item(2, "b", 2), second, Item(0, "z", 0)]
    app = TableApp(rows, headings=True)
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(VirtualTable)
        # Drawn by render_heading across the columns, literally (no markup).
        assert table.render_line(1).text.startswith("[b]group one[/b] · 3 items")
        table.sort("key")
        assert [r.key for r in table.rows] == ["h1", 1, 2, 3, "h2", 0]
        table.sort("key")  # descending: still inside each group, headings where they were
        assert [r.key for r in table.rows] == ["h1", 3, 2, 1, "h2", 0]
        # The cursor rests on a heading like on any row; enter selects it.
        await pilot.press("home", "enter")
        assert app.selected == [first]
        await pilot.press("down", "down", "down", "down")
        assert table.cursor_value == second
        assert "group two" in table.render_line(5).text


async def test_empty_table_shows_its_message() -> None:
    app = TableApp([])
    async with app.run_test(size=(60, 10)):
        table = app.query_one(VirtualTable)
        table.empty_message = "no runs here"
        table.refresh()
        assert "no runs here" in table.render_line(1).text
        assert table.cursor_value is None


def test_layout_grows_flex_columns_and_shrinks_to_minimums() -> None:
    cols = [
        Column("a", "A", str, width=10),
        Column("b", "B", str, width=20, min_width=5, flex=True),
        Column("c", "C", str, width=10, min_width=4),
    ]
    assert layout_widths(cols, 52) == [10, 30, 10]
    assert layout_widths(cols, 32) == [10, 10, 10]
    assert layout_widths(cols, 10) == [10, 5, 4]
