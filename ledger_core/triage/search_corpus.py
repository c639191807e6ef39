"""The search box's copy of the index's folded text, in memory: a key answered in milliseconds.

``SearchSession`` keeps one ``Corpus`` per session: every ``folded`` row of its files (each
file's documents, case folded, ``DOC_SEP`` between them and two after the last; see
``search_grams``), joined in ``file_id`` order. A needle is found with ``str.find``; the
document it is in is the file's first document plus the separators before it.

When the index has trigrams, ``candidate_files`` names the files that may hold the needle and
only their text is searched: "bad" in 10,000 runner files looks at the third of them that hold
it, instead of 36 million characters (25–30 ms: a quarter of a keystroke's budget). Files
written after the trigrams were caught up are always searched.

Built from ``folded`` as SQLite stores it, the copy costs no case folding in Python (the
documents' own rows took ~0.4 s to fold for 10,000 files), and its strings are joined in
pieces of ``_PIECE`` rows, so building it never holds the GIL long enough to stall the screen.
"""

from __future__ import annotations

from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .search_grams import DOC_SEP

_PIECE = 512


@dataclass(frozen=True, slots=True)
class Corpus:
    """Each file's folded text in one string: where each file starts, its id and the id of
    its first document."""

    text: str
    starts: array  # one more than there are files: the end of the text
    file_ids: array
    first_docs: array

    def rows_of(self, file_ids: Iterable[int], above: int) -> list[int]:
        """The positions of these files, and of every file with an id over ``above``, in
        order (files the corpus does not hold are left out)."""
        wanted = set(file_ids)
        return [n for n, fid in enumerate(self.file_ids) if fid in wanted or fid > above]

    def find(
        self,
        needle: str,
        max_docs: int,
        should_stop: Callable[[], bool] | None = None,
        rows: list[int] | None = None,
    ) -> tuple[list[int], bool, bool]:
        """The ids of the documents holding ``needle`` (folded, in ``folded``'s form), at most
        ``max_docs``, in index order; whether that is all of them; whether ``should_stop()``
        ended the search first. ``rows``: look only in the files at these positions."""
        if should_stop is not None and should_stop():
            return [], False, True
        found: list[int] = []
        spans = (
            [(0, len(self.starts) - 1)]
            if rows is None
            else [(n, n + 1) for n in rows]  # one file each
        )
        text, starts, firsts = self.text, self.starts, self.first_docs
        for first_row, end_row in spans:
            limit = starts[end_row]
            row = first_row
            counted, k = starts[row], 0  # separators counted up to ``counted``: k of them
            at = text.find(needle, counted, limit)
            while at >= 0:
                if at >= starts[row + 1]:  # in a later file (a span of many files)
                    row = bisect_right(starts, at) - 1
                    counted, k = starts[row], 0
                k += text.count(DOC_SEP, counted, at)
                if len(found) == max_docs:
                    return found, False, False
                found.append(firsts[row] + k)
                if len(found) % 256 == 0 and should_stop is not None and should_stop():
                    return found, False, True
                # The rest of this document cannot add an id: go on after its end (every
                # file's text ends with separators, and a needle holds none).
                end = text.find(DOC_SEP, at, limit)
                if end < 0:
                    break  # not ``folded``'s form: nothing more to find in this span
                counted, k = end + 1, k + 1
                at = text.find(needle, counted, limit)
        return found, True, False


def build_corpus(
    cursor: Iterable[tuple],
    wanted: set[str] | None,
    max_chars: int,
    should_stop: Callable[[], bool] | None,
) -> Corpus | None:
    """A ``Corpus`` of the ``(file_id, path, first_doc, text)`` rows in ``file_id`` order
    (those of ``wanted`` paths only); ``None`` over ``max_chars`` or when ``should_stop()``."""
    pieces: list[str] = []
    parts: list[str] = []
    starts, file_ids, firsts = array("q"), array("q"), array("q")
    size = 0
    for n, (file_id, path, first_doc, text) in enumerate(cursor):
        if wanted is not None and path not in wanted:
            continue
        starts.append(size)
        file_ids.append(file_id)
        firsts.append(first_doc)
        parts.append(text)
        size += len(text)
        if size > max_chars:
            return None
        if len(parts) == _PIECE:
            pieces.append("".join(parts))
            parts = []
        if n % _PIECE == 0 and should_stop is not None and should_stop():
            return None
    pieces.append("".join(parts))
    starts.append(size)
    return Corpus("".join(pieces), starts, file_ids, firsts)


__all__ = ["Corpus", "build_corpus"]
