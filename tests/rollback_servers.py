"""Helpers for rollback tests: runner-shaped ledgers aimed at a real loopback DemoApi.

* ``rollback_ledger(path, api, n)`` — a finished run of ``n`` committed POSTs whose records
  really exist on ``api`` (so DELETE answers 204), written with plain sqlite3 like the runner.
* ``write_profiles(path, base_url, **sandbox_options)`` — a profiles file, loaded.
* ``step_rows(path)`` / ``attempt_rows(path)`` — what the ledger says now (plain sqlite3).
* ``run_row(path)`` — the run row.
* ``append_step_from_another_process(path, run_id)`` — a real second process commits a step.
* ``RawServer`` — a raw-socket HTTP server on 127.0.0.1 that misbehaves per path: answers that
  drip one byte at a time (status line and headers, or the body), headers and then silence, a
  redirect whose body drips, or a hook run when the request arrives (a second process writing
  the ledger, a lock taken) before a plain answer. It records whether the client hung up first.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ledger_factory import RunSpec, StepSpec, make_ledger

from ledger_core.demo.api import DemoApi
from ledger_core.ledgers.access import snapshot
from ledger_core.rollback.profiles import Profiles, load_profiles

COMPANY = "c0ffee00-0000-4000-8000-000000000001"
RUN_ID = "rb-0123456789abcdef"


def entity_url(base_url: str, entity: str = "customers", record_id: str | None = None) -> str:
    url = f"{base_url}/api/v2.0/companies({COMPANY})/{entity}"
    return f"{url}({record_id})" if record_id else url


def rollback_ledger(
    path: Path,
    api: DemoApi,
    n: int = 3,
    *,
    run_id: str = RUN_ID,
    profile: str | None = "sandbox",
    finished: bool = True,
    extra: list[StepSpec] | None = None,
    record_ids: list[str] | None = None,
) -> list[str]:
    """A run of ``n`` committed POSTs (seq 1..n) whose records exist on ``api``; their ids."""
    ids = record_ids or [api.add_record(COMPANY, "customers") for _ in range(n)]
    steps = [
        StepSpec.committed(
            i,
            url=entity_url(api.base_url),
            rollback_url=entity_url(api.base_url, "customers", rid),
            bc_correlation_id=f"corr-{i}",
            intent_ts=f"2026-05-17T09:00:{i:02d}.000000Z",
            outcome_ts=f"2026-05-17T09:00:{i:02d}.250000Z",
        )
        for i, rid in enumerate(ids, start=1)
    ]
    steps += extra or []
    make_ledger(
        path,
        [
            RunSpec(
                run_id,
                state="completed" if finished else "running",
                started_at="2026-05-17T09:00:00.000000Z",
                finished_at="2026-05-17T09:01:00.000000Z" if finished else None,
                profile=profile,
                steps=steps,
            )
        ],
    )
    return ids


def write_profiles(
    path: Path,
    base_url: str | None,
    *,
    disable_writes: bool = False,
    token_env: str | None = None,
    timeout: float = 5.0,
    readonly: bool = False,
) -> Profiles:
    lines = [
        "[defaults]",
        f"readonly = {'true' if readonly else 'false'}",
        "",
        "[profiles.sandbox]",
    ]
    if base_url is not None:
        lines.append(f'base_url = "{base_url}"')
    lines.append(f"disable_writes = {'true' if disable_writes else 'false'}")
    if token_env:
        lines.append(f'token_env = "{token_env}"')
    lines.append(f"timeout = {timeout}")
    lines += ["", "[profiles.production]", f'base_url = "{base_url}"', "disable_writes = true"]
    path.write_text("\n".join(lines) + "\n")
    return load_profiles(path)


def _rows(path: Path, sql: str) -> list[tuple]:
    # Through ledger_core's snapshot: a plain mode=ro open would leave -wal/-shm behind.
    return snapshot(Path(path), lambda c: c.execute(sql).fetchall())


def step_rows(path: Path) -> dict[int, str | None]:
    """seq -> status."""
    return dict(_rows(path, "SELECT seq, status FROM step ORDER BY seq"))


def attempt_rows(path: Path) -> list[tuple]:
    """(step_id, url, outcome_ts, http_status, result, error_message) per attempt, in order."""
    tables = {r[0] for r in _rows(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    if "rollback_attempt" not in tables:
        return []
    return _rows(
        path,
        "SELECT step_id, url, outcome_ts, http_status, result, error_message "
        "FROM rollback_attempt ORDER BY attempt_id",
    )


def run_row(path: Path) -> tuple:
    """(state, finished_at) of the only run."""
    return _rows(path, "SELECT state, finished_at FROM run")[0]


_APPEND_STEP = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
conn.execute(
    "INSERT INTO step (run_id, seq, intent_ts, method, url, outcome_ts, status) "
    "VALUES (?, 99, '2026-05-17T09:30:00Z', 'POST', 'http://x/late', '2026-05-17T09:30:01Z', "
    "'committed')",
    (sys.argv[2],),
)
conn.close()
"""


def append_step_from_another_process(path: Path, run_id: str = RUN_ID) -> None:
    """A runner still at work: another process commits step seq 99 of ``run_id``."""
    subprocess.run([sys.executable, "-c", _APPEND_STEP, str(path), run_id], check=True, timeout=30)


@dataclass
class Behaviour:
    """What ``RawServer`` does with a request whose path contains the key it was added under.

    ``kind``: ``"drip_head"`` (a 204 answer sent one byte per ``interval``), ``"drip_body"``
    (status ``status`` with a ``size``-byte body sent one byte per ``interval``),
    ``"head_then_hang"`` (status line and headers promising a body, then nothing until the
    server stops), ``"answer"`` (``status``, after running ``hook`` if given).
    """

    kind: str
    status: int = 204
    interval: float = 0.05
    size: int = 100
    location: str | None = None
    hook: Callable[[], None] | None = None


@dataclass
class RawServer:
    """A loopback HTTP/1.1 server written on raw sockets, so it can misbehave byte by byte.

    One request per connection (every answer says ``Connection: close``)."""

    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    hung_up: list[str] = field(default_factory=list)  # paths whose client left mid-answer
    finished: list[str] = field(default_factory=list)  # paths whose answer was sent whole

    def __post_init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._stop = threading.Event()
        self._lock = threading.Condition()
        self._threads: list[threading.Thread] = []
        self.port = self._sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> RawServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in list(self._threads):
            thread.join(timeout=10)
        self._sock.close()

    def on(self, match: str, behaviour: Behaviour) -> None:
        self.behaviours[match] = behaviour

    def deletes(self) -> list[str]:
        with self._lock:
            return [path for method, path, _ in self.requests if method == "DELETE"]

    def wait_for_request(self, count: int = 1, timeout: float = 30) -> None:
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.requests) >= count, timeout):
                raise TimeoutError(f"fewer than {count} request(s) arrived")

    def _accept(self) -> None:
        self._sock.settimeout(0.05)  # closing a socket does not wake accept(): poll for stop
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(None)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
            method, path = head[0].split(" ")[:2]
            headers = dict(line.split(": ", 1) for line in head[1:] if ": " in line)
            with self._lock:
                self.requests.append((method, path, headers))
                self._lock.notify_all()
            behaviour = next(
                (b for match, b in self.behaviours.items() if match in path), Behaviour("answer")
            )
            try:
                self._answer(conn, behaviour)
            except OSError:
                with self._lock:
                    self.hung_up.append(path)
                return
            with self._lock:
                (self.hung_up if self._stop.is_set() else self.finished).append(path)

    def _answer(self, conn: socket.socket, b: Behaviour) -> None:
        location = f"Location: {b.location}\r\n" if b.location else ""
        if b.kind == "drip_head":
            self._drip(conn, b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", b.interval)
        elif b.kind == "drip_body":
            head = (
                f"HTTP/1.1 {b.status} X\r\n{location}Content-Length: {b.size}\r\n"
                "Connection: close\r\n\r\n"
            )
            conn.sendall(head.encode())
            self._drip(conn, b"x" * b.size, b.interval)
        elif b.kind == "head_then_hang":
            head = f"HTTP/1.1 {b.status} X\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"
            conn.sendall(head.encode())
            self._stop.wait()
            raise OSError("server stopped")
        else:
            if b.hook is not None:
                b.hook()
            reason = "No Content" if b.status == 204 else "X"
            conn.sendall(
                f"HTTP/1.1 {b.status} {reason}\r\n{location}Content-Length: 0\r\n"
                "Connection: close\r\n\r\n".encode()
            )

    def _drip(self, conn: socket.socket, data: bytes, interval: float) -> None:
        for i in range(len(data)):
            conn.sendall(data[i : i + 1])
            if self._stop.wait(interval):
                raise OSError("server stopped")
