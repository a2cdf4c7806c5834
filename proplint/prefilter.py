"""Which rules can possibly report on a file, decided from its bytes before anything is parsed.

Each check states, per rule, the words a file must contain for that rule to find anything (`Need`): a
conjunction of word groups ("one of these words, and one of those"), optionally with a module that
must be named on an import statement. A rule's condition is the disjunction of its needs. The filter
reads a file's words once (`\\w+` over the bytes, about 15 ms per MB, whatever the number of words),
evaluates every need as set logic on them, and answers with the codes that can still report. A file
with none is never parsed; a check with none of its codes is not run; a rule whose needs fail is not
asked to do work. Exactness (a rule never reports on a file its needs rule out) is what the needs
promise; `tests/test_prefilter_exact.py` and `scripts/realcode.py --exactness` hold them to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

_WORD = re.compile(rb"\w+")
_IDENTIFIER = re.compile(r"\w+", re.ASCII)
#: an import statement: at a line start (after \n, a lone \r or a BOM), after `;`, or after the `:` of a
#: one-line compound statement (`try: import httpx`); backslash continuations and a parenthesised name
#: list (`from . import (\n    a,  # note\n)`) are followed
_IMPORT = re.compile(rb"(?m)(?:^|[\r;:])(?:\xef\xbb\xbf)?[ \t\f]*(?:from|import)(?=[ \t\f\\(])"
                     rb"(?:[^\r\n\\(]|\\(?:\r\n|[\s\S])|\((?:[^)#]|#[^\r\n]*)*\))*")


@dataclass(frozen=True)
class Need:
    """Rules `codes` can only report on a file that has a word from every group of `all_of` and, when
    `imported` is given, names one of those modules on an import statement."""

    codes: frozenset[str]
    all_of: tuple[frozenset[str], ...] = ()
    imported: frozenset[str] = frozenset()

    @staticmethod
    def of(codes: Iterable[str], *groups: Iterable[str], imported: Iterable[str] = ()) -> "Need":
        return Need(frozenset(codes), tuple(frozenset(g) for g in groups), frozenset(imported))

    def __post_init__(self) -> None:
        if not self.all_of and not self.imported:
            raise ValueError(f"a need for {sorted(self.codes)} must name at least one word or module")
        for word in (*self.imported, *(w for g in self.all_of for w in g)):
            if not _IDENTIFIER.fullmatch(word):
                raise ValueError(f"prefilter words must be identifiers, not {word!r}")
        if any(not g for g in self.all_of):
            raise ValueError(f"a need for {sorted(self.codes)} has an empty word group (it could never match)")


def import_words(raw: bytes) -> set[bytes]:
    """Every word on the file's import statements (`from a.b import c` gives a, b, c)."""
    out: set[bytes] = set()
    for m in _IMPORT.finditer(raw):
        out.update(_WORD.findall(m.group()))
    return out


class FileFilter:
    """The compiled needs of the enabled checks (one per `Settings`)."""

    def __init__(self, needs: Iterable[Need]) -> None:
        self.needs = tuple(
            (n.codes, tuple(frozenset(w.encode() for w in g) for g in n.all_of),
             frozenset(m.encode() for m in n.imported)) for n in needs)
        self.words = frozenset(w for _, groups, mods in self.needs for g in (*groups, mods) for w in g)
        self.codes_any = frozenset(c for codes, _, _ in self.needs for c in codes)

    def codes(self, raw: bytes) -> frozenset[str]:
        """The codes some need of which this file meets (empty: nothing can be found here)."""
        present = self.words.intersection(_WORD.findall(raw))
        if not present:
            return frozenset()
        out: set[str] = set()
        imported: set[bytes] | None = None
        for codes, groups, mods in self.needs:
            if codes <= out or not all(present & g for g in groups):
                continue
            if mods:
                if not present & mods:
                    continue
                if imported is None:
                    imported = import_words(raw)
                if not imported & mods:
                    continue
            out |= codes
        return frozenset(out)
