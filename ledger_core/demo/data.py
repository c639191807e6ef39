"""Build a realistic demo ledger set by really running batches against the demo API.

``build_demo(dir, base_url)`` plays Business-Central-like batches (customers, sales orders and
their lines, items, vendors, journals) through ``LedgerWriter`` with real HTTP requests to
``base_url`` (a ``DemoApi``), one ledger file per run in ``dir/ledgers/``, and writes
``dir/profiles.toml`` (``sandbox`` write-enabled, ``production`` with ``disable_writes = true``).

Crashes are real: those runs are played by a writer subprocess that SIGKILLs itself at the
chosen moment — after its POST was answered but before the outcome was recorded (an in-doubt
step whose record really exists on the server), or between two steps. One run is still being
written by a live subprocess when ``build_demo`` returns (``DemoSet.live_pid``; ``stop()``
kills it, which turns it into a crashed run). Historical runs carry explicit timestamps spread
over the last two weeks with realistic latencies; content is seeded, so the same seed gives the
same batches (ids, order, failures), only the clock anchor moves.

Roles in ``DemoSet.runs``: ``completed``, ``crashed_in_doubt``, ``crashed_between``,
``partial_failure``, ``cannot_undo``, ``rolled_back``, ``production``, ``unknown_profile``,
``running``, plus ``history-N`` for the runs that make the list look lived-in.
``DemoSet.format_runs`` names the runs of the other tools' formats (``demo.other_formats``): a cr
run crashed with an action in doubt, an event-ledger run cut short, an outbox in doubt.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from ..rollback.writer import LedgerWriter, open_readwrite
from .other_formats import write_format_demos

PROFILES_NAME = "profiles.toml"
LEDGERS_NAME = "ledgers"
API = "/api/v2.0"

COMPANIES = (
    ("CRONUS USA, Inc.", "5f3c2a10-8b1e-4c55-9a0e-1d2c3b4a5f60", "sandbox-uat"),
    ("CRONUS UK Ltd.", "7a9d4e21-3c6f-4b18-8e2d-6f5a4b3c2d10", "sandbox-uat"),
    ("Fabrikam Nordics AB", "c1e8b7a6-2d4f-4e39-b0a1-9f8e7d6c5b40", "sandbox-dev"),
)
PRODUCTION_COMPANY = ("CRONUS USA, Inc.", "5f3c2a10-8b1e-4c55-9a0e-1d2c3b4a5f60", "production")
_FIRST = (
    "Adatum",
    "Trey",
    "Alpine",
    "Coho",
    "Litware",
    "Northwind",
    "Tailspin",
    "Wingtip",
    "Relecloud",
    "Contoso",
    "Margie's",
    "Proseware",
    "Lamna",
    "Fourth Coffee",
    "VanArsdel",
)
_SECOND = (
    "Corporation",
    "Research",
    "Ski House",
    "Winery",
    "Inc.",
    "Traders",
    "Toys",
    "Healthcare",
    "Travel",
    "Pharmaceuticals",
    "Outfitters",
    "Electronics",
)
_ITEMS = (
    "ATHENS Desk",
    "PARIS Guest Chair",
    "ROME Guest Chair",
    "TOKYO Guest Chair",
    "MEXICO Swivel Chair",
    "MUNICH Swivel Chair",
    "AMSTERDAM Lamp",
    "LONDON Mug",
    "BERLIN Whiteboard",
    "SYDNEY Swivel Chair",
    "ANTWERP Conference Table",
)


@dataclass
class DemoSet:
    """What ``build_demo`` made. ``stop()`` ends the still-running writer (idempotent)."""

    ledger_dir: Path
    profiles_path: Path
    base_url: str
    live_pid: int | None
    runs: dict[str, str] = field(default_factory=dict)
    _proc: subprocess.Popen | None = field(default=None, repr=False)
    # Runs of the other tools' formats (``demo.other_formats``): role -> (file name, run id).
    format_runs: dict[str, tuple[str, str]] = field(default_factory=dict)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()

    def __enter__(self) -> DemoSet:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------
# Playing one run (in this process or in a writer subprocess)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def _error_text(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        return f"HTTP {response.status_code} {error.get('code', '')}: {error.get('message', '')}"
    except (ValueError, AttributeError):
        return f"HTTP {response.status_code}: {response.text[:300]}"


def _set_writer_times(writer: LedgerWriter, heartbeat: str, closed: str | None = None) -> None:
    """Historical runs: the writer row tells the run's own time, not the build's."""
    writer.conn.execute(
        "UPDATE writer SET heartbeat_at = ?, closed_at = COALESCE(?, closed_at) WHERE run_id = ?",
        (heartbeat, closed, writer.run_id),
    )


def play(spec: dict[str, Any], client: httpx.Client | None = None) -> None:
    """Run one batch as the runner does: intent, request, outcome, for every step.

    ``spec`` (JSON-able): ``ledger``, ``run`` (run row fields), ``steps`` (seq, method, url,
    body, intent_ts, outcome_ts — ``None`` timestamps mean real time), ``die`` (``{"mode":
    "after_send"|"before_intent", "seq": n}``: SIGKILL this process there), ``live`` (pace the
    steps in real time and never finish, until the parent process is gone), ``pace`` (``[low,
    high]`` seconds between steps, then finish; with ``parent_pid``).
    """
    own_client = client is None
    client = client or httpx.Client(trust_env=False, timeout=10.0, follow_redirects=False)
    live = bool(spec.get("live"))
    die = spec.get("die") or {}
    historical = spec["run"].get("started_at") is not None
    writer = LedgerWriter(spec["ledger"], heartbeat_every=1.0 if live else 1e12)
    writer.start_run(**spec["run"])
    committed = failed = 0
    last_ts = spec["run"].get("started_at")
    pace = random.Random(spec.get("seed", 0))
    for index, step in enumerate(spec["steps"]):
        if die.get("mode") == "before_intent" and die.get("seq") == step["seq"]:
            os.kill(os.getpid(), signal.SIGKILL)
        if live and index >= spec.get("ready_after", 0):
            if index == spec.get("ready_after", 0):
                print("ready", flush=True)
            _live_pause(spec["parent_pid"], pace.uniform(1.5, 3.5))
        elif spec.get("pace") and index:
            # A batch of the demo world: steps land at a human pace, and the writer ends with
            # the process that started it.
            _live_pause(spec["parent_pid"], pace.uniform(*spec["pace"]))
        step_id = writer.write_intent(
            seq=step["seq"],
            method=step["method"],
            url=step["url"],
            body_hash=_hash(step["body"]) if step.get("body") is not None else None,
            intent_ts=step.get("intent_ts"),
        )
        try:
            response = client.request(
                step["method"],
                step["url"],
                json=step.get("body"),
                headers={"client-request-id": step.get("request_id", "")},
            )
        except httpx.HTTPError as exc:
            response, error = None, f"{type(exc).__name__}: {exc}"
        if die.get("mode") == "after_send" and die.get("seq") == step["seq"]:
            # The server has done the work and answered; the runner dies before recording it.
            os.kill(os.getpid(), signal.SIGKILL)
        correlation = rollback_url = None
        if response is not None:
            correlation = response.headers.get("x-correlation-id")
            ok = response.is_success
            error = None if ok else _error_text(response)
            if ok and step["method"] == "POST":
                record_id = response.json().get("id")
                rollback_url = f"{step['url']}({record_id})" if record_id else None
        else:
            ok = False
        writer.write_outcome(
            step_id,
            "committed" if ok else "failed",
            correlation_id=correlation,
            error_message=error,
            rollback_url=rollback_url,
            outcome_ts=step.get("outcome_ts"),
        )
        committed, failed = committed + ok, failed + (not ok)
        last_ts = step.get("outcome_ts") or last_ts
        if historical and last_ts:
            _set_writer_times(writer, last_ts)
    if live:
        while True:  # a long batch still waiting for its next manifest page
            _live_pause(spec["parent_pid"], 2.0)
            writer._beat(force=True)
    if spec.get("cancel"):
        state = "cancelled"
    elif failed == 0:
        state = "completed"
    else:
        state = "partially_committed" if committed else "failed"
    finished = spec.get("finished_at")
    writer.finish_run(state, finished_at=finished)
    if historical and finished:
        _set_writer_times(writer, finished)
    writer.close()
    if historical and finished:
        # close() stamps the real time; a demo run closes when it finished.
        conn = open_readwrite(Path(spec["ledger"]))
        conn.execute("UPDATE writer SET closed_at = ?", (finished,))
        conn.close()
    if own_client:
        client.close()


def _live_pause(parent_pid: int, seconds: float) -> None:
    """Sleep, but end this writer at once if the process that started it is gone."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.getppid() != parent_pid:
            os._exit(0)
        time.sleep(0.2)


def _worker_main() -> int:
    spec = json.loads(sys.stdin.read())
    play(spec)
    return 0


# ---------------------------------------------------------------------------------------------
# Making the batches


class _Builder:
    def __init__(self, base_url: str, ledger_dir: Path, seed: int, now: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.ledger_dir = ledger_dir
        self.rng = random.Random(seed)
        self.now = now
        self.client = httpx.Client(trust_env=False, timeout=10.0, follow_redirects=False)
        self.customers: dict[str, list[str]] = {}
        self.items: dict[str, list[str]] = {}
        self.vendors: dict[str, list[str]] = {}
        self.next_customer = 10000

    def url(self, company_id: str, entity: str, record_id: str | None = None) -> str:
        base = f"{self.base_url}{API}/companies({company_id})/{entity}"
        return f"{base}({record_id})" if record_id else base

    def run_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def name(self) -> str:
        return f"{self.rng.choice(_FIRST)} {self.rng.choice(_SECOND)}"

    def setup(self) -> None:
        """The ERP's existing master data (not part of any ledger)."""
        for _, company_id, _ in (*COMPANIES, PRODUCTION_COMPANY):
            if company_id in self.customers:
                continue
            numbers = []
            for _ in range(8):
                number = self.customer_number()
                self._post(company_id, "customers", {"number": number, "displayName": self.name()})
                numbers.append(number)
            self.customers[company_id] = numbers
            self.items[company_id] = [
                self._post(company_id, "items", {"number": f"19{i:02d}-S", "displayName": n})
                for i, n in enumerate(_ITEMS)
            ]
            self.vendors[company_id] = [
                self._post(company_id, "vendors", {"number": f"V{20000 + i}", "displayName": n})
                for i, n in enumerate(self.name() for _ in range(30))
            ]

    def customer_number(self) -> str:
        self.next_customer += 10
        return f"C{self.next_customer}"

    def _post(self, company_id: str, entity: str, body: dict[str, Any]) -> str:
        response = self.client.post(self.url(company_id, entity), json=body)
        response.raise_for_status()
        return str(response.json()["id"])

    # -- batch templates: each returns a list of (method, url, body) ------------------------

    def onboarding(self, company_id: str, n: int) -> list[tuple[str, str, Any]]:
        ops = []
        for _ in range(n):
            number = self.customer_number()
            body = {"number": number, "displayName": self.name(), "currencyCode": "USD"}
            ops.append(("POST", self.url(company_id, "customers"), body))
        return ops

    def sales_orders(self, company_id: str, n: int, bad: int | None = None):
        ops: list[tuple[str, str, Any]] = []
        for k in range(n):
            customer = "C99999" if k == bad else self.rng.choice(self.customers[company_id])
            ops.append(
                (
                    "POST",
                    self.url(company_id, "salesOrders"),
                    {
                        "customerNumber": customer,
                        "externalDocumentNumber": f"PO-{self.rng.randint(4000, 9999)}",
                    },
                )
            )
            for _ in range(self.rng.randint(1, 3)):
                ops.append(
                    (
                        "POST",
                        self.url(company_id, "salesOrderLines"),
                        {
                            "itemId": self.rng.choice(self.items[company_id]),
                            "quantity": self.rng.randint(1, 12),
                        },
                    )
                )
        return ops

    def price_update(self, company_id: str, n: int, bad: int | None = None):
        ops = []
        for k, item in enumerate(self.rng.sample(self.items[company_id], n)):
            price = -1.0 if k == bad else round(self.rng.uniform(20, 900), 2)
            ops.append(("PATCH", self.url(company_id, "items", item), {"unitPrice": price}))
        return ops

    def vendor_cleanup(self, company_id: str, n: int):
        ops: list[tuple[str, str, Any]] = [("GET", self.url(company_id, "vendors"), None)]
        for _ in range(n):
            vendor = self.vendors[company_id].pop()
            ops.append(("DELETE", self.url(company_id, "vendors", vendor), None))
        return ops

    def journal(self, company_id: str, n: int):
        ops: list[tuple[str, str, Any]] = [
            (
                "POST",
                self.url(company_id, "journals"),
                {"code": f"GJ{self.rng.randint(100, 999)}", "displayName": "Month-end accruals"},
            )
        ]
        for _ in range(n):
            ops.append(
                (
                    "POST",
                    self.url(company_id, "journalLines"),
                    {
                        "accountNumber": self.rng.choice(("10100", "20300", "40100", "60200")),
                        "amount": round(self.rng.uniform(-5000, 5000), 2),
                    },
                )
            )
        return ops

    # -- timing --------------------------------------------------------------------------------

    def timed(self, ops, start: float) -> tuple[list[dict[str, Any]], float]:
        """Steps with intent/outcome timestamps: 80-900 ms latency, short gaps between."""
        steps, clock = [], start + self.rng.uniform(0.2, 1.5)
        for seq, (method, url, body) in enumerate(ops, start=1):
            latency = min(self.rng.lognormvariate(-1.4, 0.6), 4.0) + 0.06
            steps.append(
                {
                    "seq": seq,
                    "method": method,
                    "url": url,
                    "body": body,
                    "intent_ts": _iso(clock),
                    "outcome_ts": _iso(clock + latency),
                    "request_id": f"{self.rng.getrandbits(64):016x}",
                }
            )
            clock += latency + self.rng.uniform(0.01, 0.25)
        return steps, clock

    def spec(
        self,
        ops,
        *,
        company: tuple[str, str, str],
        profile: str,
        manifest: str,
        start: float | None,
        live: bool = False,
        cancel: bool = False,
    ) -> dict[str, Any]:
        run_id = self.run_id()
        name, _, environment = company
        if start is None:
            steps = [
                {
                    "seq": i,
                    "method": m,
                    "url": u,
                    "body": b,
                    "intent_ts": None,
                    "outcome_ts": None,
                    "request_id": f"{self.rng.getrandbits(64):016x}",
                }
                for i, (m, u, b) in enumerate(ops, start=1)
            ]
            finished = None
        else:
            steps, end = self.timed(ops, start)
            finished = _iso(end + self.rng.uniform(0.05, 0.4))
        return {
            "ledger": str(self.ledger_dir / f"{run_id}.db"),
            "run": {
                "run_id": run_id,
                "manifest_path": manifest,
                "manifest_hash": _hash([manifest, run_id]),
                "profile": profile,
                "environment": environment,
                "company": name,
                "started_at": None if start is None else _iso(start),
            },
            "steps": steps,
            "finished_at": finished,
            "live": live,
            "cancel": cancel,
            "seed": self.rng.getrandbits(32),
        }


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def _play_and_die(spec: dict[str, Any]) -> None:
    """Play ``spec`` in a writer subprocess that SIGKILLs itself where ``spec['die']`` says."""
    result = subprocess.run(
        [sys.executable, "-m", "ledger_core.demo.data", "--worker"],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        env=_worker_env(),
        timeout=60,
    )
    if result.returncode != -signal.SIGKILL:
        raise RuntimeError(
            f"demo writer did not die as planned (exit {result.returncode}): {result.stderr[-500:]}"
        )


def _start_live(spec: dict[str, Any], timeout: float = 20.0) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger_core.demo.data", "--worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_worker_env(),
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(spec))
    proc.stdin.close()
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline() if ready else ""
    if line.strip() != "ready":
        proc.kill()
        proc.wait()
        raise RuntimeError("the demo's live writer did not start")
    return proc


def _write_profiles(path: Path, base_url: str) -> None:
    # "x": never over a file that appeared since `ledgerx demo DIR` found DIR empty.
    with path.open("x", encoding="utf-8") as handle:
        handle.write(
            "# ledgerx demo profiles (the batch runner's [profiles.NAME] shape)\n"
            "[defaults]\nreadonly = false\n\n"
            "[profiles.sandbox]\n"
            f'base_url = "{base_url}"\n'
            "timeout = 5\n\n"
            "[profiles.production]\n"
            "# Writes are disabled here: every rollback on this profile is refused.\n"
            f'base_url = "{base_url}"\n'
            "disable_writes = true\n",
        )


def _rollback_for_real(spec: dict[str, Any], profiles_path: Path) -> None:
    from ..ledgers.reader import read_run
    from ..rollback import executor as rollback
    from ..rollback.profiles import load_profiles

    profiles = load_profiles(profiles_path)
    detail = read_run(Path(spec["ledger"]), spec["run"]["run_id"])
    plan = rollback.preview(detail, profiles)
    errors: list[BaseException] = []

    def go() -> None:
        try:
            asyncio.run(rollback.execute(plan, profiles))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

    # A thread of its own: build_demo may be called from inside a running event loop.
    thread = threading.Thread(target=go)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


def build_demo(
    directory: str | Path,
    base_url: str,
    *,
    seed: int = 2026,
    live: bool = True,
    now: float | None = None,
) -> DemoSet:
    """Write the demo ledgers and profiles into ``directory``; see the module docstring.

    ``base_url`` must be a running ``DemoApi`` (or anything that answers like it). With
    ``live=False`` no writer is left running.
    """
    root = Path(directory)
    ledger_dir = root / LEDGERS_NAME
    ledger_dir.mkdir(parents=True, exist_ok=True)
    profiles_path = root / PROFILES_NAME
    _write_profiles(profiles_path, base_url.rstrip("/"))
    now = time.time() if now is None else now
    b = _Builder(base_url, ledger_dir, seed, now)
    b.setup()
    usa, uk, nordics = COMPANIES
    runs: dict[str, str] = {}
    hour, day = 3600.0, 86400.0

    def play_here(role: str, spec: dict[str, Any]) -> dict[str, Any]:
        play(spec, b.client)
        runs[role] = spec["run"]["run_id"]
        return spec

    # History: ~20 runs over the last two weeks, mostly clean.
    templates = (
        (
            "manifests/customers/onboarding-{d}.yaml",
            lambda c: b.onboarding(c, b.rng.randint(5, 14)),
        ),
        ("manifests/sales/import-{d}.yaml", lambda c: b.sales_orders(c, b.rng.randint(3, 9))),
        ("manifests/finance/accruals-{d}.yaml", lambda c: b.journal(c, b.rng.randint(6, 20))),
        ("manifests/items/price-list-{d}.yaml", lambda c: b.price_update(c, b.rng.randint(4, 10))),
    )
    for k in range(20):
        start = now - 14 * day + k * (13 * day / 20) + b.rng.uniform(0, 6 * hour)
        company = b.rng.choice(COMPANIES)
        pattern, make = templates[k % len(templates)]
        manifest = pattern.format(d=datetime.fromtimestamp(start, UTC).strftime("%Y%m%d"))
        ops = make(company[1])
        cancel = k == 11
        if k in (5, 13):  # a batch rejected wholesale: every order names unknown customers
            ops = [
                ("POST", b.url(company[1], "salesOrders"), {"customerNumber": "C00000"})
                for _ in range(b.rng.randint(5, 8))
            ]
            manifest = f"manifests/sales/import-{k}-legacy.yaml"
        if cancel:
            ops = ops[: max(5, len(ops) // 2)]
        spec = b.spec(
            ops, company=company, profile="sandbox", manifest=manifest, start=start, cancel=cancel
        )
        play_here(f"history-{k}", spec)

    # The runs the demo is about.
    spec = b.spec(
        b.onboarding(usa[1], 9),
        company=usa,
        profile="sandbox",
        manifest="manifests/customers/onboarding-q2.yaml",
        start=now - 30 * hour,
    )
    play_here("rolled_back", spec)
    _rollback_for_real(spec, profiles_path)

    spec = b.spec(
        b.sales_orders(usa[1], 6),
        company=usa,
        profile="sandbox",
        manifest="manifests/sales/import-weekly.yaml",
        start=now - 20 * hour,
    )
    play_here("completed", spec)

    ops = b.price_update(uk[1], 5) + b.vendor_cleanup(uk[1], 4) + b.onboarding(uk[1], 4)
    spec = b.spec(
        ops,
        company=uk,
        profile="sandbox",
        manifest="manifests/maintenance/price-and-vendor-cleanup.yaml",
        start=now - 16 * hour,
    )
    play_here("cannot_undo", spec)

    spec = b.spec(
        b.sales_orders(nordics[1], 8, bad=4),
        company=nordics,
        profile="sandbox",
        manifest="manifests/sales/import-nordics.yaml",
        start=now - 11 * hour,
    )
    play_here("partial_failure", spec)

    ops = b.onboarding(PRODUCTION_COMPANY[1], 6) + b.price_update(PRODUCTION_COMPANY[1], 6, bad=3)
    spec = b.spec(
        ops,
        company=PRODUCTION_COMPANY,
        profile="production",
        manifest="manifests/prod/price-list-2026-05.yaml",
        start=now - 9 * hour,
    )
    play_here("production", spec)

    spec = b.spec(
        b.journal(usa[1], 11),
        company=usa,
        profile="legacy-uat",
        manifest="manifests/finance/accruals-legacy.yaml",
        start=now - 8 * hour,
    )
    play_here("unknown_profile", spec)

    # Real crashes: the writer process SIGKILLs itself mid-run.
    spec = b.spec(
        b.sales_orders(usa[1], 7),
        company=usa,
        profile="sandbox",
        manifest="manifests/sales/import-nightly.yaml",
        start=now - 6 * hour,
    )
    crash_at = len(spec["steps"]) * 2 // 3
    while spec["steps"][crash_at - 1]["method"] != "POST":
        crash_at -= 1
    spec["steps"][crash_at - 1]["outcome_ts"] = None
    spec["die"] = {"mode": "after_send", "seq": crash_at}
    _play_and_die(spec)
    runs["crashed_in_doubt"] = spec["run"]["run_id"]

    spec = b.spec(
        b.journal(nordics[1], 14),
        company=nordics,
        profile="sandbox",
        manifest="manifests/finance/accruals-nightly.yaml",
        start=now - 4 * hour,
    )
    spec["die"] = {"mode": "before_intent", "seq": 9}
    _play_and_die(spec)
    runs["crashed_between"] = spec["run"]["run_id"]

    demo = DemoSet(ledger_dir, profiles_path, base_url, None, runs)
    demo.format_runs = write_format_demos(ledger_dir, now)
    if live:
        ops = b.onboarding(uk[1], 40)
        spec = b.spec(
            ops,
            company=uk,
            profile="sandbox",
            manifest="manifests/customers/onboarding-bulk.yaml",
            start=None,
            live=True,
        )
        spec["parent_pid"] = os.getpid()
        spec["ready_after"] = 5
        proc = _start_live(spec)
        demo._proc, demo.live_pid = proc, proc.pid
        runs["running"] = spec["run"]["run_id"]
    b.client.close()
    return demo


if __name__ == "__main__":
    if sys.argv[1:] == ["--worker"]:
        sys.exit(_worker_main())
    print("usage: python -m ledger_core.demo.data --worker  (internal)", file=sys.stderr)
    sys.exit(2)
