"""Files ledgerx writes where a person asked (saved plans, checklists): never over one of theirs.

A new file is created with ``O_EXCL | O_NOFOLLOW``: a file that appears meanwhile is not
clobbered and a symbolic link is never followed. An existing file is replaced only when it is
ledgerx's own earlier output of the same kind, recognised by its content (a saved plan's JSON, a
checklist's first line). A ledger, its ``-wal``/``-shm``/``-journal``, a notes file or anything
else named by mistake is never replaced, whatever flag or button asked: a ``--force`` or an
"Overwrite" that could truncate a ledger's write-ahead log would lose committed steps. The
replacement goes through a temporary file renamed over the old one, so a crash leaves either the
old file or the new one. No file is ever created with a name ending in ``-wal``, ``-shm`` or
``-journal``: SQLite would take it for a database's side file.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from ..ledgers.access import read_regular_file

CHECKLIST_TITLE = "# Rollback plan for run "  # the first line of Plan.to_markdown
_OWN_LIMIT = 256 * 1024 * 1024  # bytes read to recognise an earlier output


class NotOurs(OSError):
    """The existing file is not ledgerx's own output of this kind: it is never replaced."""


class SideFileName(OSError):
    """The name is one SQLite gives a database's side file: ledgerx never writes one."""


# SQLite finds a database's write-ahead log, shared memory and rollback journal by name (the
# database's name plus one of these): a file so named beside a database is deleted by SQLite,
# or worse, replayed into it as its journal.
SQLITE_SIDE_SUFFIXES = ("-wal", "-shm", "-journal")


def side_file_problem(path: str | Path) -> str | None:
    """Why ``path`` must not be written because of its name (any case); ``None`` if it may."""
    name = Path(path).name
    for suffix in SQLITE_SIDE_SUFFIXES:
        if name.lower().endswith(suffix):
            return (
                f"a name ending in {name[-len(suffix) :]} is how SQLite names a database's side "
                "file, which SQLite may delete or read as that database's journal; choose "
                "another name"
            )
    return None


def _refuse_side_file(path: str | Path) -> None:
    if (problem := side_file_problem(path)) is not None:
        raise SideFileName(errno.EINVAL, problem, str(path))


def _is_plan(data: bytes) -> bool:
    try:
        plan = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return (
        isinstance(plan, dict)
        and plan.get("format") == 1
        and isinstance(plan.get("fingerprint"), str)
        and isinstance(plan.get("actions"), list)
    )


def _is_checklist(data: bytes) -> bool:
    return data.startswith(CHECKLIST_TITLE.encode())


KINDS: dict[str, tuple[str, Callable[[bytes], bool]]] = {
    "plan": ("a rollback plan ledgerx saved", _is_plan),
    "checklist": ("a rollback checklist ledgerx saved", _is_checklist),
}


def write_new(path: str | Path, text: str) -> None:
    """Create ``path`` holding ``text``; ``FileExistsError`` if anything is there already,
    ``SideFileName`` if it is named like an SQLite side file (``side_file_problem``)."""
    _refuse_side_file(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o644)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise


def is_own(path: str | Path, kind: str) -> bool:
    """Whether ``path`` is a regular file (not a link) holding ledgerx's own output ``kind``."""
    _, recognise = KINDS[kind]
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > _OWN_LIMIT:
            return False
        return recognise(read_regular_file(path))
    except OSError:
        return False


def replace_own(path: str | Path, text: str, kind: str) -> None:
    """Replace ``path`` with ``text``, atomically, only if it holds ledgerx's own ``kind``.

    Raises ``NotOurs`` (an ``OSError`` whose message says why) for anything else, and
    ``SideFileName`` for a name like an SQLite side file.
    """
    _refuse_side_file(path)
    what, _ = KINDS[kind]
    target = Path(path)
    if not is_own(target, kind):
        raise NotOurs(
            errno.EEXIST,
            f"it exists and is not {what}; ledgerx never replaces other files "
            "(a ledger, its -wal/-shm, your notes): choose another name",
            str(target),
        )
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temp, 0o644)
        if not is_own(target, kind):  # swapped for something else meanwhile: leave it
            raise NotOurs(errno.EEXIST, f"it changed meanwhile and is not {what}", str(target))
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
