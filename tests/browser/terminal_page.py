"""Drive ``ledgerx serve``'s page in headless Chromium and read the terminal's text.

The page draws the terminal with xterm.js on a canvas, so there is no DOM text to read. The
test fetches textual-serve's own ``textual.js`` and adds one statement that exposes the
xterm ``Terminal`` it creates as ``window.__ledgerxTerminal``; the text is then read from the
terminal's buffer, cell by cell, exactly as drawn. Nothing else of the page is changed. Every
request that is not to the served page is aborted: the test works on a closed network and
proves the page needs nothing from elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Browser, Page, Playwright, Route

CHROMIUM = os.environ.get("LEDGERX_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Where textual.js builds its terminal (textual-serve 1.1.x); the test fails loudly if it moves.
_HOOK = "const t=new w(e,{ping:r});"
_EXPOSE = "window.__ledgerxTerminal=t.terminal;"
SCREEN_JS = """() => {
  const term = window.__ledgerxTerminal;
  if (!term) return "";
  const buffer = term.buffer.active;
  const lines = [];
  for (let y = 0; y < term.rows; y++) {
    const line = buffer.getLine(buffer.viewportY + y);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
}"""
PAGE_TIMEOUT = 90_000  # ms: a loaded two-core machine may take long to start the app


def launch(playwright: Playwright) -> Browser:
    """Debian's Chromium, headless, in a fresh profile (Playwright makes a temporary one)."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=PAGE_TIMEOUT
    )


def open_page(browser: Browser, url: str, size: tuple[int, int] = (1280, 800)) -> Page:
    """A new page on ``url`` with the terminal exposed and every other origin refused."""
    page = browser.new_page(viewport={"width": size[0], "height": size[1]})
    page.set_default_timeout(PAGE_TIMEOUT)

    def only_the_server(route: Route) -> None:
        if route.request.url.startswith(url):
            route.continue_()
        else:
            route.abort()

    def expose_terminal(route: Route) -> None:
        response = route.fetch()
        script = response.text()
        assert _HOOK in script, "textual-serve's textual.js changed: update tests/browser"
        route.fulfill(response=response, body=script.replace(_HOOK, _HOOK + _EXPOSE, 1))

    page.route("**/*", only_the_server)
    page.route("**/static/js/textual.js", expose_terminal)
    page.goto(url)
    return page


def screen(page: Page) -> str:
    """The text the terminal shows now, one line per row."""
    return page.evaluate(SCREEN_JS)


def wait_for_text(page: Page, *texts: str) -> str:
    """Wait until every one of ``texts`` is on screen; return the screen."""
    try:
        page.wait_for_function(
            f"(texts) => {{ const s = ({SCREEN_JS})(); return texts.every(t => s.includes(t)); }}",
            arg=list(texts),
            timeout=PAGE_TIMEOUT,
        )
    except Exception as exc:
        raise AssertionError(f"not shown: {texts!r}\n--- screen ---\n{screen(page)}") from exc
    return screen(page)


def focus_terminal(page: Page, *texts: str) -> str:
    """Wait for ``texts``, give the terminal the keyboard, wait until the app shows its keys.

    The app starts blurred and keys sent before it has taken the focus can be lost, so no
    key is pressed before the footer's "? Help" is on screen (the app's focus reached it).
    xterm reads keys from its hidden textarea, focused here: a click would also reach the app
    as a mouse event.
    """
    wait_for_text(page, *texts)
    page.focus(".xterm-helper-textarea")
    return wait_for_text(page, "? Help")


def press(page: Page, *keys: str) -> None:
    """Press keys in the terminal (after ``focus_terminal``)."""
    for key in keys:
        page.keyboard.press(key)


def type_text(page: Page, text: str) -> None:
    page.keyboard.type(text)


def save_screenshot(page: Page, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
