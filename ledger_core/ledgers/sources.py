"""Where ledgers are: directories of per-run files and single files, with SPEC §4 defaults."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

LEDGER_SUFFIXES = (".db", ".sqlite", ".sqlite3")
_SIDECARS = ("-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class Sources:
    """The directories and files ledgerx reads, in the order given."""

    dirs: tuple[Path, ...] = ()
    files: tuple[Path, ...] = ()

    @classmethod
    def from_args(
        cls, dirs: Iterable[str | Path] = (), files: Iterable[str | Path] = ()
    ) -> Sources:
        """Sources from the command line; with neither, ``$LEDGERX_LEDGER_DIR`` or the runner's.

        Absolute (not resolved: a symlink stays the path the user gave), so a run's ``source``
        in a saved plan, an export or a resolution names the same file from any directory.
        """
        dir_paths = tuple(_absolute(d) for d in dirs)
        file_paths = tuple(_absolute(f) for f in files)
        if not dir_paths and not file_paths:
            dir_paths = (default_ledger_dir(),)
        return cls(dir_paths, file_paths)

    def describe(self) -> str:
        parts = [str(d) for d in self.dirs] + [str(f) for f in self.files]
        return ", ".join(parts) or "(no sources)"


def _absolute(path: str | Path) -> Path:
    return Path(os.path.abspath(Path(path).expanduser()))


def default_ledger_dir() -> Path:
    env = os.environ.get("LEDGERX_LEDGER_DIR")
    if env:
        return Path(env).expanduser()
    return Path("~/.config/bcli/batch").expanduser()


def is_ledger_name(name: str) -> bool:
    """True for names that look like ledger files (not SQLite's sidecar files)."""
    if name.endswith(_SIDECARS) or name.startswith("."):
        return False
    return name.endswith(LEDGER_SUFFIXES)


def ledger_names(names: Iterable[str]) -> list[str]:
    """The names ``is_ledger_name`` keeps, sorted: the same test inlined, for directories of
    10,000 files listed at every search (a call per name cost ~5 ms of it)."""
    sidecars, suffixes = _SIDECARS, LEDGER_SUFFIXES
    return sorted(
        n
        for n in names
        if n.endswith(suffixes) and not n.endswith(sidecars) and not n.startswith(".")
    )


def ledger_files(sources: Sources) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Every candidate file in the sources, and the sources that could not be listed.

    Files named explicitly are always candidates; in directories only ``*.db``, ``*.sqlite``
    and ``*.sqlite3`` are (sidecars such as ``-wal`` never are). Sorted for a stable order.
    """
    found: list[Path] = []
    errors: list[tuple[Path, str]] = []
    seen: set[Path] = set()
    for directory in sources.dirs:
        try:
            with os.scandir(directory) as entries:
                names = sorted(e.name for e in entries if is_ledger_name(e.name))
        except FileNotFoundError:
            errors.append((directory, "no such directory"))
            continue
        except NotADirectoryError:
            errors.append((directory, "not a directory (use --ledger for a single file)"))
            continue
        except OSError as exc:
            errors.append((directory, f"cannot be listed ({exc.strerror})"))
            continue
        for name in names:
            path = directory / name
            if path not in seen:
                seen.add(path)
                found.append(path)
    for path in sources.files:
        if path not in seen:
            seen.add(path)
            found.append(path)
    return found, errors
