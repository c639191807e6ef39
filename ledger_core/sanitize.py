"""Make untrusted text (URLs, errors, ids, names read from ledgers and servers) safe to show.

Ledger fields come from files and remote servers. Before any of it reaches a terminal, control
characters (C0, DEL, C1) and bidirectional overrides become visible escapes such as ``\\x1b`` or
``\\u202e``, and long values are cut with a marker saying how much was cut. Markup is the
display layer's job (it must build plain ``Text``); this module only removes what would act on
the terminal itself — and hides credentials: a URL's ``user:password@`` becomes
``user:***@`` (``redact_url``/``redact_urls``), so a password written into a ``base_url`` or a
ledger's URL is never shown, exported or stored again by ledgerx.
"""

from __future__ import annotations

import re

# C0 except nothing, DEL, C1, plus bidi embeddings/overrides/isolates and other invisible
# formatting characters that can reorder or hide text on screen.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]"
)

DEFAULT_LIMIT = 2000

# scheme://USERINFO@ inside any text. The userinfo is everything between "//" and the last "@"
# before the host's end ("/", "?", "#", whitespace, a quote): a password may itself hold "@"
# (and, JSON-escaped, a backslash).
# Anchored on "://" so a long text with no URL costs one fast substring scan.
_USERINFO = re.compile(r"://([^\s/?#\"'<>]*)@")
# How far past a display limit a URL's userinfo is still looked for, so a cut never shows the
# beginning of a password.
_REDACT_MARGIN = 8192
MASK = "***"


def _mask(match: re.Match[str]) -> str:
    userinfo = match.group(1)
    if not userinfo:
        return "://@"
    user, colon, _ = userinfo.partition(":")
    # "https://TOKEN@host" is how many tools carry a token: a lone user part is masked too.
    return f"://{user}:{MASK}@" if colon else f"://{MASK}@"


def redact_urls(text: str) -> str:
    """``text`` with the credentials of every URL in it masked: ``http://u:***@host``."""
    if "@" not in text or "://" not in text:
        return text
    return _USERINFO.sub(_mask, text)


def redact_url(url: str | None) -> str | None:
    """One URL with its password (or lone user part) masked; ``None`` stays ``None``."""
    return None if url is None else redact_urls(url)


def has_credentials(url: str | None) -> bool:
    """True when ``url`` carries a user name or password (``scheme://user:pass@host``)."""
    return bool(url) and redact_urls(url) != url


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
        return _UNSAFE.sub(_escape, redact_urls(text))
    window = limit + _REDACT_MARGIN
    text = redact_urls(text) if len(text) <= window else redact_urls(text[:window]) + text[window:]
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
