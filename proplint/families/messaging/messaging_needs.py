r"""Where each messaging rule can report, as prefilter needs (`prefilter.Need`): the words a file must hold.

Read off the paths of `messaging_check.py` / `messaging_context.py` that reach a report; what is
library-specific comes from the catalog, the config and the project index, as for the visitor's tables.
Two facts make the needs sound:

* A called or accessed name is a word of the file: producer, consumer and receive-option methods match
  `func.attr` of `<receiver>.<method>(...)`, and `[[client_method]]`s are attributes too
  (`conn.channel()`, `channel.default_exchange`, `@app.task`).
* Where an expression resolves to a qualified name `a.b.c` (`Resolver.qualified_name`: only what an import
  binds, plus the attributes written after it; a module's own defs and classes resolve to nothing), every
  part is a word of the file after an absolute import (`import a.b as x` ... `x.c`, `from a.b import c`), and
  `a` is on the import statement (`imported=`; also for `from .. import (\n a)` above a top-level package).
  After a relative import in a file of package `a` (or `a.b`), the package's parts come from the file's
  path: only the rest, and `from`, are words. That alternative is kept only where a checked file can be in
  such a package (`Layout`).

Hence "a receiver of kind K is inferred" (`Receivers`: `_from_qualname`, `_call`, `decorated`,
`_project_task`) needs one of K's constructors, annotation types or decorators named, or the last name of
a project client or task of kind K (`project_facts`), or the name of a client method returning K and a
receiver of the kind it is called on. Entries that cannot report in this project are left out:
instrumented libraries (the visitor returns early for them), PRP305 without the library's instrumentor,
PRP306 without manual propagation (and then PRP301 for celery `delay`). Words are ASCII (`\w+` over
bytes): a name counts by its first ASCII run, and a part without one is not required.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable

from proplint.core.catalog import Catalog
from proplint.families.messaging.messaging_catalog import instrumented, instrumentor_packages, project_facts, split_ctor
from proplint.config import Config
from proplint.core.flow import GLOBAL_TEXTMAP
from proplint.index import ProjectIndex, module_name_for
from proplint.core.needs import Need

#: word groups a file must all meet (a word of each)
Words = tuple[frozenset[str], ...]
#: one way a condition holds: word groups, and modules one of which an import statement must name (or none)
Alt = tuple[Words, frozenset[str]]

#: `<propagator>.extract(...)` / `.inject(...)` match on these attribute names, whatever the catalog says
#: (`ExtractFlow.is_extract`, `CarrierFlow._is_propagator_inject`)
PROPAGATOR_METHODS = ("extract", "inject")

_ASCII_RUN = re.compile(r"[A-Za-z0-9_]+")


def last(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def ascii_word(name: str) -> str | None:
    """The word the prefilter sees for a name: its first ASCII run (None: it sees none)."""
    run = _ASCII_RUN.search(name)
    return run.group() if run else None


def words(*groups: Iterable[str]) -> Words:
    """A word of each group; a group with a name that has no ASCII run is always met, so not required."""
    out = []
    for group in groups:
        found = [ascii_word(n) for n in group]
        if found and None not in found:
            out.append(frozenset(found))
    return tuple(out)  # type: ignore[arg-type]


class Layout:
    """The packages a checked file can be in (its module name is `module_name_for` its path): those of the
    index, and directories under the root, `src/` or, for a path outside the root (kept as given), the
    working directory. Only a file of a package created after this was computed escapes it."""

    def __init__(self, root: Path, index: ProjectIndex) -> None:
        self.bases = [root, root / "src", Path(), Path("src")]
        self.packages: dict[str, bool] = {}
        for rel in index.files:
            module = module_name_for(rel)
            package = module if module and rel.endswith("__init__.py") else (module or "").rpartition(".")[0]
            parts = package.split(".") if package else []
            self.packages.update((".".join(parts[:i]), True) for i in range(1, len(parts) + 1))

    def package(self, parts: list[str]) -> bool:
        name = ".".join(parts)
        if name not in self.packages:
            self.packages[name] = any(base.joinpath(*parts).is_dir() for base in self.bases)
        return self.packages[name]

    def named(self, name: str) -> list[Alt]:
        """Where an expression can resolve to `name`: every part is a word and the first one is imported, or (a
        relative import in a package that can exist here) the parts after the package and `from` are words."""
        parts = name.split(".")
        top = ascii_word(parts[0])
        out = [(words(*({p} for p in parts)), frozenset({top} if top else ()))]
        for k in range(len(parts) - 1, 0, -1):  # the deepest possible package asks for the fewest words
            if self.package(parts[:k]):
                out.append((words(*({p} for p in parts[k:]), {"from"}), frozenset()))
                break
        return out


class KindSources:
    """The alternatives, one of which a file meets wherever a receiver of a kind is inferred."""

    def __init__(self, catalog: Catalog, index: ProjectIndex, layout: Layout) -> None:
        self.clients = {e.name: e for e in catalog.get("message_client")}
        self.methods = catalog.get("client_method")
        self.layout = layout
        self.project: dict[str, set[str]] = {}
        facts = project_facts(index)
        for q, kind in facts["clients"].items():
            self.project.setdefault(kind, set()).add(last(q))
        for q, desc in facts["tasks"].items():
            # ["kind", k]: made by a catalog decorator; ["method", base, attr]: by `@base.attr`, of the kind a
            # decorator client method of that name returns (`_project_task`; the base's kind is not checked)
            kinds = [desc[1]] if desc[0] == "kind" else \
                [m.returns for m in self.methods if m.decorator and m.method == desc[2]]
            for kind in kinds:
                self.project.setdefault(kind, set()).add(last(q))

    def of(self, kind: str, origin: bool = False, _seen: frozenset[str] = frozenset()) -> list[Alt]:
        """With `origin`: a receiver that keeps its constructor call (`Receiver.origin`), set only by a
        constructor call and passed on only by call and attribute client methods."""
        if kind in _seen:
            return []  # a derivation never goes round a cycle (`r.pipeline()` is a redis client again)
        client = self.clients.get(kind)
        names = [split_ctor(c)[0] for c in client.constructors] if client else []
        if not origin and client:
            names += client.decorators
        out = [alt for n in names for alt in self.layout.named(n)]
        if not origin and self.project.get(kind):
            # a project client or task: its last name, through any import (project tokens)
            out.append((words(self.project[kind]), frozenset()))
        for m in self.methods:
            if m.returns == kind and not (origin and m.decorator):
                out += [((*words({m.method}), *groups), imported)
                        for groups, imported in self.of(m.on, origin, _seen | {kind})]
        return out


def messaging_needs(catalog: Catalog, config: Config, index: ProjectIndex) -> list[Need]:
    layout = Layout(config.root, index)
    kinds = KindSources(catalog, index, layout)
    packages = instrumentor_packages(catalog)
    known: dict[tuple[str, ...], bool] = {}

    def silenced(libraries: tuple[str, ...]) -> bool:
        """Instrumented in this project: the visitor returns early for these entries."""
        if libraries not in known:
            known[libraries] = instrumented(index, packages, libraries)
        return known[libraries]

    manual = bool(config.injectors) or bool(project_facts(index)["injectors"])
    needs: list[Need] = []

    def add(code: str, alternatives: Iterable[Alt], *groups: Iterable[str]) -> None:
        """`code` can report where a word of each of `groups` and one of the alternatives are found."""
        if all(groups):
            front = words(*groups)
            needs.extend(Need.of({code}, *front, *more, imported=imported) for more, imported in alternatives)

    # PRP301 / PRP306 (`_producer`): a producer method on a receiver of its kind, or a distinctive method on a
    # receiver that cannot be inferred (`_lookup`); the code is the entry's `manual_code` (PRP306 for celery
    # `delay`) when the project propagates by hand (`manual_propagation`), else PRP301.
    # PRP307 (`_report_v3_properties`, from `_producer`): the carrier of a statements-shaped producer
    # (`mqtt_properties`) on a receiver whose constructor call lacks the client's `requires_keyword`: its kind
    # is inferred, not guessed (`meets_requirement` is True without a kind), with its origin. The carrier may
    # be positional: its keyword is not required.
    for e in catalog.get("producer"):
        if silenced(e.instrumented_by):
            continue
        code = e.manual_code if e.manual_code and manual else "PRP301"
        add(code, kinds.of(e.kind), e.methods)
        add(code, [((), frozenset())], e.distinctive)
        client = kinds.clients.get(e.kind)
        if e.shape == "mqtt_properties" and client is not None and client.requires_keyword:
            add("PRP307", kinds.of(e.kind, origin=True), e.methods)

    # PRP302: `for m in <receiver>` over an iterated kind (`visit_For`), `<receiver>.<attr> = callback`
    # (`visit_Assign`), a receive call or a callback registration (`_consumer_call`, also by a distinctive
    # method on a receiver that cannot be inferred).
    for e in catalog.get("consumer"):
        if silenced(e.restored_by):
            continue
        if e.form == "iterate":
            add("PRP302", kinds.of(e.kind), {"for"})
            continue
        add("PRP302", kinds.of(e.kind), e.methods)
        if e.form in ("call", "batch", "callback"):
            add("PRP302", [((), frozenset())], e.distinctive)

    # PRP304 (`_receive_option`): a receive method on a receiver of the option's kind.
    for e in catalog.get("receive_option"):
        if not silenced(e.instrumented_by):
            add("PRP304", kinds.of(e.kind), e.methods)

    # PRP305 (`visit_ImportFrom`): an absolute `from <module> import <name>` at module level, in a project that
    # calls the library's instrumentor. The module is on the statement's first line, an import line; the
    # names may be on continuation lines: plain words.
    for e in catalog.get("early_import"):
        if index.instrumented(e.library):
            needs.append(Need.of({"PRP305"}, e.names, imported={e.module.split(".")[0]}))

    # PRP303 (`_prp303_call`, `_links_without_context`): each report starts from a call of a catalog or
    # configured extractor (`is_extract`), filling injector (`filled_argument`) or returning one
    # (`returns_carrier`), or from `<propagator>.extract(...)` / `.inject(...)` on a receiver built or typed
    # as a propagator class or `get_global_textmap()`.
    helpers = [*catalog.names("injector"), *catalog.names("extractor"), *config.injectors, *config.extractors]
    add("PRP303", [alt for h in helpers for alt in layout.named(h)])
    propagators = [*catalog.names("propagator_class"), GLOBAL_TEXTMAP]
    add("PRP303", [alt for p in propagators for alt in layout.named(p)], PROPAGATOR_METHODS)
    return _minimal(needs)


def _minimal(needs: list[Need]) -> list[Need]:
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
