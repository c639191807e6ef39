"""``ledgerx formats``: every ledger format ledgerx reads, built-in and mapped, and what each
can do (rollback or why not, liveness source, whether steps can be in doubt)."""

from __future__ import annotations

import argparse

from rich.text import Text

from ledger_core.formats import all_formats
from ledger_core.sanitize import clean

from .output import emit_json, make_console

EXIT_OK = 0


def _entries() -> list[dict]:
    out = []
    for fmt in all_formats():
        out.append(
            {
                "name": fmt.name,
                "title": fmt.title,
                "builtin": fmt.builtin,
                "versions": fmt.versions,
                "mapping_file": getattr(fmt, "file", None),
                **fmt.capabilities.to_dict(),
            }
        )
    return out


def run_formats(args: argparse.Namespace) -> int:
    entries = _entries()
    if getattr(args, "format", "table") == "json":
        emit_json(entries)
        return EXIT_OK
    console = make_console()
    for e in entries:
        head = Text(clean(e["name"], 60), style="bold")
        head.append(f"  {'built-in' if e['builtin'] else 'mapped'} — {clean(e['title'], 200)}")
        if e["mapping_file"]:
            head.append(f" ({clean(e['mapping_file'], 300)})")
        lines = [
            f"versions:  {e['versions']}",
            "rollback:  yes (the runner's own)"
            if e["rollback"]
            else f"rollback:  none — {e['no_rollback_reason']}",
            f"liveness:  {e['liveness_source']}",
            "in doubt:  "
            + ("possible" if e["in_doubt_possible"] else "never (written after the work)"),
            *(f"unknowable: {u}" for u in e["unknowable"]),
        ]
        body = Text("\n".join("  " + clean(line, 400) for line in lines))
        console.print(head)
        console.print(body)
        console.print(Text(""))
    return EXIT_OK
