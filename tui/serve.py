"""``ledgerx serve``'s web server: textual-serve with one ledgerx process per browser session.

textual-serve (the Textualize project's own server) runs a *shell command* per websocket and
leaves those processes in its own process group. ledgerx needs more than that, so this module
subclasses its ``Server`` and ``AppService``:

* each session runs an argv (no shell, so no quoting of paths) in a **new session and process
  group**, which is what the server kills on the way out — the app and anything it started;
* shutdown on SIGINT/SIGTERM ends every session (SIGTERM to the group, SIGKILL if it lingers)
  before the listening socket closes, so no app process outlives the server;
* a websocket is only accepted from the page's own origin and, when bound to loopback, only
  for a loopback ``Host`` (another site open in the same browser, or a DNS-rebinding name,
  cannot drive the app), and at most ``max_sessions`` run at once;
* the page is ledgerx's own template: no third-party fonts, no inline script, and a
  Content-Security-Policy that allows scripts only from this server and no framing.

The page renders ledger text as terminal cells in xterm.js, never as HTML; the app itself
already shows untrusted text literally (``tui.widgets.safe``). What else a session process
says goes through ``ledger_core.sanitize.clean`` before it reaches the server's terminal or the
browser: its stderr (textual-serve would copy it raw to the terminal, and keep all of it in
memory) becomes bounded log lines, and the strings of its meta packets (a URL to open, a
download's name) are cleaned before they are forwarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import os
import re
import signal
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

from ledger_core.sanitize import clean

log = logging.getLogger("ledgerx.serve")

_PAGE = Path(__file__).parent / "serve_page"
_QUIT_GRACE = 3.0  # seconds a session has to exit on its own before its group is killed
_KILL_GRACE = 2.0  # seconds after SIGTERM before SIGKILL
_LOOPBACK_NAMES = ("localhost", "localhost.")
_STDERR_KEEP = 64 * 1024  # last bytes of a session's stderr kept for the log; the rest counted
_STDERR_LINES = 40  # lines of it logged (the last ones: a traceback's end says what failed)
_META_TEXT = 2000  # longest string of a meta packet forwarded to the browser
_HOST_HEADER = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``)."""
    name = host.strip().lower().strip("[]")
    if name in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    """``host`` as it is written in a URL (IPv6 addresses in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def kill_group(pid: int, sig: int) -> bool:
    """Send ``sig`` to the process group led by ``pid``; False if it is already gone."""
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:  # the pid was reused by someone else's process: not ours to kill
        return False
    return True


class Session(AppService):
    """One browser session: a ledgerx process in its own process group, fed by one websocket."""

    def __init__(self, argv: Sequence[str], **kwargs: Any) -> None:
        super().__init__(" ".join(argv), **kwargs)
        self.argv = list(argv)
        self.pid: int | None = None

    async def _open_app_process(self, width: int = 80, height: int = 24):
        environment = self._build_environment(width=width, height=height)
        self._process = process = await asyncio.create_subprocess_exec(
            *self.argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
            start_new_session=True,  # its own group: Ctrl-C reaches the server only
        )
        self.pid = process.pid
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def run(self) -> None:
        """textual-serve's packet loop, with the session's stderr read here: bounded, and
        logged line by line through ``clean`` instead of written raw to the terminal."""
        process = self._process
        assert process is not None and process.stdout is not None and process.stderr is not None
        stdout, stderr = process.stdout, process.stderr
        kept = bytearray()
        dropped = 0

        async def read_stderr() -> None:
            nonlocal dropped
            with contextlib.suppress(asyncio.CancelledError):
                while data := await stderr.read(4096):
                    kept.extend(data)
                    excess = len(kept) - _STDERR_KEEP
                    if excess > 0:  # the end is kept: a traceback's last lines say what failed
                        del kept[:excess]
                        dropped += excess

        reader = asyncio.create_task(read_stderr())
        try:
            ready = False
            for _ in range(10):  # the prelude that says a Textual app is talking
                line = await stdout.readline()
                ready = line == b"__GANGLION__\n"
                if ready or not line:
                    break
            if not ready:
                log.error("session %s: the app did not start", self.pid)
            while True:
                kind = await stdout.readexactly(1)
                size = int.from_bytes(await stdout.readexactly(4), "big")
                payload = await stdout.readexactly(size)
                if kind == b"D":
                    await self.on_data(payload)
                elif kind == b"M":
                    await self.on_meta(payload)
                elif kind == b"P":
                    await self.on_packed(payload)
        except (asyncio.IncompleteReadError, ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        log_stderr(self.pid, bytes(kept), dropped)

    async def on_meta(self, data: bytes) -> None:
        """A meta packet from the app, its strings cleaned before textual-serve forwards them
        (a URL to open reaches the browser; a file name, the download's headers)."""
        try:
            meta = json.loads(data)
        except ValueError:
            log.warning("session %s: an unreadable meta packet was dropped", self.pid)
            return
        if not isinstance(meta, dict):
            return
        tidy = {k: clean(v, _META_TEXT) if isinstance(v, str) else v for k, v in meta.items()}
        await super().on_meta(json.dumps(tidy).encode("utf-8"))

    async def stop(self) -> None:
        """Ask the app to quit; kill its process group if it has not gone within a grace."""
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(Exception):
                await self._download_manager.cancel_app_downloads(
                    app_service_id=self.app_service_id
                )
            with contextlib.suppress(Exception):
                await self.send_meta({"type": "quit"})
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(task), _QUIT_GRACE)
        await self.kill()
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def kill(self) -> None:
        """End the session's process group: SIGTERM, then SIGKILL; reap the app process."""
        process = self._process
        if process is None or self.pid is None:
            return
        if process.returncode is None or kill_group(self.pid, 0):
            kill_group(self.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), _KILL_GRACE)
            except TimeoutError:
                pass
            # Whatever the app started lives in the same group; nothing of it may stay.
            kill_group(self.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            await process.wait()


def log_stderr(pid: int | None, data: bytes, dropped: int = 0) -> None:
    """Log what a session wrote to stderr: its last lines, each cleaned (control characters
    shown as escapes), and how much was left out."""
    lines = [line for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    left_out = len(lines) - _STDERR_LINES
    if left_out > 0 or dropped:
        log.warning(
            "session %s wrote more to stderr than is shown (%s lines and %s bytes left out)",
            pid,
            max(0, left_out),
            dropped,
        )
    for line in lines[-_STDERR_LINES:]:
        log.warning("session %s stderr: %s", pid, clean(line, 500))


class LedgerxServer(Server):
    """textual-serve's ``Server`` running ``argv`` per session, with clean ends and guards."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        host: str,
        port: int,
        public_url: str | None = None,
        max_sessions: int = 16,
        announce: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(" ".join(argv), host=host, port=port, title="ledgerx")
        self.argv = list(argv)
        self.explicit_public_url = public_url
        self.max_sessions = max_sessions
        self.announce = announce or (lambda url: None)
        self.sessions: set[Session] = set()
        self.stopping = False
        self.templates_path = _PAGE
        self.bound_port: int | None = None

    # -- the page -----------------------------------------------------------------------------

    async def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._checked_host, self._security_headers])
        aiohttp_jinja2.setup(
            app, loader=jinja2.FileSystemLoader(self.templates_path), autoescape=True
        )
        app.add_routes(
            [
                web.get("/", self.handle_index, name="index"),
                web.get("/ws", self.handle_websocket, name="websocket"),
                # Textual's "save screenshot" and other deliveries reach the browser here.
                web.get("/download/{key}", self.handle_download, name="download"),
                web.static("/static", self.statics_path, name="static"),
                web.static("/ledgerx", _PAGE / "static", name="ledgerx"),
            ]
        )
        return app

    def page_url(self, request: web.Request) -> str:
        """The page's origin as the browser sees it: ``--public-url``, else the request's own
        scheme and ``Host`` (so ``localhost`` and ``127.0.0.1`` both work, and a jump host's
        name too)."""
        if self.explicit_public_url:
            return self.explicit_public_url.rstrip("/")
        return f"{request.scheme}://{request.host}"

    @web.middleware
    async def _checked_host(self, request: web.Request, handler) -> web.StreamResponse:
        # The Host header ends up in the page and its headers: only a plain host[:port] passes.
        if not _HOST_HEADER.fullmatch(request.host):
            raise web.HTTPBadRequest(text="ledgerx serve: bad Host header\n")
        return await handler(request)

    @web.middleware
    async def _security_headers(self, request: web.Request, handler) -> web.StreamResponse:
        response = await handler(request)
        page = self.page_url(request)
        ws = "wss:" if page.startswith("https:") else "ws:"
        origin = page.split(":", 1)[1]
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src 'self' data:; font-src 'self'; connect-src 'self' {ws}{origin}; "
            "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        )
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        page = self.page_url(request)
        ws = ("wss:" if page.startswith("https:") else "ws:") + page.split(":", 1)[1]
        return {
            "font_size": min(max(to_int(request.query.get("fontsize", "16"), 16), 6), 48),
            "app_websocket_url": f"{ws}/ws",
            "config": {"static": {"url": f"{page}/static/"}},
            "application": {"name": "ledgerx"},
        }

    # -- sessions -----------------------------------------------------------------------------

    def _refusal(self, request: web.Request) -> str | None:
        """Why this websocket must not start a session, or None."""
        if self.stopping:
            return "the server is stopping"
        host = urlsplit(f"//{request.host}").hostname or ""
        if is_loopback(self.host) and not is_loopback(host):
            return "not a loopback Host"
        origin = request.headers.get("Origin")
        if origin is not None and origin.rstrip("/") != self.page_url(request):
            return "a page from another origin"
        if len(self.sessions) >= self.max_sessions:
            return f"too many sessions (at most {self.max_sessions})"
        return None

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        refusal = self._refusal(request)
        if refusal is not None:
            log.warning("websocket refused: %s", refusal)
            raise web.HTTPForbidden(text=f"ledgerx serve: {refusal}\n")
        websocket = web.WebSocketResponse(heartbeat=15)
        width = min(max(to_int(request.query.get("width", "80"), 80), 20), 1000)
        height = min(max(to_int(request.query.get("height", "24"), 24), 10), 500)
        session = Session(
            self.argv,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        self.sessions.add(session)
        try:
            await websocket.prepare(request)
            await session.start(width, height)
            log.info("session %s started for %s", session.pid, request.remote)
            await self._process_messages(websocket, session)
        except (asyncio.CancelledError, ConnectionError):
            pass
        except Exception as error:  # noqa: BLE001 - one bad session must not stop the server
            log.warning("session ended: %s: %s", type(error).__name__, error)
        finally:
            await session.stop()
            self.sessions.discard(session)
            if session.pid is not None:
                log.info("session %s ended", session.pid)
            with contextlib.suppress(Exception):
                await websocket.close()
        return websocket

    async def _process_messages(self, websocket: web.WebSocketResponse, app_service) -> None:
        """The browser's keys, resizes and pings; anything malformed ends the session."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            envelope = json.loads(message.data)
            if not isinstance(envelope, list) or not envelope:
                return
            kind = envelope[0]
            if kind == "stdin" and isinstance(envelope[1], str):
                await app_service.send_bytes(envelope[1].encode("utf-8"))
            elif kind == "resize" and isinstance(envelope[1], dict):
                width = to_int(str(envelope[1].get("width")), 80)
                height = to_int(str(envelope[1].get("height")), 24)
                await app_service.set_terminal_size(min(width, 1000), min(height, 500))
            elif kind == "ping":
                await websocket.send_json(["pong", str(envelope[1])[:40]])
            elif kind == "blur":
                await app_service.blur()
            elif kind == "focus":
                await app_service.focus()

    async def end_sessions(self) -> None:
        """Stop every session at once (each with its grace), then make sure none is left."""
        self.stopping = True
        sessions = list(self.sessions)
        await asyncio.gather(*(s.kill() for s in sessions), return_exceptions=True)

    # -- running ------------------------------------------------------------------------------

    def serve(self, debug: bool = False) -> None:
        """Serve until SIGINT or SIGTERM; raises ``OSError`` if the address cannot be bound."""
        asyncio.run(self.run())

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        runner = web.AppRunner(await self._make_app(), handle_signals=False, access_log=None)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, self.port)
            await site.start()
            self.bound_port = runner.addresses[0][1]
            self.public_url = self.explicit_public_url or (
                f"http://{url_host(self.host)}:{self.bound_port}"
            )
            self.announce(self.public_url.rstrip("/") + "/")
            await stop.wait()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)  # a second Ctrl-C interrupts a slow shutdown
            await self.end_sessions()
        finally:
            await runner.cleanup()
            await self.end_sessions()
