"""A small Business-Central-like HTTP API on 127.0.0.1 for demos and tests (standard library only).

It accepts what the batch runner sends — ``POST``/``PATCH``/``DELETE``/``GET`` on
``[prefix]/api/v2.0/companies(<id>)/<entity>`` and ``…/<entity>(<id>)`` — and remembers the
records it created: ``POST`` answers 201 with an id, an etag and a correlation-id header;
``DELETE`` answers 204, or 404 once the record is gone.

Tests make it misbehave deterministically with ``fault()``: a status (500, 307 redirect…), a
hang until released or past the client's timeout, or a dropped connection. Every request and
every connection is logged, so a test can prove that nothing at all was sent.

``delete_delay`` makes each ``DELETE`` take a visible moment (the demo uses 150–300 ms, so a
rollback's progress is seen as it lands; tests keep the default 0).

As a command, for ``ledgerx demo`` data that outlives the build::

    python -m ledger_core.demo.api --port 8765 [--state FILE]

``--state`` keeps the records in a JSON file, so a restarted API still knows them.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CORRELATION_HEADER = "x-correlation-id"
_PATH = re.compile(
    r"^(?P<prefix>(?:/[^?#]*?)?)/api/v2\.0/companies\((?P<company>[^)/]*)\)"
    r"/(?P<entity>[A-Za-z][A-Za-z0-9_]*)(?:\((?P<id>[^)/]*)\))?/?$"
)


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Fault:
    """A deterministic misbehaviour for requests whose path contains ``match``.

    ``kind``: ``"status"`` (answer ``status`` with ``body``), ``"redirect"`` (``status`` 307
    by default, ``Location: location``), ``"hang"`` (wait until ``DemoApi.release()`` or
    ``seconds``, then answer normally), ``"close"`` (drop the connection without answering).
    ``times`` limits how often it fires (``None``: always).
    """

    match: str
    kind: str
    method: str | None = None
    status: int = 500
    body: str = ""
    location: str | None = None
    seconds: float | None = None
    times: int | None = None
    hits: int = field(default=0)

    def applies(self, method: str, path: str) -> bool:
        if self.method and self.method.upper() != method:
            return False
        if self.times is not None and self.hits >= self.times:
            return False
        return self.match in path


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    api: DemoApi

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that vanished mid-answer (killed writer, timeout) is expected here

    def process_request(self, request: Any, client_address: Any) -> None:
        self.api._count_connection()
        super().process_request(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out separately: no 40 ms stalls
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass  # quiet: tests and the TUI own the terminal

    def _answer(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body))
        data = raw.encode() if isinstance(raw, str) else raw
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        api = self.server.api
        method = self.command.upper()
        fault = api._record(Received(method, self.path, dict(self.headers), body, time.time()))
        if fault is not None:
            if fault.kind == "close":
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if fault.kind == "status":
                self._answer(fault.status, fault.body.encode() if fault.body else None)
                return
            if fault.kind == "redirect":
                status = fault.status if 300 <= fault.status < 400 else 307
                self._answer(status, None, {"Location": fault.location or "/"})
                return
            if fault.kind == "hang":
                api._hang(fault.seconds)
        if method == "DELETE":
            api._pause_for_delete()
        status, payload, headers = api._route(method, self.path, body)
        self._answer(status, payload, headers)

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _handle


class DemoApi:
    """The demo server: ``with DemoApi() as api: httpx.get(api.base_url + "/…")``."""

    def __init__(
        self,
        port: int = 0,
        *,
        host: str = "127.0.0.1",
        state_path: str | Path | None = None,
        seed: int | None = None,
        delete_delay: float | tuple[float, float] = 0.0,
    ) -> None:
        self.host = host
        low, high = delete_delay if isinstance(delete_delay, tuple) else (delete_delay,) * 2
        if not (0 <= low <= high):
            raise ValueError(f"delete_delay must be 0 <= low <= high, not {delete_delay!r}")
        self.delete_delay = (float(low), float(high))
        self.requested_port = port
        self.state_path = Path(state_path) if state_path else None
        self.records: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.requests: list[Received] = []
        self.connections = 0
        self.faults: list[Fault] = []
        self._rng = random.Random(seed)
        self._lock = threading.Condition()
        self._released = threading.Event()
        self._stopping = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        if self.state_path and self.state_path.exists():
            self._load()

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> DemoApi:
        server = _Server((self.host, self.requested_port), _Handler)
        server.api = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping = True
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> DemoApi:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("DemoApi is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- test hooks ----------------------------------------------------------------------------

    def fault(self, match: str, kind: str = "status", **options: Any) -> Fault:
        """Make requests whose path contains ``match`` misbehave (see ``Fault``)."""
        item = Fault(match, kind, **options)
        with self._lock:
            self.faults.append(item)
        return item

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def release(self) -> None:
        """Let every request hanging now go on (later ones hang again)."""
        with self._lock:
            released, self._released = self._released, threading.Event()
        released.set()

    def wait_for(
        self, method: str | None = None, contains: str = "", timeout: float = 10.0, count: int = 1
    ) -> list[Received]:
        """Block until ``count`` matching requests arrived; raise ``TimeoutError`` otherwise."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = self.matching(method, contains)
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {method or ''} request containing {contains!r}")
                self._lock.wait(left)

    def matching(self, method: str | None = None, contains: str = "") -> list[Received]:
        with self._lock:
            return [
                r
                for r in self.requests
                if (method is None or r.method == method.upper()) and contains in r.path
            ]

    def add_record(self, company: str, entity: str, record_id: str | None = None) -> str:
        """Create a record directly (as if POSTed); returns its id."""
        with self._lock:
            record_id = record_id or self._new_id()
            self.records[(company, entity, record_id)] = {"id": record_id}
            self._save()
        return record_id

    def has_record(self, company: str, entity: str, record_id: str) -> bool:
        with self._lock:
            return (company, entity, record_id) in self.records

    # -- internals -----------------------------------------------------------------------------

    def _hang(self, seconds: float | None) -> None:
        with self._lock:
            event = self._released
        if not self._stopping:
            event.wait(seconds)

    def _pause_for_delete(self) -> None:
        low, high = self.delete_delay
        if high <= 0:
            return
        with self._lock:
            seconds = self._rng.uniform(low, high)
        if not self._stopping:
            time.sleep(seconds)

    def _count_connection(self) -> None:
        with self._lock:
            self.connections += 1

    def _record(self, received: Received) -> Fault | None:
        with self._lock:
            self.requests.append(received)
            chosen = None
            for fault in self.faults:
                if fault.applies(received.method, received.path):
                    fault.hits += 1
                    chosen = fault
                    break
            self._lock.notify_all()
            return chosen

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _route(self, method: str, raw_path: str, body: bytes) -> tuple[int, Any, dict[str, str]]:
        path = raw_path.split("?", 1)[0]
        match = _PATH.match(path)
        with self._lock:
            correlation = self._new_id()
        headers = {CORRELATION_HEADER: correlation}
        if match is None:
            return (
                404,
                {"error": {"code": "BadRequest_NotFound", "message": "no such resource"}},
                headers,
            )
        company, entity, record_id = match["company"], match["entity"], match["id"]
        key = (company, entity, record_id or "")
        with self._lock:
            if method == "POST" and record_id is None:
                try:
                    fields = json.loads(body) if body else {}
                except ValueError:
                    return (
                        400,
                        {"error": {"code": "BadRequest", "message": "invalid JSON"}},
                        headers,
                    )
                if not isinstance(fields, dict):
                    fields = {}
                problem = self._validate(company, entity, fields)
                if problem is not None:
                    return 400, {"error": problem}, headers
                new_id = self._new_id()
                record = {**fields, "id": new_id, "@odata.etag": f'W/"{correlation[:8]}"'}
                self.records[(company, entity, new_id)] = record
                self._save()
                headers["Location"] = f"{path.rstrip('/')}({new_id})"
                return 201, record, headers
            if record_id is None:
                if method == "GET":
                    values = [r for (c, e, _), r in self.records.items() if (c, e) == key[:2]]
                    return 200, {"value": values}, headers
                return 405, {"error": {"code": "MethodNotAllowed", "message": method}}, headers
            if key not in self.records:
                return (
                    404,
                    {"error": {"code": "NotFound", "message": f"{entity} not found"}},
                    headers,
                )
            if method == "DELETE":
                del self.records[key]
                self._save()
                return 204, None, headers
            if method in ("PATCH", "PUT"):
                try:
                    fields = json.loads(body) if body else {}
                except ValueError:
                    fields = {}
                if isinstance(fields, dict):
                    problem = self._validate(company, entity, fields)
                    if problem is not None:
                        return 400, {"error": problem}, headers
                    self.records[key].update(fields)
                self._save()
                return 200, self.records[key], headers
            if method == "GET":
                return 200, self.records[key], headers
            return 405, {"error": {"code": "MethodNotAllowed", "message": method}}, headers

    def _validate(self, company: str, entity: str, fields: dict[str, Any]) -> dict | None:
        """Business Central's best-known refusals, so demo batches can really fail."""
        if entity == "salesOrders" and "customerNumber" in fields:
            known = {
                r.get("number")
                for (c, e, _), r in self.records.items()
                if c == company and e == "customers"
            }
            if fields["customerNumber"] not in known:
                return {
                    "code": "Internal_RecordNotFound",
                    "message": f"The Customer does not exist. Identification fields and values: "
                    f"No.='{fields['customerNumber']}'",
                }
        price = fields.get("unitPrice")
        if isinstance(price, int | float) and price < 0:
            return {
                "code": "Internal_ValidationError",
                "message": "Unit Price must not be negative.",
            }
        return None

    def _save(self) -> None:
        if self.state_path is None:
            return
        rows = [[c, e, i, r] for (c, e, i), r in self.records.items()]
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        tmp.write_text(json.dumps(rows))
        tmp.replace(self.state_path)

    def _load(self) -> None:
        assert self.state_path is not None
        try:
            rows = json.loads(self.state_path.read_text())
            self.records = {(c, e, i): r for c, e, i, r in rows}
        except (OSError, ValueError, TypeError):
            self.records = {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ledger_core.demo.api",
        description="Serve the ledgerx demo API on 127.0.0.1 until interrupted.",
    )
    parser.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 = any)")
    parser.add_argument("--state", metavar="FILE", help="keep records in this JSON file")
    parser.add_argument(
        "--delete-delay",
        type=float,
        default=0.2,
        metavar="SECONDS",
        help="seconds each DELETE takes, so a rollback is seen as it lands (default 0.2)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.delete_delay < 60:
        parser.error("--delete-delay must be between 0 and 60 seconds")
    try:
        api = DemoApi(args.port, state_path=args.state, delete_delay=args.delete_delay).start()
    except OSError as exc:
        print(f"demo API: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"demo API listening on {api.base_url} (Ctrl-C stops it)", file=sys.stderr, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
