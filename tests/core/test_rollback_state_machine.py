"""Hypothesis state machine over rollbacks against real loopback servers.

Invariants: writes disabled (or read-only) ⇒ no request at all; only the profile's origin is
ever contacted (a redirect to another origin is never followed, a foreign target refuses the
whole plan); no step is both committed and rolled back; a step marked rolled back is gone from
the server.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from ledger_factory import StepSpec
from rollback_servers import COMPANY, RUN_ID, entity_url, rollback_ledger, write_profiles

from ledger_core.demo.api import DemoApi
from ledger_core.errors import RollbackRefused
from ledger_core.ledgers.access import snapshot
from ledger_core.ledgers.reader import read_run
from ledger_core.rollback import executor as rollback

N = 4


class RollbackMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="ledgerx-sm-"))
        self.api = DemoApi().start()
        self.foreign = DemoApi().start()
        self.path = self.tmp / f"{RUN_ID}.db"
        self.ids = rollback_ledger(self.path, self.api, N)
        self.disable_writes = False
        self.readonly = False
        self.foreign_step = False

    def teardown(self) -> None:
        self.api.stop()
        self.foreign.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @rule()
    def toggle_disable_writes(self) -> None:
        self.disable_writes = not self.disable_writes

    @rule()
    def toggle_readonly(self) -> None:
        self.readonly = not self.readonly

    @rule(
        index=st.integers(0, N - 1),
        kind=st.sampled_from(["none", "500", "404", "close", "redirect"]),
    )
    def set_fault(self, index: int, kind: str) -> None:
        record = self.ids[index]
        self.api.faults[:] = [f for f in self.api.faults if f.match != record]
        if kind == "500":
            self.api.fault(record, "status", status=500, method="DELETE")
        elif kind == "404":  # someone deleted it by hand meanwhile: the server says 404
            self.api.records.pop((COMPANY, "customers", record), None)
        elif kind == "close":
            self.api.fault(record, "close", method="DELETE")
        elif kind == "redirect":
            target = entity_url(self.foreign.base_url, "customers", record)
            self.api.fault(record, "redirect", location=target, method="DELETE")

    @precondition(lambda self: not self.foreign_step)
    @rule()
    def record_a_foreign_target(self) -> None:
        """A step whose rollback URL points at another origin (a tampered or odd ledger)."""
        import sqlite3

        conn = sqlite3.connect(self.path, isolation_level=None)
        step = StepSpec.committed(
            99, rollback_url=entity_url(self.foreign.base_url, "customers", "x")
        )
        conn.execute(
            "INSERT INTO step (run_id, seq, intent_ts, method, url, outcome_ts, status, "
            "rollback_url) VALUES (?,?,?,?,?,?,?,?)",
            (
                RUN_ID,
                step.seq,
                step.intent_ts,
                "POST",
                step.url,
                step.outcome_ts,
                "committed",
                step.rollback_url,
            ),
        )
        conn.close()
        self.foreign_step = True

    @rule()
    def execute(self) -> None:
        profiles = write_profiles(
            self.tmp / "profiles.toml",
            self.api.base_url,
            disable_writes=self.disable_writes,
            timeout=2.0,
        )
        plan = rollback.preview(read_run(self.path, RUN_ID), profiles, readonly=self.readonly)
        before = self.api.connections
        try:
            asyncio.run(rollback.execute(plan, profiles, readonly=self.readonly))
        except RollbackRefused as refused:
            assert self.api.connections == before, refused.code
            return
        finally:
            if self.disable_writes or self.readonly or self.foreign_step:
                assert self.api.connections == before
        assert not (self.disable_writes or self.readonly or self.foreign_step)

    @invariant()
    def only_the_profile_origin_is_contacted(self) -> None:
        assert self.foreign.connections == 0

    @invariant()
    def no_step_is_both_committed_and_rolled_back(self) -> None:
        def read(conn):
            steps = conn.execute("SELECT step_id, status, rollback_url FROM step").fetchall()
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            attempts = (
                conn.execute(
                    "SELECT step_id, result FROM rollback_attempt ORDER BY attempt_id"
                ).fetchall()
                if "rollback_attempt" in tables
                else []
            )
            return steps, attempts

        steps, attempts = snapshot(self.path, read)
        last: dict[int, str | None] = {}
        for step_id, result in attempts:
            last[step_id] = result
        for step_id, status, rollback_url in steps:
            if status == "committed":
                assert last.get(step_id) != "rolled_back"
            if status == "rolled_back":
                assert last.get(step_id) == "rolled_back"
                record = rollback_url.rsplit("(", 1)[1].rstrip(")")
                assert not self.api.has_record(COMPANY, "customers", record)


RollbackMachine.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=8,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRollbackMachine = RollbackMachine.TestCase
