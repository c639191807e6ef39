"""``ledgerx serve`` as a real process: page, websocket, one app per session, clean ends."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket

import aiohttp
import pytest
from ledger_factory import RunSpec, StepSpec, make_ledger_dir
from serve_process import REPO, ServeProcess, alive, cmdline, wait_until


async def _first_bytes(ws: aiohttp.ClientWebSocketResponse) -> bytes:
    """The app's first screen bytes: proof that a real app process answers on this socket."""
    while True:
        message = await asyncio.wait_for(ws.receive(), 30)
        if message.type == aiohttp.WSMsgType.BINARY and len(message.data) > 10:
            return message.data
        assert message.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY), message


@pytest.fixture
def server(ledger_dir):
    with ServeProcess("--ledger-dir", ledger_dir) as serving:
        yield serving


async def test_page_is_ledgerx_with_its_websocket_and_a_strict_policy(server):
    async with aiohttp.ClientSession() as http, http.get(server.url) as page:
        assert page.status == 200
        html = await page.text()
        policy = page.headers["Content-Security-Policy"]
    assert f'data-session-websocket-url="{server.ws_url.split("?")[0]}"' in html
    assert "fonts.googleapis" not in html and "onClick" not in html
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert server.children() == []  # a page alone starts nothing


async def test_the_page_uses_the_name_the_browser_used(server):
    port = server.url.rsplit(":", 1)[1].rstrip("/")
    async with aiohttp.ClientSession() as http:
        headers = {"Host": f"localhost:{port}"}
        async with http.get(server.url, headers=headers) as page:
            assert f'data-session-websocket-url="ws://localhost:{port}/ws"' in await page.text()
            assert (
                f"connect-src 'self' ws://localhost:{port};"
                in page.headers["Content-Security-Policy"]
            )
        async with http.get(server.url, headers={"Host": "a b;c"}) as bad:
            assert bad.status == 400
        ws = await http.ws_connect(
            server.ws_url, headers={**headers, "Origin": f"http://localhost:{port}"}
        )
        assert await _first_bytes(ws)
        await ws.close()


async def test_one_app_process_per_session_each_in_its_own_group(server):
    async with aiohttp.ClientSession() as http:
        first = await http.ws_connect(server.ws_url)
        assert await _first_bytes(first)
        wait_until(lambda: len(server.children()) == 1, what="one app process")
        [one] = server.children()
        argv = cmdline(one)
        assert argv[1:5] == ["-m", "tui.cli.main", "--served", "read-only"]
        assert os.getpgid(one) == one  # its own group: what shutdown kills

        second = await http.ws_connect(server.ws_url)
        assert await _first_bytes(second)
        wait_until(lambda: len(server.children()) == 2, what="two app processes")
        [two] = [p for p in server.children() if p != one]

        await first.close()  # the browser tab closed: that session's app ends, the other stays
        wait_until(lambda: not alive(one), what="the closed session's app to exit")
        assert alive(two)

        assert server.signal(signal.SIGINT) == 0
        assert not alive(two)
        await second.close()
    log = "".join(server.stderr)
    assert f"session {one} started for 127.0.0.1" in log and f"session {one} ended" in log
    assert "every browser session has ended" in log


async def test_sigterm_ends_every_session(server):
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(server.ws_url)
        assert await _first_bytes(ws)
        [app] = server.children()
        assert server.signal(signal.SIGTERM) == 0
        assert not alive(app)
        await ws.close()


async def test_a_server_killed_outright_leaves_no_app_behind(server):
    async with aiohttp.ClientSession() as http:
        ws = await http.ws_connect(server.ws_url)
        assert await _first_bytes(ws)
        [app] = server.children()
        server.signal(signal.SIGKILL)  # no chance to end its sessions
        wait_until(lambda: not alive(app), what="the orphaned app to end itself")
        await ws.close()


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"Origin": "http://evil.example"}, "another origin"),
        ({"Host": "rebound.example:80"}, "not a loopback Host"),
    ],
)
async def test_websocket_from_elsewhere_is_refused(server, headers, why):
    async with aiohttp.ClientSession() as http:
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await http.ws_connect(server.ws_url, headers=headers)
    assert info.value.status == 403
    assert server.children() == []
    server.stop()
    assert why in "".join(server.stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--host", "0.0.0.0", "--allow-writes"], "--allow-writes is refused with --host 0.0.0.0"),
        (["--host", "10.1.2.3", "--allow-writes"], "--allow-writes is refused with --host"),
        (["--port", "70000"], "is not a port number"),
        (["--public-url", "javascript:alert(1)"], "must be an http(s) URL"),
        (["--max-sessions", "0"], "--max-sessions must be at least 1"),
    ],
)
def test_unsafe_or_bad_options_are_refused(cli, ledger_dir, args, message):
    result = cli("serve", "--ledger-dir", ledger_dir, *args, timeout=30)
    assert result.code == 2, result.stderr
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_port_in_use_is_a_clear_error(cli, ledger_dir):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli("serve", "--ledger-dir", ledger_dir, "--port", port, timeout=30)
    assert result.code == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr


def test_binding_beyond_loopback_warns_about_the_missing_login(ledger_dir):
    with ServeProcess("--ledger-dir", ledger_dir, "--host", "0.0.0.0") as serving:
        text = "".join(serving.stderr)
    assert "warning: listening on 0.0.0.0, not on loopback: the page has no login" in text
    assert "authenticating proxy" in text


async def test_allow_writes_says_so_and_sessions_are_writable(ledger_dir):
    with ServeProcess("--ledger-dir", ledger_dir, "--allow-writes") as serving:
        assert "WRITES ALLOWED (--allow-writes)" in "".join(serving.stderr)
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(serving.ws_url)
            assert await _first_bytes(ws)
            [app] = serving.children()
            assert cmdline(app)[3:5] == ["--served", "writable"]
            await ws.close()


def test_start_up_line_names_url_sources_and_mode(server, ledger_dir):
    line = "".join(server.stderr)
    assert f"serving on {server.url}" in line
    assert f"sources: {ledger_dir}" in line
    assert "read-only (served read-only; --allow-writes lifts it)" in line


async def _wait_for(ws: aiohttp.ClientWebSocketResponse, *needles: bytes) -> list[str]:
    """Read the app's output until every one of ``needles`` has shown up (in any order, in any
    messages); return the text messages seen."""
    seen, texts, missing = b"", [], set(needles)
    while missing:
        try:
            message = await asyncio.wait_for(ws.receive(), 60)
        except TimeoutError:
            tail = seen[-1500:]
            raise AssertionError(f"no {missing!r} within 60 s; the screen ended {tail!r}") from None
        if message.type == aiohttp.WSMsgType.BINARY:
            seen = (seen + message.data)[-20000:]
        elif message.type == aiohttp.WSMsgType.TEXT:
            texts.append(message.data)
            missing -= {n for n in missing if n.decode() in message.data}
        else:
            raise AssertionError(f"websocket ended: {message}")
        missing -= {n for n in missing if n in seen}
    return texts


async def test_a_served_checklist_is_a_download_not_a_file_on_the_server(tmp_path):
    ledgers = tmp_path / "ledgers"
    make_ledger_dir(ledgers, [RunSpec("r-crash-0003", steps=[StepSpec.committed(1)])])
    before = sorted(p.name for p in REPO.iterdir())
    with ServeProcess("--ledger-dir", ledgers) as serving:
        async with aiohttp.ClientSession() as http:
            ws = await http.ws_connect(serving.ws_url)
            await _wait_for(ws, b"runs")
            # What a browser tab sends once its terminal shows: its size, then focus.
            await ws.send_json(["resize", {"width": 100, "height": 30}])
            await ws.send_json(["focus"])
            # The footer and the run, in either order: r needs a run to preview.
            await _wait_for(ws, b"Help", b"r-crash-0003")
            await ws.send_json(["stdin", "r"])  # rollback preview of the selected run
            await _wait_for(ws, b"served read-only")  # the plan is there, refused
            await ws.send_json(["stdin", "m"])
            texts = await _wait_for(ws, b"deliver_file_start")
            key = json.loads(texts[-1])[1]
            async with http.get(f"{serving.url}download/{key}") as download:
                assert download.status == 200
                body = await download.text()
                disposition = download.headers["Content-Disposition"]
            await ws.close()
    assert "r-crash-0003" in body and "ledgerx-rollback-r-crash-.md" in disposition
    assert sorted(p.name for p in REPO.iterdir()) == before  # nothing saved in the server's cwd


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_default_port_is_not_the_demo_apis(ledger_dir):
    """`ledgerx serve` beside `make demo`: the demo API holds 8765, serve starts anyway."""
    import subprocess
    import sys

    from serve_process import test_env

    from tui.cli.demo_command import DEFAULT_PORT as DEMO_PORT
    from tui.cli.serve_command import DEFAULT_PORT

    assert DEFAULT_PORT != DEMO_PORT
    if not _free(DEFAULT_PORT):
        pytest.skip(f"port {DEFAULT_PORT} is in use on this machine")
    demo = socket.socket()
    try:
        demo.bind(("127.0.0.1", DEMO_PORT))  # stands in for the demo API
        demo.listen()
    except OSError:
        demo.close()
        demo = None  # the real demo API may be running: the same situation
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli.main", "serve", "--ledger-dir", str(ledger_dir)],
        cwd=REPO,
        env=test_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        first = proc.stderr.readline()
        assert f"serving on http://127.0.0.1:{DEFAULT_PORT}/" in first, first
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
        if demo is not None:
            demo.close()
