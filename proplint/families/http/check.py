"""The HTTP family's visitor: every call that resolves to a catalog client or request function
(`[[http_client]]`), through any import alias, is checked in one of two profiles and reported under the
entry's rule. With `http-client-factory` configured (the project's traced factory), every raw construction
of a client the factory builds is a finding outside the factory's own definition (`factory.py`); without
it (the OpenTelemetry profile), a client is a finding unless the project already propagates for that
library (`propagated.py`) or the call leaves the system (`peers.py`), and the rule's own module words the
message and builds the fix."""

from __future__ import annotations

import libcst as cst

from proplint.core.context import Check
from proplint.core.flow import CarrierFlow
from proplint.core.resolve import BUILDING_PROVIDERS, dotted
from proplint.families.http.factory import FactoryProfile
from proplint.families.http.model import HttpLibrary
from proplint.families.http.peers import Peers, Unused
from proplint.families.http.propagated import Propagation
from proplint.families.http.rules import RULES


class HttpClientCheck(Check):
    rules = RULES

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        cat = ctx.catalog
        self.by_code = {rule.code: rule for rule in self.rules}
        self.clients = {e.name: e for e in cat.get("http_client")}
        self.libraries = {e.name: e for e in cat.get("http_library")}
        self.propagation = Propagation(ctx, CarrierFlow(ctx))
        self.peers = Peers(ctx)
        self.unused = Unused(ctx)
        factory = ctx.config.factory()
        self.factory = FactoryProfile(ctx, factory) if factory is not None else None

    def visit_Call(self, node: cst.Call) -> None:
        qn = self.ctx.qualified_name(node.func)
        entry = self.clients.get(qn) if qn else None
        built = node
        if entry is None and qn in BUILDING_PROVIDERS:
            built = _provided_construction(node)
            client = self.ctx.qualified_name(built.func) if built is not None else None
            entry = self.clients.get(client) if client else None
            if entry is not None and entry.kind == "request":
                entry = None
            if entry is not None:
                self._provider(node, built, entry)
            return
        rule = self.by_code.get(entry.code) if entry is not None else None
        if rule is None or not self.enabled(rule):
            return
        library = self.libraries.get(entry.library, HttpLibrary(entry.library))
        if self.propagation.inside_telemetry_class() or self.propagation.local_transport(node, library):
            return
        if self.factory is not None and self.factory.covers(entry):
            if not self.factory.inside_factory():
                message, fix = self.factory.finding(node, entry, library)
                self.report(rule, node, message, fix)
            return
        if self.propagation.propagated(node, entry, library, self.bound_name()):
            return
        if self.peers.outside(node, entry.kind, entry.name, self.bound_name()):
            return  # the call leaves the system: nobody downstream reads a trace header
        if entry.kind != "request" and self.unused.provider_nobody_injects(node, entry.name):
            return  # a provider nobody injects: the client sends nothing
        has_dep = bool(library.package) and self.ctx.index.has_dependency(library.package)
        message = rule.message(entry, self.ctx.catalog)
        fix = rule.build_fix(self, node, entry, has_dep)
        if fix is not None and not has_dep and library.package:
            message += f"; add {library.package} to your dependencies"
        self.report(rule, node, message, fix)

    def _provider(self, node: cst.Call, built: cst.Call, entry) -> None:
        """A dependency_injector provider that builds a catalog client (`providers.Singleton(httpx.AsyncClient,
        timeout=5)` in a container): the client every `Provide[...]` of it hands out is made here, with the
        provider's other arguments (`built`, the construction it stands for). No fix: the provider's value is
        not a name of this scope to instrument."""
        rule = self.by_code.get(entry.code)
        if rule is None or not self.enabled(rule):
            return
        library = self.libraries.get(entry.library, HttpLibrary(entry.library))
        if self.propagation.inside_telemetry_class() or self.propagation.local_transport(built, library):
            return
        if self.factory is not None and self.factory.covers(entry):
            if not self.factory.inside_factory():
                target = f"{self.factory.module}.{self.factory.name}"
                self.report(rule, node, f"{entry.name} sends no trace context; use {target} "
                                        f"(no automatic fix for this use)")
            return
        if self.propagation.propagated(built, entry, library, None) \
                or self.peers.outside(built, entry.kind, entry.name, None):
            return
        self.report(rule, node, rule.message(entry, self.ctx.catalog) + " (built by a dependency_injector provider)")

    def bound_name(self) -> str | None:
        """`c` in `c = Client()` / `self.c = Client()` / `with Client() as c`, for the call being visited."""
        parent = self.ctx.parent()
        if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
            return dotted(parent.targets[0].target)
        if isinstance(parent, cst.AnnAssign):
            return dotted(parent.target)
        if isinstance(parent, cst.WithItem) and parent.asname is not None:
            return dotted(parent.asname.name)
        return None


def _provided_construction(provider: cst.Call) -> cst.Call | None:
    """`providers.Singleton(httpx.AsyncClient, timeout=5)` stands for `httpx.AsyncClient(timeout=5)`: the call
    the provider makes (an expression not in the tree, for reading its arguments)."""
    if not provider.args or provider.args[0].keyword is not None or provider.args[0].star:
        return None
    return provider.with_changes(func=provider.args[0].value, args=provider.args[1:])
