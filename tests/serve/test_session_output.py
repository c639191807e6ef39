"""What a session process says reaches the server's terminal and the browser cleaned.

A real child process (a stand-in for the app, speaking textual-serve's packet protocol) writes
terminal control sequences and markup to its stderr and in a meta packet; nothing of them may
reach the server's stdout raw, and the browser gets the URL with its escapes made visible.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys

from textual_serve.download_manager import DownloadManager

from tui.serve import Session

_APP = r"""
import json, sys
out = sys.stdout.buffer
out.write(b"__GANGLION__\n")
def packet(kind, payload):
    out.write(kind + len(payload).to_bytes(4, "big") + payload)
packet(b"D", b"screen bytes")
meta = {"type": "open_url", "url": "http://x.example/\x1b]0;owned\x07", "new_tab": True}
packet(b"M", json.dumps(meta).encode())
out.flush()
sys.stderr.write("x" * 200_000 + "\n")
sys.stderr.write("boom \x1b[2J\x1b]0;owned\x07 [red]x[/red] \u202eevil\n" * 3)
sys.stderr.write("last line \x9b31m\n")
sys.stderr.flush()
"""


async def _run_session(caplog) -> tuple[list[str], list[bytes]]:
    sent_str: list[str] = []
    sent_bytes: list[bytes] = []
    closed = asyncio.Event()

    async def write_str(text: str) -> None:
        sent_str.append(text)

    async def write_bytes(data: bytes) -> None:
        sent_bytes.append(data)

    async def close() -> None:
        closed.set()

    session = Session(
        [sys.executable, "-c", _APP],
        write_bytes=write_bytes,
        write_str=write_str,
        close=close,
        download_manager=DownloadManager(),
    )
    with caplog.at_level(logging.INFO, logger="ledgerx.serve"):
        await session.start(80, 24)
        assert session._task is not None
        await asyncio.wait_for(session._task, 30)
        await session.kill()
    return sent_str, sent_bytes


async def test_stderr_is_logged_cleaned_and_bounded_never_copied_raw(caplog, capfd):
    await _run_session(caplog)
    out, err = capfd.readouterr()
    assert "\x1b" not in out + err and "\x9b" not in out + err and "\u202e" not in out + err
    logged = [r.getMessage() for r in caplog.records if r.name == "ledgerx.serve"]
    text = "\n".join(logged)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
    assert "boom \\x1b[2J\\x1b]0;owned\\x07 [red]x[/red]" in text  # visible, literal
    assert "last line \\x9b31m" in text
    assert "left out" in text  # 200,000 bytes are not all kept or logged
    assert len(text) < 10_000


async def test_meta_strings_reach_the_browser_cleaned(caplog):
    sent_str, sent_bytes = await _run_session(caplog)
    assert sent_bytes == [b"screen bytes"]
    [kind, payload] = json.loads(sent_str[0])
    assert kind == "open_url" and payload["new_tab"] is True
    assert payload["url"] == "http://x.example/\\x1b]0;owned\\x07"
