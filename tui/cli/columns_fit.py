"""Which columns of a CLI table fit a terminal's width, and how wide each one is.

At 80 columns a person still needs what the row is about (the verdict, the counts, when it
started, which run): so the widest optional columns are dropped whole, least useful first,
instead of every column being cut into ``commi…``; the id column is the last to give way, and
it is shortened in its middle (``ledger_core.textfit``) so the part that differs stays visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header, whether it is right-aligned, and when it gives way.

    ``drop_rank`` 0 means never dropped; higher ranks are dropped first. ``shrink_to`` lets a
    column (the run id) give up width down to that floor before anything essential is cut.
    """

    header: str
    right: bool = False
    drop_rank: int = 0
    shrink_to: int | None = None


def fit_columns(
    columns: Sequence[Column], natural: Sequence[int], width: int, gap: int
) -> list[int | None]:
    """The width of each column at a terminal ``width`` (``None``: the column is dropped).

    ``natural`` holds each column's widest cell (header included). Shrinkable columns first
    give up what they have beyond a comfortable 36 characters (a uuid), then optional columns
    are dropped, highest ``drop_rank`` first, then shrinkable columns shrink to their floor
    (or take back room a drop freed). What still does not fit is cut at the screen's edge.
    """
    widths: list[int | None] = list(natural)

    def total() -> int:
        shown = [w for w in widths if w is not None]
        return sum(shown) + gap * (len(shown) - 1)

    def shrink(floor_of) -> None:
        for i, column in enumerate(columns):
            w = widths[i]
            if column.shrink_to is None or w is None or total() <= width:
                continue
            floor = min(w, floor_of(column))
            widths[i] = max(floor, w - (total() - width))

    shrink(lambda column: max(column.shrink_to or 0, 36))
    for rank in sorted({c.drop_rank for c in columns if c.drop_rank}, reverse=True):
        if total() <= width:
            break
        for i, column in enumerate(columns):
            if column.drop_rank == rank:
                widths[i] = None
    shrink(lambda column: column.shrink_to or 0)
    for i, column in enumerate(columns):  # room left after a drop goes back to the id
        w = widths[i]
        if column.shrink_to is not None and w is not None and total() < width:
            widths[i] = min(natural[i], w + width - total())
    return widths
