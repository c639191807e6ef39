"""Make untrusted text (URLs, errors, ids, names read from ledgers and servers) safe to show.

Ledger fields come from files and remote servers. Before any of it reaches a terminal, control
characters (C0, DEL, C1) and bidirectional overrides become visible escapes such as ``\\x1b`` or
``\\u202e``, and long values are cut with a marker saying how much was cut. Markup is the
display layer's job (it must build plain ``Text``); this module only removes what would act on
the terminal itself.
"""

from __future__ import annotations

import re

# C0 except nothing, DEL, C1, plus bidi embeddings/overrides/isolates and other invisible
# formatting characters that can reorder or hide text on screen.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)

DEFAULT_LIMIT = 2000


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def clean(value: object, limit: int | None = DEFAULT_LIMIT) -> str:
    """Return ``value`` as one line of inert text: control characters escaped, cut to ``limit``.

    A cut never splits an escape, and says how many characters of the original were left out.
    """
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if limit is None:
        return _UNSAFE.sub(_escape, text)
    # Only the first ``limit`` characters can be shown (an escape never shrinks): a 1 MB field
    # costs no more than a short one.
    head = text[:limit]
    if not _UNSAFE.search(head):
        if len(text) <= limit:
            return text
        return f"{head}… [{len(text) - limit:,} more chars]"
    pieces: list[str] = []
    used = 0
    for char in head:
        piece = _UNSAFE.sub(_escape, char)
        if used + len(piece) > limit:
            break
        pieces.append(piece)
        used += len(piece)
    shown = len(pieces)
    if shown == len(text):
        return "".join(pieces)
    return f"{''.join(pieces)}… [{len(text) - shown:,} more chars]"


def has_unsafe(value: str) -> bool:
    """True when ``value`` holds a character that ``clean`` would escape."""
    return bool(_UNSAFE.search(value))
