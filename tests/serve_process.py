"""A real ``ledgerx serve`` process for tests: its URL, its app children, and their pids."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_URL = re.compile(r"serving on (http://\S+/)")


def test_env() -> dict[str, str]:
    """The environment of a CLI test: no LEDGERX_* from the caller, no real home."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LEDGERX_") or k == "LEDGERX_CACHE_DIR"
    }
    env["HOME"] = "/nonexistent-ledgerx-home"
    return env


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):  # gone, or going while being read
        return False
    return state not in ("Z", "X")


def wait_until(condition, timeout: float = 20.0, what: str = "condition") -> None:
    """Poll ``condition`` every 50 ms; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class ServeProcess:
    """``python -m tui.cli.main serve ARGS --port 0``, started and read up to its start-up line."""

    def __init__(self, *args: str | os.PathLike, port: str = "0") -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tui.cli.main", "serve", "--port", port, *map(str, args)],
            cwd=REPO,
            env=test_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._wait_for_url()
        self.pid = self.proc.pid

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def _wait_for_url(self) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            found = _URL.search(line)
            if found:
                return found.group(1)
        self.stop()
        raise AssertionError(f"no start-up line; stderr: {''.join(self.stderr)}")

    @property
    def ws_url(self) -> str:
        return "ws" + self.url[len("http") :] + "ws?width=100&height=30"

    def children(self) -> list[int]:
        """Pids of the server's live child processes (one per browser session)."""
        try:
            with open(f"/proc/{self.pid}/task/{self.pid}/children", encoding="ascii") as f:
                pids = [int(p) for p in f.read().split()]
        except FileNotFoundError:
            return []
        return [p for p in pids if alive(p)]

    def signal(self, sig: int) -> int:
        """Send ``sig``; return the exit code (within 30 s)."""
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def cmdline(pid: int) -> list[str]:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        return handle.read().decode("utf-8", "replace").split("\0")


def ledgerx(*args: str | os.PathLike, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m tui.cli.main ARGS`` to completion (text output)."""
    return subprocess.run(
        [sys.executable, "-m", "tui.cli.main", *map(str, args)],
        cwd=REPO,
        env=test_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
