"""``ledgerx serve`` in a real browser: Debian's Chromium, headless, driven by Playwright.

Demo ledgers plus one hostile run; the served page is used as a person would: wait for the
runs list, search, open a run, preview its rollback, confirm — and read what the terminal
shows. The screenshot in README comes from here (``screenshots/serve-browser.png``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

if not os.environ.get("LEDGERX_BROWSER_TESTS"):
    # Needs Playwright (the `browser` extra) and Debian's Chromium: `make browser-test`
    # installs both and sets LEDGERX_BROWSER_TESTS=1; `make test` stays lean.
    pytest.skip("run by `make browser-test`", allow_module_level=True)

from ledger_factory import RunSpec, StepSpec, make_ledger
from playwright.sync_api import sync_playwright
from serve_process import REPO, ServeProcess, alive, ledgerx
from terminal_page import (
    focus_terminal,
    launch,
    open_page,
    press,
    save_screenshot,
    screen,
    type_text,
    wait_for_text,
)

SCREENSHOT = REPO / "screenshots" / "serve-browser.png"
HOSTILE_ID = "xss-0001-<script>window.__pwned=1</script>"
HOSTILE_COMPANY = '<img src=x onerror="window.__pwned=2">'
HOSTILE_ENV = "[@click=app.quit]env[/]"
HOSTILE_URL = "http://127.0.0.1:9/</script><script>window.__pwned=3</script>"
HOSTILE_ERROR = (
    "\x1b]8;;javascript:window.__pwned=4\x1b\\link\x1b]8;;\x1b\\ "
    "[@click=app.open_url('javascript:window.__pwned=5')]click[/] <b>bold</b>"
)


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """``ledgerx demo DIR``'s ledgers and profiles, plus a hostile run among them."""
    directory = tmp_path_factory.mktemp("served") / "demo"
    result = ledgerx("demo", directory, timeout=180)
    assert result.returncode == 0, result.stderr
    make_ledger(
        directory / "ledgers" / "hostile.db",
        [
            RunSpec(
                HOSTILE_ID,
                state="failed",
                started_at="2026-05-17T09:00:00.000000Z",
                finished_at="2026-05-17T09:00:01.000000Z",
                profile="sandbox",
                environment=HOSTILE_ENV,
                company=HOSTILE_COMPANY,
                steps=[StepSpec.failed(1, url=HOSTILE_URL, error_message=HOSTILE_ERROR)],
            )
        ],
    )
    return directory


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


def _sandbox_run(demo: Path) -> str:
    """A demo run on the writable ``sandbox`` profile with committed steps: one that *could*
    be rolled back, so only the served read-only rule can refuse it."""
    listed = ledgerx("list", "--ledger-dir", demo / "ledgers", "--format", "json")
    runs = json.loads(listed.stdout)
    candidates = [
        r
        for r in runs
        if r["profile"] == "sandbox" and r["counts"].get("committed") and r["liveness"] != "alive"
    ]
    assert candidates, listed.stdout[:2000]
    return candidates[0]["run_id"]


def _search(page, text: str) -> None:
    """Search the runs list for ``text``; back on the list with the first match selected."""
    press(page, "/")
    wait_for_text(page, "search runs: id")
    type_text(page, text)
    press(page, "Enter")
    wait_for_text(page, f"search: {text}", "⏎ Open")


def _serve(demo: Path, *extra: str) -> ServeProcess:
    return ServeProcess(
        "--ledger-dir", demo / "ledgers", "--profiles", demo / "profiles.toml", *extra
    )


def test_served_read_only_refuses_rollback_in_the_browser(chromium, demo):
    run_id = _sandbox_run(demo)
    with _serve(demo) as server:
        page = open_page(chromium, server.url)
        shown = focus_terminal(page, "runs", run_id[:12])
        assert shown.splitlines()[0].strip().startswith("⭘") and " RO " in shown.splitlines()[0]
        [app] = server.children()  # this browser tab's own app process

        _search(page, run_id[:10])
        press(page, "Enter")  # open the run
        wait_for_text(page, f"Run {run_id}", "d Detail")  # the run screen and its keys

        press(page, "r")  # rollback preview
        shown = wait_for_text(page, "read-only session", "served read-only")
        press(page, "Enter")  # confirm: the refusal dialog, never a confirmation
        shown = wait_for_text(page, "Rollback refused", "No request was sent")
        flat = " ".join(shown.split())
        assert "this session is read-only (served read-only;" in flat
        save_screenshot(page, SCREENSHOT)
        page.close()
        assert not any(n in shown for n in ("Type the first", "Roll back now"))
    assert not alive(app)


def test_allow_writes_still_refuses_a_disable_writes_profile(chromium, demo):
    runs = json.loads(ledgerx("list", "--ledger-dir", demo / "ledgers", "--format", "json").stdout)
    run_id = next(r["run_id"] for r in runs if r["profile"] == "production")
    with _serve(demo, "--allow-writes") as server:
        page = open_page(chromium, server.url)
        shown = focus_terminal(page, "runs", run_id[:12])
        assert " RO " not in shown.splitlines()[0]
        _search(page, run_id[:10])
        press(page, "r")  # straight from the list
        wait_for_text(page, "writes DISABLED")
        press(page, "Enter")
        shown = wait_for_text(page, "Rollback refused", "disable_writes = true")
        assert "served read-only" not in shown
        page.close()


def test_hostile_ledger_text_stays_text_in_the_page(chromium, demo):
    with _serve(demo) as server:
        page = open_page(chromium, server.url)
        dialogs: list[str] = []
        popups: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.context.on("page", lambda p: popups.append(p.url))
        focus_terminal(page, "runs")
        _search(page, "xss-0001")
        wait_for_text(page, "xss-0001-<scri")  # the list may cut it: the run screen shows it all
        press(page, "Enter")
        shown = wait_for_text(page, "<script>window.__pwned=1</script>", "<img src=x")
        press(page, "Enter")  # the step into its detail pane: full URL and error
        shown = wait_for_text(page, "\\x1b]8;;javascript:window.__pwned=4")
        flat = "".join(shown.split())
        assert "</script><script>window.__pwned=3</script>" in flat
        assert "[@click=app.open_url('javascript:window.__pwned=5')]click[/]" in flat
        assert "<b>bold</b>" in flat
        # Clicking everywhere a link could hide must not run or open anything either.
        box = page.locator(".xterm-screen").bounding_box()
        assert box is not None
        for row in range(24, int(box["height"]) - 48, 16):  # not the header or footer keys
            page.mouse.click(box["x"] + box["width"] / 2, box["y"] + row)
        assert page.evaluate("() => window.__pwned") is None
        assert dialogs == [] and popups == []
        assert "runs" in screen(page) or "xss-0001" in screen(page)  # the app is still there
        page.close()
