"""Write a file the user named, never clobbering one of theirs (``--save-plan``, ``export``).

Shared by the commands that write files, so the rules are one
(``ledger_core.rollback.safe_files``): a new file through ``O_EXCL`` (one created meanwhile is not
clobbered, links are never followed); ``--force`` replaces only ledgerx's own earlier output of
the same kind, recognised by its content — never a ledger, its ``-wal``/``-shm``, a FIFO, a
directory or your notes.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ledger_core.rollback import safe_files


def write_new_file(
    path: str, text: str, force: bool = False, *, allow_force: bool = True, kind: str = "plan"
) -> str | None:
    """Write ``text`` to a new file ``path``; ``None`` on success, else why not (nothing written).

    With ``force`` (when ``allow_force``) an earlier output of ``kind`` (``safe_files.KINDS``)
    is replaced, atomically; anything else stays as it was.
    """
    target = Path(path)
    if not path or path.endswith(os.sep):
        return "that is not a file name"
    if (problem := safe_files.side_file_problem(target)) is not None:
        return problem
    try:
        st = target.lstat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        return f"it cannot be checked ({exc.strerror})"
    try:
        if st is None:
            safe_files.write_new(target, text)
            return None
        if stat.S_ISLNK(st.st_mode) or not stat.S_ISREG(st.st_mode):
            what = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
            return f"it exists and is {what}; choose another file name"
        if not (force and allow_force):
            if not allow_force:
                return "it already exists (it is never replaced); choose another file name"
            return "it already exists; pass --force to replace it, or choose another file name"
        safe_files.replace_own(target, text, kind)
    except FileExistsError:
        return "it was created by something else just now; choose another file name"
    except (safe_files.NotOurs, safe_files.SideFileName) as exc:
        return exc.strerror or "it is not a file ledgerx saved"
    except OSError as exc:
        return f"it cannot be written ({exc.strerror})"
    return None
