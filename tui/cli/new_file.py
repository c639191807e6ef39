"""Write a file the user named, never clobbering one by accident (``--save-plan``, ``export``).

Shared by the commands that write files, so the rules are one: a new file through ``O_EXCL``
(one created meanwhile is not clobbered), ``--force`` only over a regular non-SQLite file.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def write_new_file(
    path: str, text: str, force: bool = False, *, allow_force: bool = True
) -> str | None:
    """Write ``text`` to a new file ``path``; ``None`` on success, else why not (nothing written).

    Without ``force`` the file must not exist (``O_EXCL``: a file created meanwhile is not
    clobbered either). With ``force`` only a regular file that is not an SQLite database is
    replaced, atomically, through a temporary file beside it: a ledger, a FIFO, a directory, a
    symbolic link or a device named by mistake stays as it was.
    """
    target = Path(path)
    try:
        st = target.lstat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        return f"it cannot be checked ({exc.strerror})"
    if st is not None:
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
            kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
            return f"it exists and is {kind}; choose another file name"
        if not force:
            if not allow_force:
                return "it already exists; choose another file name (it is never overwritten)"
            return "it already exists; pass --force to replace it, or choose another file name"
        if _is_sqlite(target):
            return "it is an SQLite database (a ledger?), which --force never replaces"
        return _replace(target, text)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(target, flags, 0o644)
    except FileExistsError:
        return "it was created by something else just now; choose another file name"
    except OSError as exc:
        return f"it cannot be created ({exc.strerror})"
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError as exc:
        with contextlib.suppress(OSError):
            target.unlink()
        return f"it cannot be written ({exc.strerror})"
    return None


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _replace(target: Path, text: str) -> str | None:
    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    except OSError as exc:
        return f"it cannot be replaced ({exc.strerror})"
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return f"it cannot be replaced ({exc.strerror})"
    return None
