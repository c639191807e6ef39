"""Whether a URL may receive a DELETE: the request must go exactly where the plan says.

httpx normalises a URL before sending it: ``.`` and ``..`` segments are resolved and a
``#fragment`` is dropped, so ``…/salesOrderLines(abc)/../..`` is sent as a DELETE of the API
root while the preview, the progress line and the audit row name the text as written. And a
``base_url`` with a path (Business Central's ``…/v2.0/{tenant}/{environment}``) is the
profile's boundary as much as its host: environments often share a host and differ by path.

So a target is refused unless it is sent as written (no control or invisible characters, a
valid port, no fragment, no dot segment, literal or percent-encoded) and lies under the
profile's ``base_url`` path, below it rather than the path itself.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote, urlsplit

from ..sanitize import clean

# Path segments a server or httpx may resolve, however they are spelled.
_DOT_SEGMENTS = frozenset({".", ".."})


def url_problem(url: str) -> str | None:
    """Why ``url`` would not be sent as written (a phrase), or ``None`` when it would."""
    # A plain space is sent as %20 to the same record (OData keys have them); any other
    # whitespace, a control or a format character (a bidi override) shows one URL and is another.
    if any(
        unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") or (c.isspace() and c != " ")
        for c in url
    ):
        return "holds control, invisible or unusual space characters"
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number 0-65535
    except ValueError as exc:
        return f"cannot be parsed ({clean(str(exc), 80)})"
    if "#" in url:
        return "has a #fragment, which is never sent (the request would go elsewhere)"
    # Also as a server may read them: percent-decoded, with a backslash as a slash (IIS, on
    # which Business Central runs) and a ``;param`` cut off (``..;`` in Java servers).
    for piece in re.split(r"[/\\]", unquote(parts.path)):
        if piece.split(";", 1)[0] in _DOT_SEGMENTS:
            return "has a . or .. path segment (the request would go to another path)"
    return None


def base_path(base_url: str) -> str:
    """The profile's path boundary: ``base_url``'s path without its trailing slashes."""
    return unquote(urlsplit(base_url).path).rstrip("/")


def outside_base(url: str, base_url: str) -> bool:
    """Whether ``url``'s path is not strictly below ``base_url``'s path (both decoded)."""
    path = unquote(urlsplit(url).path)
    root = base_path(base_url)
    if path.rstrip("/") == root:
        return True  # the base itself (or the server's root) is never a record to delete
    return not path.startswith(root + "/")


__all__ = ["base_path", "outside_base", "url_problem"]
