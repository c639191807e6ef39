"""The chosen theme is remembered between sessions, in ledgerx's own settings file."""

from __future__ import annotations

import json

from tui.settings import FILE_NAME, Settings


async def test_theme_is_remembered(make_app, tmp_path, monkeypatch):
    state = tmp_path / "state"
    monkeypatch.setenv("LEDGERX_STATE_DIR", str(state))
    app = make_app()
    async with app.run_test() as pilot:
        app.theme = "solarized-light"
        await pilot.pause()
    assert json.loads((state / FILE_NAME).read_text())["theme"] == "solarized-light"

    again = make_app()
    async with again.run_test() as pilot:
        await pilot.pause()
        assert again.theme == "solarized-light"


async def test_a_broken_or_unknown_setting_never_stops_the_app(make_app, tmp_path, monkeypatch):
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.setenv("LEDGERX_STATE_DIR", str(state))
    for content in ("{not json", json.dumps({"theme": "no-such-theme"}), json.dumps([1])):
        (state / FILE_NAME).write_text(content)
        app = make_app()
        async with app.run_test() as pilot:
            await pilot.pause()
            assert app.theme == "textual-dark"


def test_settings_off_and_unwritable(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERX_STATE_DIR", "off")
    assert Settings.load() == Settings()
    assert Settings(theme="nord").save() is False
    blocker = tmp_path / "file"
    blocker.write_text("mine")
    # A path that cannot be a directory: nothing is written, the user's file is untouched.
    assert Settings(theme="nord").save(blocker / "sub") is False
    assert blocker.read_text() == "mine"
    assert not list(tmp_path.glob(".tui-settings-*"))


def test_utc_choice_is_read_only_when_it_is_true(tmp_path):
    for value, expected in ((True, True), (False, False), ("yes", False), (1, False)):
        (tmp_path / FILE_NAME).write_text(json.dumps({"theme": "nord", "utc": value}))
        assert Settings.load(tmp_path) == Settings(theme="nord", utc=expected)
    assert Settings(utc=True).save(tmp_path) is True
    assert json.loads((tmp_path / FILE_NAME).read_text()) == {
        "theme": None,
        "utc": True,
        "hints": True,
        "group_by": None,
    }
