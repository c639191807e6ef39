"""Finding which indexed documents hold a needle without scanning every one of them.

``search_index`` keeps one row per run and per step (``doc``). Scanning those rows with ``LIKE``
costs 35–100 ms for 10,000 files (200,000 rows, 36 M characters), which alone broke the warm
``ledgerx search`` target of 0.2 s end to end. Two tables beside ``doc`` take that scan away:

- ``folded``: one row per indexed file, its documents case folded (``str.casefold``, as the
  search box folds) and joined by ``DOC_SEP`` in ``doc_id`` order, with the id of its first
  document. The documents of one file get consecutive ids (``search_index`` writes them so),
  so the k-th document of a row is ``first_doc + k``.
- ``grams``: an FTS5 index of ``folded`` with the ``trigram`` tokenizer, ``detail=none`` (the
  smallest and fastest to build: ~2.2 s for 10,000 files, 12 MB). A needle with three or more
  characters in a row is looked up there with ``GLOB``: FTS5 finds the files holding every
  trigram and SQLite checks the pattern on each one's text.

``grams`` covers the ``folded`` rows up to a watermark (``meta`` ``grams_upto``; file ids are
never reused). ``catch_up`` indexes the rows above it in one statement at the end of an update:
one bulk insert, which took 2.2 s where a row at a time while the ledgers were being read took
4–7 s (a trigger doing it, 2.2× slower again). Rows above the watermark (an update that was
cut short) are scanned, so they are never missed.

A needle of three or more characters that GLOB would read as wildcards (``a*b``) is looked up
by its trigrams (``MATCH`` of each, quoted). A needle of one or two characters is looked up by
the trigrams that start with it (``grams_terms``, FTS5's vocabulary): every row ends with two
``DOC_SEP``, so every character of the text starts a trigram. When more than
``MAX_PREFIX_TERMS`` trigrams start with it, the needle is everywhere anyway and a ``LIKE`` scan
of ``folded`` finds the first matches at once. A SQLite built without FTS5 or the trigram
tokenizer (checked once, when the index is created) scans ``folded`` for every needle: 10,000
rows instead of 200,000, about half the time of the scan of every document.

Whatever this module finds is only a candidate: the caller reads each document back from
``doc`` and checks the needle against its real fields, so an index out of step can cost a
match's speed, never report a wrong one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator

# Between two documents of a file in ``folded``. A stored value may hold it (a hostile ledger's
# URL): it is written there as its escape, so counting separators always finds the document.
DOC_SEP = "\x1e"
_DOC_SEP_ESCAPE = "\\x1e"
# After a row's last document: each of its characters then starts a trigram (see above).
_ROW_END = DOC_SEP * 2
MAX_PREFIX_TERMS = 64

FOLDED_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS folded (file_id INTEGER PRIMARY KEY, first_doc INTEGER NOT NULL, "
    "text TEXT NOT NULL)",
)
GRAMS_SCHEMA = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS grams USING fts5(text, content='folded', "
    "content_rowid='file_id', detail=none, tokenize='trigram case_sensitive 1')",
    "CREATE VIRTUAL TABLE IF NOT EXISTS grams_terms USING fts5vocab(grams, 'row')",
)
GRAMS_META = "grams"  # meta key: "1" when ``grams`` exists, "0" when this SQLite cannot make it
GRAMS_UPTO = "grams_upto"  # meta key: ``grams`` holds every ``folded`` row up to this file id
_GLOB_SPECIAL = "*?["
MIN_GRAM = 3


def fold(text: str) -> str:
    return text.casefold()


def folded_text(bodies: Iterable[str]) -> str:
    """One file's documents as ``folded`` keeps them: case folded, ``DOC_SEP`` between them,
    two after the last."""
    joined = DOC_SEP.join(
        body.replace(DOC_SEP, _DOC_SEP_ESCAPE) if DOC_SEP in body else body for body in bodies
    )
    return fold(joined) + _ROW_END


def folded_needle(needle: str) -> str:
    """The (already folded) needle as it appears in ``folded``."""
    return needle.replace(DOC_SEP, _DOC_SEP_ESCAPE) if DOC_SEP in needle else needle


def create_grams(conn: sqlite3.Connection) -> bool:
    """Make ``grams`` inside the caller's transaction; False (and nothing made) when this
    SQLite has no FTS5 or no trigram tokenizer (before 3.34)."""
    conn.execute("SAVEPOINT grams")
    try:
        for statement in GRAMS_SCHEMA:
            conn.execute(statement)
    except sqlite3.OperationalError as exc:
        conn.execute("ROLLBACK TO grams")
        conn.execute("RELEASE grams")
        text = str(exc)
        if "no such module" in text or "tokenizer" in text:
            return False
        raise
    conn.execute("RELEASE grams")
    return True


def add(conn: sqlite3.Connection, file_id: int, first_doc: int, text: str) -> None:
    """Keep one file's folded text (``folded_text``); ``catch_up`` indexes its trigrams."""
    conn.execute(
        "INSERT INTO folded (file_id, first_doc, text) VALUES (?, ?, ?)",
        (file_id, first_doc, text),
    )


def grams_upto(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (GRAMS_UPTO,)).fetchone()
    try:
        return int(row[0]) if row is not None else 0
    except (TypeError, ValueError):
        return 0


def remove(conn: sqlite3.Connection, file_id: int, *, grams: bool) -> None:
    """Forget one file's folded text and trigrams (FTS5 is told the text it indexed)."""
    if grams and file_id <= grams_upto(conn):
        row = conn.execute("SELECT text FROM folded WHERE file_id = ?", (file_id,)).fetchone()
        if row is not None:
            conn.execute(
                "INSERT INTO grams (grams, rowid, text) VALUES ('delete', ?, ?)",
                (file_id, row[0]),
            )
    conn.execute("DELETE FROM folded WHERE file_id = ?", (file_id,))


def needs_catch_up(conn: sqlite3.Connection) -> bool:
    """Whether ``folded`` holds rows above the watermark (two lookups, no scan)."""
    top = conn.execute("SELECT coalesce(max(file_id), 0) FROM folded").fetchone()[0]
    return top > grams_upto(conn)


def catch_up(conn: sqlite3.Connection) -> None:
    """Index the trigrams of every ``folded`` row above the watermark, and raise it; inside
    the caller's write transaction."""
    upto = grams_upto(conn)
    top = conn.execute("SELECT coalesce(max(file_id), 0) FROM folded").fetchone()[0]
    if top <= upto:
        return
    conn.execute(
        "INSERT INTO grams (rowid, text) SELECT file_id, text FROM folded WHERE file_id > ? "
        "ORDER BY file_id",
        (upto,),
    )
    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (GRAMS_UPTO, str(top)))


def _longest_literal(needle: str) -> int:
    """The longest run of characters GLOB reads literally: what FTS5 can look trigrams up by."""
    longest = run = 0
    for char in needle:
        run = 0 if char in _GLOB_SPECIAL else run + 1
        longest = max(longest, run)
    return longest


def _escape_glob(needle: str) -> str:
    return "".join(f"[{c}]" if c in _GLOB_SPECIAL else c for c in needle)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def match_expression(conn: sqlite3.Connection, needle: str) -> str | None | bool:
    """The FTS5 ``MATCH`` expression of the rows holding ``needle`` (as a superset: the text
    must still be checked): all its trigrams, or for one or two characters any trigram that
    starts with it. ``None`` when no row can hold it; ``False`` when the lookup cannot help
    (more than ``MAX_PREFIX_TERMS`` trigrams start with it: it is everywhere)."""
    if len(needle) >= MIN_GRAM:
        grams = {needle[i : i + MIN_GRAM] for i in range(len(needle) - MIN_GRAM + 1)}
        return " AND ".join(_quoted(g) for g in sorted(grams))
    terms = [
        row[0]
        for row in conn.execute(
            "SELECT term FROM grams_terms WHERE term >= ? AND term < ? LIMIT ?",
            # Every trigram starting with the needle sorts below it followed by the highest
            # character (SQLite compares UTF-8 bytes, which keeps code point order).
            (needle, needle + "\U0010ffff" * MIN_GRAM, MAX_PREFIX_TERMS + 1),
        )
    ]
    if len(terms) > MAX_PREFIX_TERMS:
        return False
    return " OR ".join(_quoted(t) for t in terms) if terms else None


def _lookup(conn: sqlite3.Connection, needle: str) -> tuple[str, str] | None | bool:
    """How ``grams`` finds the rows holding ``needle``: the ``WHERE`` clause and its argument
    (``GLOB`` checks the text in SQLite itself when it can read the needle literally), or
    what ``match_expression`` says instead of an expression."""
    if _longest_literal(needle) >= MIN_GRAM:
        return "g.text GLOB ?", "*" + _escape_glob(needle) + "*"
    expression = match_expression(conn, needle)
    if not isinstance(expression, str):
        return expression
    return "g.grams MATCH ?", expression


def candidate_files(conn: sqlite3.Connection, needle: str) -> tuple[list[int], int] | None:
    """The ids of the files ``grams`` says may hold ``needle``, and the watermark (the files
    above it are not in ``grams``: look in them too); ``None`` when every file may."""
    expression = match_expression(conn, needle)
    if expression is False:
        return None
    upto = grams_upto(conn)
    if expression is None:
        return [], upto
    query = "SELECT rowid FROM grams WHERE grams MATCH ? ORDER BY rowid"
    return [row[0] for row in conn.execute(query, (expression,))], upto


def candidate_queries(
    conn: sqlite3.Connection, needle: str, *, grams: bool
) -> list[tuple[str, tuple[object, ...]]]:
    """SQL and arguments giving ``(file_id, path, first_doc, text)`` of every ``folded`` row
    that holds ``needle`` (folded, see ``folded_needle``), in ``file_id`` order when run one
    after the other: a lookup in ``grams`` up to the watermark when it can serve the needle,
    and a ``LIKE`` scan of the rest (of every row when it cannot)."""
    # Both sides are case folded, so LIKE's own ASCII case folding changes nothing.
    scan = (
        "SELECT f.file_id, p.path, f.first_doc, f.text FROM folded AS f "
        "JOIN files AS p ON p.file_id = f.file_id WHERE f.file_id > ? AND f.text LIKE ? "
        "ESCAPE '\\' ORDER BY f.file_id"
    )
    pattern = "%" + _escape_like(needle) + "%"
    lookup = _lookup(conn, needle) if grams else False
    if lookup is False:
        return [(scan, (0, pattern))]
    rest = (scan, (grams_upto(conn), pattern))
    if lookup is None:
        return [rest]
    where, arg = lookup
    return [
        (
            "SELECT f.file_id, p.path, f.first_doc, f.text FROM grams AS g "
            "JOIN folded AS f ON f.file_id = g.rowid JOIN files AS p ON p.file_id = g.rowid "
            f"WHERE {where} ORDER BY g.rowid",
            (arg,),
        ),
        rest,
    ]


def doc_ids_in(text: str, first_doc: int, needle: str) -> Iterator[int]:
    """The ids of the documents of one ``folded`` row that hold ``needle``, in order."""
    k = 0  # the document ``counted_to`` is in
    counted_to = 0
    at = text.find(needle)
    while at >= 0:
        k += text.count(DOC_SEP, counted_to, at)
        yield first_doc + k
        end = text.find(DOC_SEP, at)
        if end < 0:
            return
        k += 1  # the needle holds no separator: ``end`` closes the document it was found in
        counted_to = end + 1
        at = text.find(needle, counted_to)


__all__ = [
    "DOC_SEP",
    "FOLDED_SCHEMA",
    "GRAMS_META",
    "add",
    "candidate_files",
    "candidate_queries",
    "catch_up",
    "needs_catch_up",
    "create_grams",
    "doc_ids_in",
    "fold",
    "folded_needle",
    "folded_text",
    "grams_upto",
    "match_expression",
    "remove",
]
