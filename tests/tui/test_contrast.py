"""Every state, verdict and liveness colour is readable (WCAG AA, 4.5:1) on each light theme.

Measured as Textual draws it: a named colour becomes the RGB of the app's ANSI palette for the
theme's kind (``App.ansi_theme_light``), over the theme's background, surface and panel.
Themes named ``ansi-*`` draw with the terminal's own palette, which no test can see.
"""

from __future__ import annotations

import pytest
from rich.style import Style
from textual.color import Color
from textual.theme import BUILTIN_THEMES

from tui.app import LedgerxApp
from tui.screens.runs_screen import RunsScreen
from tui.widgets.safe import LIVENESS_STYLES, STATE_STYLES, VERDICT_STYLES

LIGHT_THEMES = sorted(
    name for name, theme in BUILTIN_THEMES.items() if not theme.dark and not name.startswith("ansi")
)
# Every colour a state, verdict or liveness is drawn in, plus the stamp marker "≠".
STYLES = {
    **{f"state {k}": v for k, v in STATE_STYLES.items()},
    **{f"liveness {k}": v for k, v in LIVENESS_STYLES.items()},
    **{f"verdict {k}": v for k, v in VERDICT_STYLES.items()},
    "stamp marker ≠": "bold yellow",
}
AA = 4.5


def _luminance(rgb: tuple[int, int, int]) -> float:
    def channel(value: int) -> float:
        v = value / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    r, g, b = rgb
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_contrast_formula_matches_wcag():
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast((119, 119, 119), (255, 255, 255)) == pytest.approx(4.48, abs=0.01)


def test_there_are_light_themes_to_check():
    assert {"textual-light", "solarized-light", "catppuccin-latte"} <= set(LIGHT_THEMES)


@pytest.mark.parametrize("theme_name", LIGHT_THEMES)
def test_every_state_colour_is_readable_on_light_themes(theme_name):
    palette = LedgerxApp.ansi_theme_light._default  # what the app draws light themes with
    colors = BUILTIN_THEMES[theme_name].to_color_system().generate()
    failing = []
    for where in ("background", "surface", "panel"):
        bg = Color.parse(colors[where])
        for name, style in STYLES.items():
            colour = Style.parse(style).color
            if colour is None:
                continue  # "dim": the theme's own text colour, dimmed
            fg = colour.get_truecolor(palette, foreground=True)
            ratio = contrast((fg.red, fg.green, fg.blue), (bg.r, bg.g, bg.b))
            if ratio < AA:
                failing.append(f"{name} ({style}) on {where}: {ratio:.2f}")
    assert not failing, failing


async def test_the_running_app_draws_light_themes_with_that_palette(make_app):
    app = make_app()
    async with app.run_test() as pilot:
        app.theme = "solarized-light"
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        assert app.ansi_theme is LedgerxApp.ansi_theme_light._default
