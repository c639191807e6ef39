"""The ANSI palette ledgerx's state colours are drawn with on light themes, readable on each.

Textual draws a named colour (``green``, ``bold yellow``) as the RGB of its ANSI palette for
the theme's kind: ``App.ansi_theme_light`` on light themes. Textual's own light palette
(Alabaster) gives ``yellow`` 2.1:1 and ``green`` 3.2:1 against ``textual-light``'s background,
so "PARTIAL" and "completed" were hard to read. This palette keeps Alabaster's hues, darkened
until every colour reaches WCAG AA (4.5:1) on the background, surface and panel of every light
theme Textual ships (``tests/tui/test_contrast.py`` measures it). Themes named ``ansi-*`` use
the terminal's own palette, which ledgerx cannot see.
"""

from __future__ import annotations

from rich.color_triplet import ColorTriplet
from rich.terminal_theme import TerminalTheme
from textual._ansi_theme import ALABASTER


def _rgb(r: int, g: int, b: int) -> tuple[int, int, int]:
    return (r, g, b)


def _triplets(colours: list[ColorTriplet]) -> list[tuple[int, int, int]]:
    return [(c.red, c.green, c.blue) for c in colours]


# Alabaster's 16 colours with red, green, yellow, blue, magenta and cyan (normal and bright)
# darkened to reach 4.5:1 on the darkest light-theme panel (#D0D0D0).
_NORMAL = _triplets([ALABASTER.ansi_colors[i] for i in range(8)])
_NORMAL[1:7] = [
    _rgb(152, 49, 44),  # red
    _rgb(46, 96, 26),  # green
    _rgb(111, 79, 0),  # yellow (amber)
    _rgb(43, 80, 168),  # blue
    _rgb(117, 59, 150),  # magenta
    _rgb(0, 91, 124),  # cyan
]
_BRIGHT = _triplets([ALABASTER.ansi_colors[i] for i in range(8, 16)])
_BRIGHT[1:7] = _NORMAL[1:7]

LIGHT_ANSI = TerminalTheme(
    _triplets([ALABASTER.background_color])[0],
    _triplets([ALABASTER.foreground_color])[0],
    _NORMAL,
    _BRIGHT,
)
