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
    """Return ``value`` as one line of inert text: control characters escaped, cut to ``limit``."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if limit is not None and len(text) > limit * 4:
        # Escaping can grow text fourfold; trim first so a 1 MB field stays cheap.
        text = text[: limit * 4]
        was_cut = True
    else:
        was_cut = False
    original_length = len(value) if isinstance(value, str) else len(text)
    text = _UNSAFE.sub(_escape, text)
    if limit is not None and (len(text) > limit or was_cut):
        shown = text[:limit]
        return f"{shown}… [{original_length - len(shown):,} more chars]"
    return text


def has_unsafe(value: str) -> bool:
    """True when ``value`` holds a character that ``clean`` would escape."""
    return bool(_UNSAFE.search(value))
