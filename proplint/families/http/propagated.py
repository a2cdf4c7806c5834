"""What counts as already propagated for an HTTP client construction or request call (the OpenTelemetry
profile): an instrumentor or zero-code instrumentation for the library, headers filled by an injector, a
traced, custom or local transport, a request hook that injects, `instrument_client` on the instance, a
tracing aiohttp `trace_configs`, or a client inside an OpenTelemetry exporter. `ALREADY_PROPAGATED` is
the same list in words, shown on every rule page of the family."""

from __future__ import annotations

import libcst as cst

from proplint.core.context import FileContext
from proplint.core.cst import keyword
from proplint.core.flow import CarrierFlow
from proplint.core.resolve import dotted
from proplint.core.walk import visit
from proplint.families.http.model import HttpClient, HttpLibrary
from proplint.families.http.peers import client_calls

ALREADY_PROPAGATED = """
    - `HTTPXClientInstrumentor().instrument()` (for requests, urllib3 and aiohttp: `RequestsInstrumentor`,
      `URLLib3Instrumentor`, `AioHttpClientInstrumentor`; also `logfire.instrument_httpx()` and friends)
      called anywhere in the project: found through the project index.
    - Another tracing SDK that is the project's only tracing and carries the library's calls by itself
      (`[[sdk_propagation]]` in `rules/common.toml`): Sentry (`sentry_sdk.init` with its default
      integrations) for requests, urllib3, httpx and aiohttp; ddtrace (`ddtrace-run`, `ddtrace.auto`) for
      requests, httpx and aiohttp.
    - Zero-code instrumentation: an `opentelemetry-instrument` launcher in a Dockerfile, Procfile, compose
      file or shell entry script, together with the library's `opentelemetry-instrumentation-*` package in
      a dependency file (or `opentelemetry-bootstrap -a install`), unless
      `OTEL_PYTHON_DISABLED_INSTRUMENTATIONS` names the library.
    - httpx: `HTTPXClientInstrumentor.instrument_client(<that client>)` in the same function (or, for
      `self.client`, the same class); `transport=`/`mounts=` wrapped in `AsyncOpenTelemetryTransport` /
      `SyncOpenTelemetryTransport`; a custom transport (proplint assumes it propagates); a request event hook
      that injects (or one proplint cannot see into).
    - `headers=` built from a carrier that `opentelemetry.propagate.inject` (or a configured injector) filled,
      on the request call, or on every request the function makes with the client it builds. The project's
      own injector helpers count, found in its code: a module-level function that calls an injector or a
      propagator's `.inject(...)` on a carrier it returns (`headers = inject({...})`) or is handed.
    - A local transport (`httpx.MockTransport`, `ASGITransport`, `WSGITransport`): nothing reaches the network.
    - A client created inside an OpenTelemetry exporter or span processor (a subclass of the SDK's bases, or
      of a project class that is one): tracing the exporter's own requests would feed back into itself.

    With `http-client-factory` configured, only the last two apply: every other raw construction of a
    client the factory builds is a finding outside the factory's own definition.
"""


class Propagation:
    """The "already propagated" tests for one file (`HttpClientCheck` asks them for each client call)."""

    def __init__(self, ctx: FileContext, flow: CarrierFlow) -> None:
        self.ctx = ctx
        self.flow = flow
        self.telemetry_bases = ctx.catalog.names("telemetry_base")

    def inside_telemetry_class(self) -> bool:
        for anc in self.ctx.ancestors:
            if isinstance(anc, cst.ClassDef):
                for base in anc.bases:
                    q = self.ctx.qualified_name(base.value)
                    if q is None:
                        name = dotted(base.value)
                        if name and self.ctx.module_name:
                            q = f"{self.ctx.module_name}.{name}"
                    if q and (q in self.telemetry_bases or self.ctx.index.is_subclass(q, self.telemetry_bases)):
                        return True
        return False

    def _transport_values(self, node: cst.Call) -> list[cst.BaseExpression]:
        values = []
        arg = keyword(node, "transport")
        if arg is not None:
            values.append(arg.value)
        mounts = keyword(node, "mounts")
        if mounts is not None:
            if isinstance(mounts.value, cst.Dict):
                values += [el.value for el in mounts.value.elements if isinstance(el, cst.DictElement)]
            else:
                values.append(mounts.value)
        return values

    def _construction(self, expr: cst.BaseExpression) -> str | None:
        """The qualified constructor behind an expression (through a local name), if known."""
        if isinstance(expr, cst.Name):
            return self.ctx.resolver.receiver_type(expr)
        if isinstance(expr, cst.Call):
            return self.ctx.resolver.type_of_expression(expr) or "<unknown>"
        return None

    def local_transport(self, node: cst.Call, library: HttpLibrary) -> bool:
        values = self._transport_values(node)
        if not values or not library.local_transports:
            return False
        return all(self._construction(v) in library.local_transports for v in values)

    def _transport_propagates(self, node: cst.Call, library: HttpLibrary) -> bool:
        for value in self._transport_values(node):
            ctor = self._construction(value)
            if ctor in library.traced_transports:
                return True
            if ctor is None or ctor not in library.plain_transports:
                return True  # a custom transport: assumed to propagate (we cannot see into it)
        return False

    def _hooks_propagate(self, node: cst.Call) -> bool:
        hooks = keyword(node, "event_hooks")
        if hooks is None:
            return False
        if not isinstance(hooks.value, cst.Dict):
            return True
        for el in hooks.value.elements:
            if not isinstance(el, cst.DictElement):
                return True
            if not isinstance(el.key, cst.SimpleString) or "request" not in el.key.value:
                continue
            if not isinstance(el.value, (cst.List, cst.Tuple)):
                return True
            for item in el.value.elements:
                if self._hook_injects(item.value):
                    return True
        return False

    def _hook_injects(self, hook: cst.BaseExpression) -> bool:
        if not isinstance(hook, cst.Name):
            return True
        for stmt in self.ctx.module.body:
            if isinstance(stmt, cst.FunctionDef) and stmt.name.value == hook.value:
                finder = _InjectFinder(self.flow)
                visit(stmt, finder)
                return finder.found
        return True  # imported or dynamic: assume it injects

    def _instance_instrumented(self, library: HttpLibrary, name: str | None) -> bool:
        if not library.instrument_client or name is None:
            return False
        if name.startswith("self."):
            scope_node = self.ctx.enclosing(cst.ClassDef)
        else:
            scope = self.ctx.resolver.function_scope()
            scope_node = scope.node if scope else self.ctx.module
        if scope_node is None:
            return False
        finder = _CallFinder(self.ctx, library.instrument_client)
        visit(scope_node, finder)
        return any(args and dotted(args[0]) == name for args in finder.calls)

    def _trace_configs_propagate(self, node: cst.Call, library: HttpLibrary) -> bool:
        arg = keyword(node, "trace_configs")
        if arg is None or not library.trace_config_factories:
            return False
        value = arg.value
        if isinstance(value, (cst.List, cst.Tuple)):
            if not value.elements:
                return False
            for el in value.elements:
                v = el.value
                if isinstance(v, cst.Call) and self.ctx.qualified_name(v.func) in library.trace_config_factories:
                    return True
                if isinstance(v, cst.Name) and self._construction(v) in library.trace_config_factories:
                    return True
                if not isinstance(v, cst.Call):
                    return True  # a config built elsewhere: assumed to trace
            return False
        return True

    def propagated(self, node: cst.Call, entry: HttpClient, library: HttpLibrary, bound_name: str | None) -> bool:
        """Whether the call already carries trace context (`bound_name`: what the client is bound to)."""
        index = self.ctx.index
        if index.instrumented(entry.library) or index.zero_code(entry.library, library.package):
            return True
        if self.ctx.project.carried_by_sdk(self.ctx.catalog, f"http:{entry.library}", whole_context=False):
            return True
        headers = keyword(node, "headers")
        if headers is not None and self.flow.enriched(headers.value):
            return True
        if entry.kind == "client" and bound_name and self._every_request_injects(bound_name):
            return True
        if entry.library == "httpx":
            if self._transport_propagates(node, library) or self._hooks_propagate(node):
                return True
            if entry.kind == "client" and self._instance_instrumented(library, bound_name):
                return True
        if entry.library == "aiohttp" and self._trace_configs_propagate(node, library):
            return True
        return False


    def _every_request_injects(self, bound: str) -> bool:
        """Every request the enclosing function makes on the client passes `headers=` an injector filled
        (`headers = inject({...})`, the project's own helper included: `core/flow.py`)."""
        fn = self.ctx.enclosing(cst.FunctionDef)
        if not isinstance(fn, cst.FunctionDef):
            return False
        calls = client_calls(fn, bound)
        for call in calls:
            headers = keyword(call, "headers")
            if headers is None or not self.flow.enriched(headers.value):
                return False
        return bool(calls)


class _CallFinder(cst.CSTVisitor):
    """Arguments of every call to one qualified name inside a subtree."""

    def __init__(self, ctx: FileContext, qualname: str) -> None:
        self.ctx = ctx
        self.qualname = qualname
        self.calls: list[list[cst.BaseExpression]] = []

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.qualified_name(node.func) == self.qualname:
            self.calls.append([a.value for a in node.args])


class _InjectFinder(cst.CSTVisitor):
    """Whether a hook function writes trace headers: an injector call or `request.headers[...] = ...`."""

    def __init__(self, flow: CarrierFlow) -> None:
        self.flow = flow
        self.found = False

    def visit_Call(self, node: cst.Call) -> None:
        if self.flow.filled_argument(node) is not None:
            self.found = True

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        target = node.target
        if (isinstance(target, cst.Subscript) and isinstance(target.value, cst.Attribute)
                and target.value.attr.value == "headers"):
            self.found = True
