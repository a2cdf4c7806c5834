"""PRP101-PRP104: outbound HTTP clients that send no trace context.

Catalog: `rules/http.toml` (`[[http_client]]`, `[[http_library]]`, `[[instrumentor]]`).

Two profiles. With `http-client-factory` configured (the project's traced factory, seed 001), every raw
construction of a client the factory builds is a finding outside the factory's own definition, and the
fix swaps in the factory. Without it (the OpenTelemetry profile), a client is a finding unless the
project already propagates for that library: an instrumentor call anywhere in the project, zero-code
instrumentation, or an instance-level hook (see each rule's "already propagated" section).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import libcst as cst

from proplint.core.catalog import role
from proplint.core.context import Check, provides_module
from proplint.core.flow import CarrierFlow
from proplint.core.needs import Need
from proplint.core.resolve import dotted
from proplint.core.rule import SAFE, UNSAFE, Fix, ImportRequest, Invalid, Rule, Valid
from proplint.core.walk import visit


@role("http_client")
@dataclass(frozen=True)
class HttpClient:
    name: str
    code: str
    library: str
    kind: str = "client"  # "client" | "request"
    # `async` is a keyword in Python; the TOML key maps to this field
    is_async: bool = False


@role("http_library")
@dataclass(frozen=True)
class HttpLibrary:
    name: str
    package: str = ""
    instrument_client: str = ""
    traced_transports: tuple[str, ...] = ()
    plain_transports: tuple[str, ...] = ()
    local_transports: tuple[str, ...] = ()
    transport_drops: tuple[str, ...] = ()
    trace_config_factories: tuple[str, ...] = ()


OTEL_HTTPX = "opentelemetry.instrumentation.httpx"
OTEL_AIOHTTP = "opentelemetry.instrumentation.aiohttp_client"

_PROPAGATED_OTEL = """
    - `HTTPXClientInstrumentor().instrument()` (for requests, urllib3 and aiohttp: `RequestsInstrumentor`,
      `URLLib3Instrumentor`, `AioHttpClientInstrumentor`; also `logfire.instrument_httpx()` and friends)
      called anywhere in the project: found through the project index.
    - Zero-code instrumentation: an `opentelemetry-instrument` launcher in a Dockerfile, Procfile, compose
      file or shell entry script, together with the library's `opentelemetry-instrumentation-*` package in
      a dependency file (or `opentelemetry-bootstrap -a install`), unless
      `OTEL_PYTHON_DISABLED_INSTRUMENTATIONS` names the library.
    - httpx: `HTTPXClientInstrumentor.instrument_client(<that client>)` in the same function (or, for
      `self.client`, the same class); `transport=`/`mounts=` wrapped in `AsyncOpenTelemetryTransport` /
      `SyncOpenTelemetryTransport`; a custom transport (proplint assumes it propagates); a request event hook
      that injects (or one proplint cannot see into).
    - `headers=` built from a carrier that `opentelemetry.propagate.inject` (or a configured injector) filled.
    - A local transport (`httpx.MockTransport`, `ASGITransport`, `WSGITransport`): nothing reaches the network.
    - A client created inside an OpenTelemetry exporter or span processor (a subclass of the SDK's bases, or
      of a project class that is one): tracing the exporter's own requests would feed back into itself.

    With `http-client-factory` configured, only the last two apply: every other raw construction of a
    client the factory builds is a finding outside the factory's own definition.
"""

_FACTORY_CONFIG = {"http-client-factory": "svc.http:traced_client"}
_FACTORY_FILE = {
    "svc/http.py": (
        "import contextlib\nimport httpx\n\n@contextlib.asynccontextmanager\n"
        "async def traced_client(timeout=10.0, **kwargs):\n"
        "    async with httpx.AsyncClient(timeout=timeout, **kwargs) as client:\n        yield client\n"
    )
}


class UntracedAsyncClient(Rule):
    code = "PRP101"
    name = "untraced-httpx-async-client"
    summary = "`httpx.AsyncClient(...)` is constructed without trace propagation."
    fix = "sometimes safe"
    what_it_does = """
        Finds `httpx.AsyncClient(...)` constructions (through any import alias) whose requests will carry
        no `traceparent` (or, with a traced client factory configured, that bypass the factory).
    """
    why = """
        The downstream service receives no trace header, so it starts a new trace: one request becomes two
        orphaned traces, and the link between caller and callee is lost.
    """
    already_propagated = _PROPAGATED_OTEL
    example = """
        import httpx

        async def fetch(url):
            async with httpx.AsyncClient(timeout=5.0) as client:
                return await client.get(url)
    """
    use_instead = """
        # with http-client-factory = "svc.shared.http_client:traced_client"
        from svc.shared.http_client import traced_client

        async def fetch(url):
            async with traced_client(timeout=5.0) as client:
                return await client.get(url)

        # or, with OpenTelemetry
        import httpx
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        async def fetch(url):
            async with httpx.AsyncClient(timeout=5.0) as client:
                HTTPXClientInstrumentor.instrument_client(client)
                return await client.get(url)
    """
    fix_safety = """
        With a factory that is an async context manager, `async with httpx.AsyncClient(<args>) as c:`
        becomes `async with <factory>(<args>) as c:` and the import is added; a factory that returns a
        client replaces any construction. The fix is safe when the factory is defined in the project and
        its signature takes the arguments (or `**kwargs`); unsafe otherwise, and unsafe when the call
        passes `verify=`, `cert=`, `http2=`, `limits=`, `proxy=` or `trust_env=` while the factory sets
        `transport=` (httpx ignores them once a transport is given).

        In the OpenTelemetry profile, `HTTPXClientInstrumentor.instrument_client(c)` is inserted after
        `c = httpx.AsyncClient(...)` or as the first statement of `async with ... as c:`. It is safe when
        `opentelemetry-instrumentation-httpx` is among the project's dependencies; otherwise it is
        unsafe and the message says to add it. Other uses (a client passed straight to a call) get no fix.
    """
    VALID = (
        Valid("import httpx\nfrom opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n"
              "HTTPXClientInstrumentor().instrument()\nclient = httpx.AsyncClient()\n"),
        Valid("import httpx\nasync def f():\n    client = httpx.AsyncClient()\n",
              files={"app/telemetry.py": "from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor"
                                         " as H\n\ndef setup():\n    H().instrument()\n"}),
        Valid("def f(httpx):\n    return httpx.AsyncClient()\n"),
        Valid("import httpx\nclient: httpx.AsyncClient\ndef f(x):\n    return isinstance(x, httpx.AsyncClient)\n"),
        Valid("import httpx\nclient = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: None))\n"),
        Valid("import httpx\nfrom opentelemetry.instrumentation.httpx import AsyncOpenTelemetryTransport\n"
              "client = httpx.AsyncClient(transport=AsyncOpenTelemetryTransport(httpx.AsyncHTTPTransport()))\n"),
        Valid("import httpx\nfrom opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n"
              "async def f():\n    async with httpx.AsyncClient() as c:\n"
              "        HTTPXClientInstrumentor.instrument_client(c)\n"),
        Valid("import httpx\nfrom opentelemetry.sdk.trace.export import SpanExporter\n"
              "class Exporter(SpanExporter):\n    def __init__(self):\n        self.client = httpx.AsyncClient()\n"),
        Valid("import httpx\nfrom opentelemetry.propagate import inject\n"
              "async def hook(request):\n    inject(request.headers)\n"
              "client = httpx.AsyncClient(event_hooks={'request': [hook]})\n"),
        Valid("import contextlib\nimport httpx\n\n@contextlib.asynccontextmanager\n"
              "async def traced_client(timeout=10.0, **kwargs):\n"
              "    async with httpx.AsyncClient(timeout=timeout, **kwargs) as client:\n        yield client\n",
              config=_FACTORY_CONFIG, path="svc/http.py"),
    )
    INVALID = (
        Invalid("import httpx as hx\nclient = hx.AsyncClient()\n",
                fixed="import httpx as hx\nfrom opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n"
                      "\nclient = hx.AsyncClient()\nHTTPXClientInstrumentor.instrument_client(client)\n",
                unsafe=True),
        Invalid("from httpx import AsyncClient as C\nasync def f():\n    async with C(timeout=2) as c:  # keep\n"
                "        return await c.get('/')\n",
                fixed="from httpx import AsyncClient as C\n"
                      "from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n"
                      "\nasync def f():\n    async with C(timeout=2) as c:  # keep\n"
                      "        HTTPXClientInstrumentor.instrument_client(c)\n        return await c.get('/')\n",
                unsafe=True),
        Invalid("import httpx\nasync def f(url):\n    async with httpx.AsyncClient(timeout=5.0) as client:\n"
                "        return await client.get(url)\n",
                fixed="import httpx\nfrom svc.http import traced_client\n\nasync def f(url):\n"
                      "    async with traced_client(timeout=5.0) as client:\n        return await client.get(url)\n",
                config=_FACTORY_CONFIG, files=_FACTORY_FILE),
        Invalid("import httpx\nfrom opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n"
                "HTTPXClientInstrumentor().instrument()\nclient = httpx.AsyncClient()\n",
                config=_FACTORY_CONFIG, files=_FACTORY_FILE),
        Invalid("import httpx\nclient = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(retries=2))\n"),
    )


class UntracedSyncHttpx(Rule):
    code = "PRP102"
    name = "untraced-httpx-client"
    summary = "`httpx.Client(...)` or an httpx request function (`httpx.get`, ...) is used without trace propagation."
    fix = "sometimes safe"
    what_it_does = """
        Finds `httpx.Client(...)` constructions and the module-level request functions (`httpx.get`,
        `post`, `put`, `patch`, `delete`, `head`, `options`, `request`, `stream`) that send no trace context.
    """
    why = """
        Without a `traceparent` header the callee starts a new trace, so the call cannot be followed from
        the caller's trace.
    """
    already_propagated = _PROPAGATED_OTEL
    example = """
        import httpx

        def health(url):
            return httpx.get(url)
    """
    use_instead = """
        import httpx
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor().instrument()   # once, at startup

        def health(url):
            return httpx.get(url)
    """
    fix_safety = """
        For `c = httpx.Client(...)` and `with httpx.Client(...) as c:` the fix inserts
        `HTTPXClientInstrumentor.instrument_client(c)` (safe when `opentelemetry-instrumentation-httpx` is a
        dependency, unsafe otherwise); with a factory that returns a client, the construction is replaced by
        the factory (safety as for PRP101). The request functions have no instance to instrument: no fix;
        instrument globally at startup or pass `headers=` filled by `opentelemetry.propagate.inject`.
    """
    VALID = (
        Valid("import httpx\nfrom opentelemetry.propagate import inject\n"
              "def f(url):\n    headers = {}\n    inject(headers)\n    return httpx.get(url, headers=headers)\n"),
        Valid("import httpx\nhttpx.get('http://x')\n",
              files={"Dockerfile": 'CMD ["opentelemetry-instrument", "python", "-m", "app"]\n',
                     "requirements.txt": "httpx\nopentelemetry-instrumentation-httpx==0.48b0\n"}),
        Valid("import httpx\nwith httpx.Client(transport=httpx.WSGITransport(app=None)) as c:\n    pass\n"),
    )
    INVALID = (
        Invalid("import httpx\ndef f(url):\n    return httpx.get(url)\n"),
        Invalid("import httpx\nhttpx.get('http://x')\n",
                files={"Dockerfile": 'CMD ["opentelemetry-instrument", "python", "-m", "app"]\n',
                       "requirements.txt": "httpx\n"}),
        Invalid("import httpx\nwith httpx.Client() as c:\n    c.get('/')\n",
                fixed="import httpx\nfrom opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n"
                      "\nwith httpx.Client() as c:\n    HTTPXClientInstrumentor.instrument_client(c)\n    c.get('/')\n",
                files={"requirements.txt": "opentelemetry-instrumentation-httpx\n"}),
    )


class UntracedRequests(Rule):
    code = "PRP103"
    name = "untraced-requests"
    summary = "`requests` (`requests.Session()`, `requests.get`, ...) or `urllib3.PoolManager` is used without propagation."
    fix = "none"
    what_it_does = """
        Finds `requests.Session()`, the `requests` request functions, `urllib3.PoolManager(...)` and
        `urllib3.request` when the project turns on no propagation for that library.
    """
    why = """
        `requests` and `urllib3` send no trace headers by themselves: the callee's spans start a new trace.
    """
    already_propagated = _PROPAGATED_OTEL
    example = """
        import requests

        def notify(url, body):
            return requests.post(url, json=body)
    """
    use_instead = """
        import requests
        from opentelemetry.instrumentation.requests import RequestsInstrumentor

        RequestsInstrumentor().instrument()   # once, at startup

        def notify(url, body):
            return requests.post(url, json=body)
    """
    fix_safety = """
        No automatic fix: requests and urllib3 have no per-instance hook, and a call-site `headers=` merge
        is verbose and easy to get wrong. Instrument the library once at startup (`RequestsInstrumentor`,
        `URLLib3Instrumentor`) or pass `headers=` filled by `opentelemetry.propagate.inject`.
    """
    VALID = (
        Valid("import requests\nfrom opentelemetry.instrumentation.requests import RequestsInstrumentor\n"
              "inst = RequestsInstrumentor()\ninst.instrument()\nrequests.get('http://x')\n"),
        Valid("import requests\nimport opentelemetry.propagate as propagate\n"
              "def f():\n    carrier = {}\n    propagate.inject(carrier)\n"
              "    return requests.post('http://x', headers={**carrier, 'a': 'b'})\n"),
        Valid("import urllib3\nfrom opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor\n"
              "URLLib3Instrumentor().instrument()\npool = urllib3.PoolManager()\n"),
    )
    INVALID = (
        Invalid("import requests\ns = requests.Session()\n"),
        Invalid("from requests import get as fetch\nfetch('http://x')\n"),
        Invalid("import urllib3\npool = urllib3.PoolManager(num_pools=4)\n"),
        Invalid("import requests\nfrom opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n"
                "HTTPXClientInstrumentor().instrument()\nrequests.get('http://x')\n"),
    )


class UntracedAiohttp(Rule):
    code = "PRP104"
    name = "untraced-aiohttp-session"
    summary = "`aiohttp.ClientSession(...)` is constructed without a tracing `trace_configs`."
    fix = "sometimes safe"
    what_it_does = """
        Finds `aiohttp.ClientSession(...)` constructions without `trace_configs=[create_trace_config()]`
        when `AioHttpClientInstrumentor` is not turned on for the project.
    """
    why = """
        aiohttp sends no trace headers by itself, and `AioHttpClientInstrumentor` only reaches sessions created
        after `instrument()` runs. A session without a tracing trace config starts a new trace downstream.
    """
    already_propagated = _PROPAGATED_OTEL + """
    - aiohttp: `trace_configs=` containing `create_trace_config(...)` (or a name bound to it), or a
      non-empty trace config list proplint cannot see into.
    """
    example = """
        import aiohttp

        async def fetch(url):
            async with aiohttp.ClientSession() as session:
                return await session.get(url)
    """
    use_instead = """
        import aiohttp
        from opentelemetry.instrumentation.aiohttp_client import create_trace_config

        async def fetch(url):
            async with aiohttp.ClientSession(trace_configs=[create_trace_config()]) as session:
                return await session.get(url)
    """
    fix_safety = """
        The fix adds `trace_configs=[create_trace_config()]` (or appends to an empty literal list) and the
        import. Safe when `opentelemetry-instrumentation-aiohttp-client` is among the project's
        dependencies, unsafe otherwise (the message says to add it).
    """
    VALID = (
        Valid("import aiohttp\nfrom opentelemetry.instrumentation.aiohttp_client import create_trace_config\n"
              "s = aiohttp.ClientSession(trace_configs=[create_trace_config()])\n"),
        Valid("import aiohttp\ndef f(configs):\n    return aiohttp.ClientSession(trace_configs=configs)\n"),
    )
    INVALID = (
        Invalid("import aiohttp\nasync def f():\n    async with aiohttp.ClientSession(timeout=None) as s:\n"
                "        pass\n",
                fixed="import aiohttp\nfrom opentelemetry.instrumentation.aiohttp_client import create_trace_config\n"
                      "\nasync def f():\n    async with aiohttp.ClientSession(timeout=None, "
                      "trace_configs=[create_trace_config()]) as s:\n        pass\n",
                files={"pyproject.toml": '[project]\nname = "x"\n'
                                         'dependencies = ["opentelemetry-instrumentation-aiohttp-client"]\n'}),
        Invalid("import aiohttp\ns = aiohttp.ClientSession(trace_configs=[])\n",
                fixed="import aiohttp\nfrom opentelemetry.instrumentation.aiohttp_client import create_trace_config\n"
                      "\ns = aiohttp.ClientSession(trace_configs=[create_trace_config()])\n",
                unsafe=True),
    )


RULES = {r.code: r for r in (UntracedAsyncClient, UntracedSyncHttpx, UntracedRequests, UntracedAiohttp)}


def _keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


class HttpClientCheck(Check):
    rules = tuple(RULES.values())

    @classmethod
    def tokens(cls, catalog, config) -> set[str]:
        return {e.name.split(".")[0] for e in catalog.get("http_client")}

    @classmethod
    def imported_modules(cls, catalog, config) -> set[str]:
        # every finding resolves a name imported from one of these modules
        return cls.tokens(catalog, config)

    @classmethod
    def needs(cls, catalog, config, index) -> list[Need]:
        """A client or request function is resolved through an import of its library, or, in a project that
        is that library (`requests/api.py`: `from . import sessions`), a relative import: `from` and the
        client's own last name (`sessions.Session()`) are then words of the file."""
        out = [Need.of([r.code for r in cls.rules], imported=cls.imported_modules(catalog, config))]
        entries = catalog.get("http_client")
        for top in sorted({e.name.split(".")[0] for e in entries}):
            if provides_module(Path(index.root), top):
                own = [e for e in entries if e.name.split(".")[0] == top]
                out.append(Need.of({e.code for e in own}, {"from"}, {e.name.rsplit(".", 1)[-1] for e in own}))
        return out

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        cat = ctx.catalog
        self.clients = {e.name: e for e in cat.get("http_client")}
        self.libraries = {e.name: e for e in cat.get("http_library")}
        self.telemetry_bases = cat.names("telemetry_base")
        self.flow = CarrierFlow(ctx)
        self.factory = ctx.config.factory()
        self.factory_info = ctx.index.factory() if self.factory else None

    # -- entry point -----------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        qn = self.ctx.qualified_name(node.func)
        entry = self.clients.get(qn) if qn else None
        if entry is None or not self.enabled(RULES[entry.code]):
            return
        library = self.libraries.get(entry.library, HttpLibrary(entry.library))
        if self._inside_telemetry_class() or self._local_transport(node, library):
            return
        if self.factory is not None and self._factory_covers(entry):
            if not self._inside_factory():
                self._report_factory(node, entry, library)
            return
        if self._propagated(node, entry, library):
            return
        self._report_otel(node, entry, library)

    # -- "already propagated" ------------------------------------------------------------------------
    def _inside_telemetry_class(self) -> bool:
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
        arg = _keyword(node, "transport")
        if arg is not None:
            values.append(arg.value)
        mounts = _keyword(node, "mounts")
        if mounts is not None:
            if isinstance(mounts.value, cst.Dict):
                values += [el.value for el in mounts.value.elements if isinstance(el, cst.DictElement)]
            else:
                values.append(mounts.value)
        return values

    def _construction(self, expr: cst.BaseExpression) -> str | None:
        """The qualified constructor behind an expression (through a local name), if known."""
        if isinstance(expr, cst.Name):
            t = self.ctx.resolver.receiver_type(expr)
            return t
        if isinstance(expr, cst.Call):
            return self.ctx.resolver.type_of_expression(expr) or "<unknown>"
        return None

    def _local_transport(self, node: cst.Call, library: HttpLibrary) -> bool:
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
        hooks = _keyword(node, "event_hooks")
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

    def _bound_name(self) -> str | None:
        """`c` in `c = Client()` / `self.c = Client()` / `with Client() as c`, for the call being visited."""
        parent = self.ctx.parent()
        if isinstance(parent, cst.Assign) and len(parent.targets) == 1:
            return dotted(parent.targets[0].target)
        if isinstance(parent, cst.AnnAssign):
            return dotted(parent.target)
        if isinstance(parent, cst.WithItem) and parent.asname is not None:
            return dotted(parent.asname.name)
        return None

    def _instance_instrumented(self, library: HttpLibrary) -> bool:
        if not library.instrument_client:
            return False
        name = self._bound_name()
        if name is None:
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
        arg = _keyword(node, "trace_configs")
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

    def _propagated(self, node: cst.Call, entry: HttpClient, library: HttpLibrary) -> bool:
        index = self.ctx.index
        if index.instrumented(entry.library) or index.zero_code(entry.library, library.package):
            return True
        headers = _keyword(node, "headers")
        if headers is not None and self.flow.enriched(headers.value):
            return True
        if entry.library == "httpx":
            if self._transport_propagates(node, library) or self._hooks_propagate(node):
                return True
            if entry.kind == "client" and self._instance_instrumented(library):
                return True
        if entry.library == "aiohttp" and self._trace_configs_propagate(node, library):
            return True
        return False

    # -- factory profile -----------------------------------------------------------------------------
    def _factory_covers(self, entry: HttpClient) -> bool:
        if entry.kind != "client":
            return False
        info = self.factory_info
        built = set(info["constructs"]) if info else {"httpx.AsyncClient"}
        return entry.name in built

    def _inside_factory(self) -> bool:
        assert self.factory is not None
        module, name = self.factory
        if self.ctx.module_name != module:
            return False
        top = name.split(".")[0]
        return any(
            isinstance(a, (cst.FunctionDef, cst.ClassDef)) and a.name.value == top for a in self.ctx.ancestors
        )

    def _factory_accepts(self, node: cst.Call) -> bool:
        info = self.factory_info
        if not info:
            return False
        positional = 0
        for arg in node.args:
            if arg.star == "*":
                if not info["var_pos"]:
                    return False
            elif arg.star == "**":
                if not info["var_kw"]:
                    return False
            elif arg.keyword is None:
                positional += 1
            elif arg.keyword.value not in info["params"] and not info["var_kw"]:
                return False
        return positional <= info["positional"] or info["var_pos"]

    def _report_factory(self, node: cst.Call, entry: HttpClient, library: HttpLibrary) -> None:
        assert self.factory is not None
        module, name = self.factory
        target = f"{module}.{name}"
        message = f"{entry.name} sends no trace context; use {target}"
        info = self.factory_info
        kind = info["kind"] if info else None
        parent = self.ctx.parent()
        in_with = isinstance(parent, cst.WithItem)
        with_node = self.ctx.parent(2)
        is_async_with = isinstance(with_node, cst.With) and with_node.asynchronous is not None
        fixable = (
            kind == "client"
            or (kind == "async_cm" and in_with and is_async_with)
            or (kind == "cm" and in_with and not is_async_with)
            or (kind is None and in_with and is_async_with == entry.is_async)
        )
        if not fixable:
            self.report(RULES[entry.code], node, message + " (no automatic fix for this use)")
            return
        drops = [a.keyword.value for a in node.args if a.keyword and a.keyword.value in library.transport_drops]
        safe = self._factory_accepts(node)
        note = ""
        if drops and (not info or info.get("transport")):
            safe = False
            note = f"; check {', '.join(drops)}=: httpx ignores it once the factory sets transport="
        top = name.split(".")[0]
        func = cst.parse_expression(name)
        fix = Fix(
            SAFE if safe else UNSAFE,
            f"Replace {entry.name} with {target}",
            replacements=[(node, node.with_changes(func=func))],
            imports=[ImportRequest(module, top)],
        )
        self.report(RULES[entry.code], node, message + note, fix)

    # -- OpenTelemetry profile -------------------------------------------------------------------------
    def _report_otel(self, node: cst.Call, entry: HttpClient, library: HttpLibrary) -> None:
        rule = RULES[entry.code]
        has_dep = bool(library.package) and self.ctx.index.has_dependency(library.package)
        dep_note = "" if has_dep or not library.package else f"; add {library.package} to your dependencies"
        fix = None
        if entry.library == "httpx" and entry.kind == "client":
            message = (f"{entry.name} sends no trace context; call HTTPXClientInstrumentor.instrument_client("
                       f"client) or HTTPXClientInstrumentor().instrument() at startup")
            fix = self._instrument_client_fix(node, has_dep)
        elif entry.library == "httpx":
            message = (f"{entry.name} sends no trace context; call HTTPXClientInstrumentor().instrument() at "
                       f"startup or pass headers filled by opentelemetry.propagate.inject")
        elif entry.library == "aiohttp":
            message = (f"{entry.name} has no tracing trace_configs; pass "
                       f"trace_configs=[create_trace_config()] from {OTEL_AIOHTTP}")
            fix = self._trace_config_fix(node, has_dep)
        else:
            inst = next((e.name.rsplit(".", 1)[-1] for e in self.ctx.catalog.get("instrumentor")
                         if e.library == entry.library and e.kind == "class"), "the library's instrumentor")
            message = (f"{entry.name} sends no trace context; call {inst}().instrument() at startup "
                       f"or pass headers filled by opentelemetry.propagate.inject")
        if fix is not None:
            message += dep_note
        self.report(rule, node, message, fix)

    def _instrument_client_fix(self, node: cst.Call, has_dep: bool) -> Fix | None:
        name = self._bound_name()
        if name is None:
            return None
        call = cst.parse_statement(f"HTTPXClientInstrumentor.instrument_client({name})\n",
                                   config=self.ctx.module.config_for_parsing)
        parent = self.ctx.parent()
        replacement: tuple[cst.CSTNode, object] | None = None
        if isinstance(parent, (cst.Assign, cst.AnnAssign)):
            line = self.ctx.parent(2)
            if isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1:
                replacement = (line, cst.FlattenSentinel([line, call]))
        elif isinstance(parent, cst.WithItem):
            with_node = self.ctx.parent(2)
            if isinstance(with_node, cst.With) and isinstance(with_node.body, cst.IndentedBlock):
                body = with_node.body
                replacement = (with_node, with_node.with_changes(body=body.with_changes(body=[call, *body.body])))
        if replacement is None:
            return None
        return Fix(
            SAFE if has_dep else UNSAFE,
            f"Instrument the client with HTTPXClientInstrumentor.instrument_client({name})",
            replacements=[replacement],
            imports=[ImportRequest(OTEL_HTTPX, "HTTPXClientInstrumentor")],
        )

    def _trace_config_fix(self, node: cst.Call, has_dep: bool) -> Fix | None:
        new_item = cst.Element(cst.parse_expression("create_trace_config()"))
        arg = _keyword(node, "trace_configs")
        if arg is None:
            new_arg = cst.Arg(keyword=cst.Name("trace_configs"), value=cst.List([new_item]),
                              equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
            args = list(node.args)
            if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
                args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            elif args and isinstance(args[-1].comma, cst.Comma):
                # trailing comma already there: keep the author's layout
                pass
            if args and isinstance(args[-1].comma, cst.Comma) and args[-1].star == "**":
                return None  # trace_configs may come in **kwargs: leave it to a human
            updated = node.with_changes(args=[*args, new_arg])
        elif isinstance(arg.value, cst.List) and not arg.value.elements:
            updated = node.deep_replace(arg.value, arg.value.with_changes(elements=[new_item]))
        else:
            return None
        return Fix(
            SAFE if has_dep else UNSAFE,
            "Add trace_configs=[create_trace_config()]",
            replacements=[(node, updated)],
            imports=[ImportRequest(OTEL_AIOHTTP, "create_trace_config")],
        )


class _CallFinder(cst.CSTVisitor):
    """Arguments of every call to one qualified name inside a subtree."""

    def __init__(self, ctx, qualname: str) -> None:
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
