"""The batch runner's own ledger (seed 002, ``bcli``): the home format, the only one with rollback.

Its reading stays where it is fastest — ``scanner``'s one-statement read — so this module only
recognises the schema and states the format's capabilities for ``ledgerx formats``/``doctor``.
"""

from __future__ import annotations

import sqlite3

from ..ledgers.schema import SCHEMA_VERSION
from .base import Capabilities, Format, Recognition, SchemaInfo
from .values import integer


class BcliFormat(Format):
    name = "bcli"
    title = "batch runner's operation ledger (seed 002)"
    versions = f"schema_version {SCHEMA_VERSION}"
    capabilities = Capabilities(
        rollback=True,
        no_rollback_reason=None,
        liveness_source="writer pid and -shm lock when recorded, else activity age",
        in_doubt_possible=True,
        unknowable=("a step with an intent and no outcome may or may not have landed",),
    )

    def recognise(self, schema: SchemaInfo, conn: sqlite3.Connection) -> Recognition | None:
        if not ("run" in schema.tables and "step" in schema.tables):
            return None
        if "schema_version" not in schema.tables:
            return Recognition(None, ("missing_schema", "no schema_version table"))
        values = [integer(r[0]) for r in conn.execute("SELECT version FROM schema_version")]
        known = [v for v in values if v is not None]
        return Recognition(str(max(known)) if known else None)


FORMAT = BcliFormat()
