"""Which rules can possibly report on a file, decided from its bytes before anything is parsed; and the one
language in which rules state that (`Cond`, built with `words`, `imported`, `any_of`, `all_of`, `Layout`).

Each rule states the words a file must contain for that rule to find anything (`Need`): a
conjunction of word groups ("one of these words, and one of those"), optionally with a module that
must be named on an import statement. A rule's condition is the disjunction of its needs. The filter
reads a file's words once (`\\w+` over the bytes, about 15 ms per MB, whatever the number of words),
evaluates every need as set logic on them, and answers with the codes that can still report. A file
with none is never parsed; a check with none of its codes is not run; a rule whose needs fail is not
asked to do work. Exactness (a rule never reports on a file its needs rule out) is what the needs
promise; `tests/test_prefilter_exact.py` and `scripts/realcode.py --exactness` hold them to it.

A group may also hold *places* (`inside`): `@a.b` is met by a file whose module (`module_name_for` its path,
as the checks name it) is `a.b` or in package `a.b`. A relative import or a module's own definition only
resolves to a name of the file's own top-level package, so what can only be reached that way is asked for
there, not in every file of a project that holds many packages.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from proplint.core.ast_names import module_name_for

if TYPE_CHECKING:
    from proplint.index import ProjectIndex

_WORD = re.compile(rb"\w+")
#: every byte that is not in a word (`_WORD`: ASCII letters, digits, `_`) -> a space: a file's words are then
#: `raw.translate(_SPACES).split()`, the same as `_WORD.findall(raw)` and about half the cost
_SPACES = bytes(c if chr(c).isascii() and (chr(c).isalnum() or chr(c) == "_") else 32 for c in range(256))
#: words in most files: a need is tried on a file that has a word of its rarest group (`FileFilter`)
_COMMON = frozenset(w.encode() for w in (*keyword.kwlist, "self", "cls"))
_IDENTIFIER = re.compile(r"\w+", re.ASCII)
#: a place: `@` and a module name (module names come from paths: identifiers, maybe not ASCII)
PLACE = "@"
_PLACE = re.compile(r"@\w+(?:\.\w+)*")
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
        for word in self.imported:
            if not _IDENTIFIER.fullmatch(word):
                raise ValueError(f"prefilter words must be identifiers, not {word!r}")
        for word in (w for g in self.all_of for w in g):
            if not (_PLACE if word.startswith(PLACE) else _IDENTIFIER).fullmatch(word):
                raise ValueError(f"prefilter words must be identifiers (or places, `@a.b`), not {word!r}")
        if any(not g for g in self.all_of):
            raise ValueError(f"a need for {sorted(self.codes)} has an empty word group (it could never match)")


def import_words(raw: bytes) -> set[bytes]:
    """Every word on the file's import statements (`from a.b import c` gives a, b, c)."""
    out: set[bytes] = set()
    for m in _IMPORT.finditer(raw):
        out.update(_WORD.findall(m.group()))
    return out


class _Anywhere:
    def __repr__(self) -> str:
        return "ANYWHERE"


#: the module of a file is not known to the caller: every place is taken as met (sound: never narrower)
ANYWHERE = _Anywhere()


def places_of(module: str | None) -> set[bytes]:
    """The places a file of module `a.b.c` is in: `@a`, `@a.b`, `@a.b.c` (none without a module name)."""
    if not module:
        return set()
    parts = module.split(".")
    return {(PLACE + ".".join(parts[:i])).encode() for i in range(1, len(parts) + 1)}


class FileFilter:
    """The compiled needs of the enabled checks (one per `Settings`)."""

    def __init__(self, needs: Iterable[Need]) -> None:
        self.needs = tuple(
            (n.codes, tuple(frozenset(w.encode() for w in g) for g in n.all_of),
             frozenset(m.encode() for m in n.imported)) for n in needs)
        self.words = frozenset(w for _, groups, mods in self.needs for g in (*groups, mods) for w in g)
        self.places = frozenset(w for w in self.words if w.startswith(PLACE.encode()))
        self.codes_any = frozenset(c for codes, _, _ in self.needs for c in codes)
        # A need can only be met by a file with a word of each of its groups (and of its modules): it is tried on
        # the files that have a word of one of them, its rarest (fewest common words, then fewest words).
        self._tried_by: dict[bytes, list[int]] = {}
        for i, (_, groups, mods) in enumerate(self.needs):
            rarest = min((*groups, *((mods,) if mods else ())), key=lambda g: (len(g & _COMMON), len(g)))
            for word in rarest:
                self._tried_by.setdefault(word, []).append(i)

    def codes(self, raw: bytes, module: "str | None | _Anywhere" = ANYWHERE) -> frozenset[str]:
        """The codes some need of which this file meets (empty: nothing can be found here). `module`: the
        file's module name (`module_name_for` its path; None: it has none), for the needs that ask for a place."""
        present = self.words.intersection(raw.translate(_SPACES).split())
        if self.places:
            here = self.places if module is ANYWHERE else places_of(module)  # type: ignore[arg-type]
            present |= self.places.intersection(here)
        if not present:
            return frozenset()
        out: set[str] = set()
        imported: set[bytes] | None = None
        tried = {i for word in present if word in self._tried_by for i in self._tried_by[word]}
        for i in sorted(tried):
            codes, groups, mods = self.needs[i]
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


# --- the language rules state their needs in --------------------------------------------------------------
#
# A condition (`Cond`) is a disjunction of alternatives; an alternative (`Alt`) is a conjunction of word
# groups (a word of each group must be in the file) and, optionally, a set of modules one of which an import
# statement must name. `NEVER` (no alternative) never holds; `ALWAYS` (one empty alternative) always does.
#
# Words are what the prefilter sees: the ASCII `\w+` runs of the bytes. A name counts by its first ASCII run;
# a group holding a name without one is always met (the prefilter cannot see that name), so it is dropped.
# An EMPTY group can never be met: "a word of no words" (e.g. the project defines no such class), so an
# alternative with an empty group is dropped, and `words(set())` is `NEVER`.

Groups = tuple[frozenset[str], ...]


@dataclass(frozen=True)
class Alt:
    groups: Groups = ()
    imported: frozenset[str] = frozenset()


Cond = tuple[Alt, ...]
NEVER: Cond = ()
ALWAYS: Cond = (Alt(),)
_ASCII_RUN = re.compile(r"[A-Za-z0-9_]+")


def ascii_word(name: str) -> str | None:
    """The word the prefilter sees for a name: its first ASCII run (None: it sees none)."""
    run = _ASCII_RUN.search(name)
    return run.group() if run else None


def words(*groups: Iterable[str]) -> Cond:
    """A file with a word of every group (see above for empty groups and non-ASCII names)."""
    out = []
    for group in groups:
        found = [ascii_word(n) for n in group]
        if not found:
            return NEVER
        if None not in found:
            out.append(frozenset(found))  # type: ignore[arg-type]
    return (Alt(tuple(out)),)


def imported(modules: Iterable[str], *groups: Iterable[str]) -> Cond:
    """A file that names one of `modules` on an import statement and has a word of every group."""
    mods = frozenset(m for m in (ascii_word(m) for m in modules) if m)
    if not mods:
        return NEVER
    return tuple(Alt(a.groups, mods) for a in words(*groups))


def inside(*packages: str) -> Cond:
    """A file whose module is one of `packages` or in one of them (`NEVER` without any)."""
    if not packages:
        return NEVER
    return (Alt((frozenset(PLACE + p for p in packages),)),)


def any_of(*conds: Cond) -> Cond:
    return tuple(alt for cond in conds for alt in cond)


def all_of(*conds: Cond) -> Cond:
    """Every condition. Two alternatives that each ask for an import keep the first one's: "imports one of
    A" and "one of B" cannot be said as one set, and keeping one only lets more files through (sound)."""
    out = ALWAYS
    for cond in conds:
        out = tuple(Alt(a.groups + b.groups, a.imported or b.imported) for a in out for b in cond)
    return out


def needs_of(codes: Iterable[str], cond: Cond) -> list[Need]:
    """The prefilter needs of a rule (or rules) that can report only where `cond` holds."""
    codes = frozenset(codes)
    out = []
    for alt in cond:
        if not alt.groups and not alt.imported:
            raise ValueError(f"{sorted(codes)} can report on any file: state the words it needs")
        out.append(Need(codes, _antichain_tuple(alt.groups), alt.imported))
    return out


def minimal(needs: list[Need]) -> list[Need]:
    """The same conditions in fewer needs: per rule, alternatives that differ in one group only are merged
    (`a∧b1 ∨ a∧b2` is `a∧(b1∪b2)`), then those implied by another are dropped (a file meeting `n` meets `m`
    when each group of `m` contains a group of `n`, and `m` asks for no import that `n` does not)."""
    by_rule: dict[tuple, set[frozenset[frozenset[str]]]] = {}
    for n in needs:
        by_rule.setdefault((n.codes, n.imported), set()).add(_antichain(n.all_of))
    for alts in by_rule.values():
        merged = True
        while merged:
            merged = False
            buckets: dict[frozenset, list] = {}
            for alt in sorted(alts, key=_order):  # in a fixed order: the same needs every run
                for group in sorted(alt, key=sorted):
                    buckets.setdefault(alt - {group}, []).append(group)
            for rest, groups in buckets.items():
                if len(groups) > 1 and all(rest | {g} in alts for g in groups):
                    alts -= {rest | {g} for g in groups}
                    alts.add(_antichain(rest | {frozenset().union(*groups)}))
                    merged = True
    merged_needs = [Need(codes, tuple(sorted(alt, key=sorted)), imported)
                    for (codes, imported), alts in by_rule.items() for alt in sorted(alts, key=_order)]

    def implies(n: Need, m: Need) -> bool:
        return n.codes == m.codes and (not m.imported or bool(n.imported) and n.imported <= m.imported) \
            and all(any(g <= h for g in n.all_of) for h in m.all_of)

    return [n for i, n in enumerate(merged_needs)
            if not any(implies(n, m) and not (implies(m, n) and j > i) for j, m in enumerate(merged_needs) if j != i)]


def _order(alt) -> list[list[str]]:
    return sorted(sorted(g) for g in alt)


def _antichain(groups) -> frozenset[frozenset[str]]:
    """The groups without those that contain another (met whenever the smaller one is)."""
    return frozenset(g for g in groups if not any(h < g for h in groups))


def _antichain_tuple(groups: Groups) -> Groups:
    return tuple(sorted(_antichain(groups), key=sorted))


class Layout:
    """Which packages a checked file of this project can be in (its module name is `index.module_name_for`
    its path): those of the index, and directories under the root, `src/` or, for a path outside the root
    (kept as given), the working directory. Only a file of a package created after this was computed
    escapes it. One per project (`index.derived`)."""

    def __init__(self, root: Path, index: "ProjectIndex") -> None:
        self.bases = [*(root / r for r in getattr(index, "src", ()) if r), root, root / "src", Path(), Path("src")]
        self.modules: set[str] = set()
        self.packages: dict[str, bool] = {}
        for rel in index.files:
            module = module_name_for(rel, getattr(index, "src", ()))
            if not module:
                continue
            self.modules.add(module)
            package = module if rel.endswith("__init__.py") else module.rpartition(".")[0]
            parts = package.split(".") if package else []
            self.packages.update((".".join(parts[:i]), True) for i in range(1, len(parts) + 1))

    def package(self, parts: list[str]) -> bool:
        """Whether `a.b` (parts) can be a package (or a prefix of the package) of a file here."""
        name = ".".join(parts)
        if name not in self.packages:
            self.packages[name] = any(base.joinpath(*parts).is_dir() for base in self.bases)
        return self.packages[name]

    def provides(self, top: str) -> bool:
        """The project has a top-level module `top`: its files may name `top`'s objects through relative
        imports, without the word `top`."""
        return self.package([top]) or top in self.modules or any((b / f"{top}.py").is_file() for b in self.bases)

    def may_be(self, module: str) -> bool:
        """Whether a checked file can be module `a.b`: one of the index, or `a/b.py` or `a/b/__init__.py`
        (saved or not) in a directory that exists."""
        parts = module.split(".")
        if module in self.modules or self.package(parts) or (len(parts) > 1 and self.package(parts[:-1])):
            return True
        return len(parts) == 1 and any((b / f"{module}.py").is_file() for b in self.bases)

    def package_depth(self, parts: list[str], whole: bool = False) -> int:
        """The most leading parts of a name that can be the package of a file here, left implicit by a
        relative import. `whole`: the whole name may be."""
        for k in range(len(parts) if whole else len(parts) - 1, 0, -1):
            if self.package(parts[:k]):
                return k
        return 0

    def named(self, name: str, prefix: bool = False, import_line: bool = True) -> Cond:
        """Files where an expression can resolve to the qualified name `a.b.c` (with `prefix`: to it or to
        `a.b.c.*`): after an absolute import every part is a word (and, with `import_line`, `a` is named on
        an import statement); after a relative import in a package that can exist here, the parts after the
        package are words, and `from`, in a file of package `a`. A relative import resolves from the file's
        own package (`ast_names.ast_imports`, `resolve.import_bindings`): to a name of its top-level package,
        or, when it climbs to the top, to a name whose first part is on the import statement (the absolute
        case)."""
        parts = name.split(".")
        absolute = imported([parts[0]], *({p} for p in parts)) if import_line else words(*({p} for p in parts))
        k = self.package_depth(parts, whole=prefix)
        relative = all_of(words(*({p} for p in parts[k:]), {"from"}), inside(parts[0])) if k else NEVER
        return any_of(absolute, relative)
