"""Every exception ledger_core raises, so callers catch by meaning rather than by accident.

    LedgerxError                      base: carries a sentence a person can act on
    ├── SourceError                   a ledger file could not be used (kind says why)
    ├── RunNotFound                   no run matches the id or prefix
    ├── AmbiguousRunId                a prefix matches several runs
    ├── ProfilesError                 the profiles file is missing a profile, or unreadable
    ├── PlanFileError                 a saved plan file cannot be read
    ├── MappingError                  a formats mapping file is wrong (names file, format, key)
    ├── RollbackRefused               a rollback was refused before any request was sent
    │                                 (reason says why; ``code`` names the rule)
    └── ResolutionRefused             a resolution of an in-doubt step was not recorded

Nothing here imports anything outside the standard library.
"""

from __future__ import annotations


class LedgerxError(Exception):
    """Base of every ledgerx error; ``str(error)`` is meant for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class SourceError(LedgerxError):
    """A file in the sources cannot be read as a ledger.

    ``kind`` is one of: ``missing``, ``not_a_file``, ``empty``, ``not_sqlite``, ``corrupt``,
    ``not_a_ledger``, ``newer_schema``, ``missing_schema``, ``needs_recovery``, ``locked``,
    ``unreadable``, ``bad_rows`` (one run's rows cannot be told apart: opening it is refused),
    ``ambiguous`` (matches several formats), ``mapping_error``.
    """

    def __init__(self, path: str, kind: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.kind = kind
        self.reason = reason


class RunNotFound(LedgerxError):
    """No run in the sources has this id or id prefix."""


class AmbiguousRunId(LedgerxError):
    """A run id prefix matches more than one run."""

    def __init__(self, message: str, candidates: list[str]) -> None:
        super().__init__(message)
        self.candidates = candidates


class ProfilesError(LedgerxError):
    """The profiles file cannot be read, or does not hold the profile asked for."""


class PlanFileError(LedgerxError):
    """A saved rollback plan cannot be read back."""


class MappingError(LedgerxError):
    """A formats mapping file cannot be used; the message names the file, format and key."""


class RollbackRefused(LedgerxError):
    """A rollback is refused; raised before any socket is opened.

    ``code`` is a stable identifier of the rule (``writes_disabled``, ``readonly``,
    ``unknown_profile``, ``no_base_url``, ``credentials_in_url``, ``foreign_origin``,
    ``bad_target`` (a target httpx would send elsewhere than shown: dot segments, a fragment,
    a bad port, hidden characters), ``outside_base_url`` (not below the base_url's path),
    ``insecure_token``, ``missing_token``, ``bad_token``, ``run_alive``, ``stale_plan``,
    ``rollback_in_progress``, ``ledger_busy``, ``nothing_to_do``, ``not_confirmed``,
    ``profiles_changed`` (the profiles file differs from the one the plan was made with),
    ``profiles_error`` (the profiles file cannot be read), ``misspelled_key`` (a key spelled
    alike ``disable_writes`` or ``readonly``), ``misplaced_key`` (a key that says "no writes"
    in another place or other words: ``[defaults] disable_writes``, ``[profiles.X] readonly``,
    ``writes = false``), ``bad_step_ids``, ``no_rollback_for_format``).
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class ResolutionRefused(LedgerxError):
    """A resolution of an in-doubt step is refused before anything is written.

    ``code``: ``readonly``, ``bad_outcome``, ``no_note``, ``note_too_long``, ``bad_url``,
    ``credentials_in_url``, ``no_such_step``, ``ambiguous_step``, ``not_in_doubt``,
    ``no_state_dir``.
    """

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
