r"""The building blocks of the messaging rules' needs (where each can report, for the prefilter), in the
language of `proplint.core.needs`: "a receiver of kind K is inferred here" (`Sources.of`), "a producer,
consumer or receive option of the catalog can be matched here", and the project facts that rule entries
out (an instrumented library, manual propagation).

Read off the paths of `check.py` that reach a report; what is library-specific comes from the catalog, the
config and the project index, as for the visitor's tables. Two facts make the needs sound:

* A called or accessed name is a word of the file: producer, consumer and receive-option methods match
  `func.attr` of `<receiver>.<method>(...)`, and `[[client_method]]`s are attributes too
  (`conn.channel()`, `channel.default_exchange`, `@app.task`).
* Where an expression resolves to a qualified name `a.b.c` (`Resolver.qualified_name`), every part is a
  word of the file after an absolute import and `a` is on the import statement; after a relative import in
  a package that can exist here, the rest of the name and `from` are (`project.layout.named`).

Hence "a receiver of kind K is inferred" (`receivers.py`: `_from_qualname`, `_call`, `decorated`,
`_project_task`) needs one of K's constructors, annotation types or decorators named, or the last name of
a project client or task of kind K (`project_facts`), or the name of a client method returning K and a
receiver of the kind it is called on. Entries that cannot report in this project are left out:
instrumented libraries (the visitor returns early for them). Words are ASCII (`\w+` over bytes): a name
counts by its first ASCII run, and a part without one is not required.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proplint.core.cst import last_part
from proplint.core.needs import NEVER, Cond, all_of, any_of, words
from proplint.core.relevance import path_kind
from proplint.families.messaging.facts import (containers, instrumented, instrumentor_packages, project_facts,
                                              split_ctor)
from proplint.families.messaging.model import CALL

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext
    from proplint.families.messaging.model import Producer

#: `<propagator>.extract(...)` / `.inject(...)` match on these attribute names, whatever the catalog says
#: (`ExtractFlow.is_extract`, `CarrierFlow._is_propagator_inject`)
PROPAGATOR_METHODS = ("extract", "inject")


class Sources:
    """What the messaging needs read of one project, computed once per `NeedsContext` (`sources()`)."""

    def __init__(self, project: "NeedsContext") -> None:
        catalog, index = project.catalog, project.index
        self.catalog = catalog
        self.layout = project.layout
        self.clients = {e.name: e for e in catalog.get("message_client")}
        self.methods = catalog.get("client_method")
        self.packages = instrumentor_packages(catalog)
        self._silenced: dict[tuple[str, ...], bool] = {}
        self.index = index
        facts = project_facts(index)
        #: the project propagates by hand (`MessagingCheck.manual_propagation`)
        self.manual = bool(project.config.injectors) or bool(facts["injectors"])
        self.project: dict[str, set[str]] = {}
        # Clients and tasks defined in tests, examples and scripts: with `scope = "application"` nothing is
        # reported there, and application code does not import them, so their (often common: `add`, `slow`)
        # names need not let every file of a large project through.
        outside: set[str] = set()
        if project.config.scope == "application":
            for rel, f in index.facts("messaging"):
                module = index.module_name(rel) if path_kind(rel) else None
                if module:
                    outside.update(f"{module}.{n}" for n in (*f.get("clients", {}), *f.get("tasks", {})))
        for q, kind in facts["clients"].items():
            if q not in outside:
                self.project.setdefault(kind, set()).add(last_part(q))
        for name, kind in facts["state_clients"].items():
            if kind is not None:  # `request.app.state.<name>` (`Receivers._infer`)
                self.project.setdefault(kind, set()).add(name)
        # a provider of a dependency_injector container (`Provide[Container.producer]`, `Container.producer()`,
        # `Provide["kafka.producer"]`): every use names the provider (`Receivers._injected`, `_provider_call`)
        for kind, names in containers(index, catalog, project.config.scope == "application").attributes().items():
            self.project.setdefault(kind, set()).update(names)
        for q, desc in facts["tasks"].items():
            if q in outside:
                continue
            # ["kind", k]: made by a catalog decorator; ["method", base, attr]: by `@base.attr`, of the kind a
            # decorator client method of that name returns (`_project_task`; the base's kind is not checked)
            kinds = [desc[1]] if desc[0] == "kind" else \
                [m.returns for m in self.methods if m.decorator and m.method == desc[2]]
            for kind in kinds:
                self.project.setdefault(kind, set()).add(last_part(q))

    def silenced(self, libraries: tuple[str, ...]) -> bool:
        """Instrumented in this project: the visitor returns early for these entries."""
        if libraries not in self._silenced:
            self._silenced[libraries] = instrumented(self.index, self.packages, libraries)
        return self._silenced[libraries]

    def of(self, kind: str, origin: bool = False, _seen: frozenset[str] = frozenset()) -> Cond:
        """Files where a receiver of `kind` can be inferred. With `origin`: a receiver that keeps its
        constructor call (`Receiver.origin`), set only by a constructor call and passed on only by call and
        attribute client methods."""
        if kind in _seen:
            return NEVER  # a derivation never goes round a cycle (`r.pipeline()` is a redis client again)
        client = self.clients.get(kind)
        names = [split_ctor(c)[0] for c in client.constructors] if client else []
        if not origin and client:
            names += client.decorators
        out = any_of(*(self.layout.named(n) for n in names))
        if not origin and self.project.get(kind):
            # a project client or task: its last name, through any import (project tokens)
            out = any_of(out, words(self.project[kind]))
        for m in self.methods:
            if m.returns == kind and not (origin and m.decorator):
                out = any_of(out, all_of(words({m.method}), self.of(m.on, origin, _seen | {kind})))
        return out

    def producers(self, manual_code: str | None = None) -> "list[Producer]":
        """The producer entries not instrumented here; with `manual_code`, only those that report as that code
        ("": those that report PRP301; an entry's `manual_code` is its code when the project propagates by
        hand)."""
        return [e for e in self.catalog.get("producer") if not self.silenced(e.instrumented_by)
                and (manual_code is None or (e.manual_code if e.manual_code and self.manual else "") == manual_code)]

    def produced(self, manual_code: str) -> Cond:
        """A producer method on a receiver of its kind, or a distinctive method on a receiver that cannot be
        inferred (`MessagingCheck._lookup`), for the entries of `producers(manual_code)`."""
        out = []
        for e in self.producers(manual_code):
            named = [m for m in e.methods if m != CALL]
            out.append(any_of(all_of(words(named), self.of(e.kind)) if named else NEVER, words(e.distinctive)))
            if CALL in e.methods:  # the object itself is called: a receiver of the kind is enough
                out.append(self.of(e.kind))
        return any_of(*out)


def sources(project: "NeedsContext") -> Sources:
    """The project's `Sources`, shared by the messaging rules' `needs` of one `Check.needs` call."""
    found = project.__dict__.get("_messaging_sources")
    if found is None:
        found = project.__dict__["_messaging_sources"] = Sources(project)
    return found
