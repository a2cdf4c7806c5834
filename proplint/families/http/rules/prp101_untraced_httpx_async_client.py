"""PRP101 untraced-httpx-async-client: `httpx.AsyncClient(...)` constructed without trace propagation.

Reported by the HTTP check (`check.py`) for catalog entries with `code = "PRP101"` (`rules/http.toml`);
what counts as already propagated is `propagated.py`, the factory profile `factory.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.catalog import Catalog
from proplint.core.context import NeedsContext
from proplint.core.needs import Cond
from proplint.core.rule import OTEL_DEPENDENCY, Fix, Invalid, Rule, Valid
from proplint.families.http.edits import instrument_client_fix
from proplint.families.http.factory import FACTORY_EXAMPLE_CONFIG, FACTORY_EXAMPLE_FILE
from proplint.families.http.needs import client_needs
from proplint.families.http.propagated import ALREADY_PROPAGATED

if TYPE_CHECKING:
    from proplint.families.http.check import HttpClientCheck
    from proplint.families.http.model import HttpClient


#: an application that uses OpenTelemetry (its HTTP calls can lose a trace)
OTEL_APP = {"app/__init__.py": "", "app/telemetry.py": "from opentelemetry import trace\n"}

#: the example project declares the API and the instrumentation its fix imports
_DEPENDENCIES = {"requirements.txt": OTEL_DEPENDENCY["requirements.txt"] + "opentelemetry-instrumentation-httpx\n"}

#: a dependency_injector container whose provider builds the client (`Provide[Container.http]` hands it out)
DI_CONTAINER = ("import httpx\nfrom dependency_injector import containers, providers\n\n\n"
                "class Container(containers.DeclarativeContainer):\n    config = providers.Configuration()\n"
                "    http = providers.Singleton(httpx.AsyncClient, timeout=5.0)\n")


class UntracedAsyncClient(Rule):
    code = "PRP101"
    name = "untraced-httpx-async-client"
    summary = "`httpx.AsyncClient(...)` is constructed without trace propagation."
    fix = "sometimes safe"
    what_it_does = """
        Finds `httpx.AsyncClient(...)` constructions (through any import alias) whose requests will carry
        no `traceparent` (or, with a traced client factory configured, that bypass the factory), also where a
        dependency_injector provider makes one (`providers.Singleton(httpx.AsyncClient, timeout=5.0)` in a
        container: reported without a fix).
    """
    why = """
        The downstream service receives no trace header, so it starts a new trace: one request becomes two
        orphaned traces, and the link between caller and callee is lost.
    """
    already_propagated = ALREADY_PROPAGATED
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
        client replaces any construction. A client closed in `finally` (`c = httpx.AsyncClient(<args>)`
        directly followed by `try: <body> finally: await c.aclose()`, nothing else in the `finally`, no
        `except`/`else`, `c` not used after it) becomes `async with <factory>(<args>) as c: <body>`,
        always unsafe: the factory, not the code, then decides how the client is opened and closed. The fix
        is safe when the factory is defined in the project and its signature takes the arguments (or `**kwargs`); unsafe otherwise, and unsafe when the call
        passes `verify=`, `cert=`, `http2=`, `limits=`, `proxy=` or `trust_env=` while the factory sets
        `transport=` (httpx ignores them once a transport is given).

        In the OpenTelemetry profile, `HTTPXClientInstrumentor.instrument_client(c)` is inserted after
        `c = httpx.AsyncClient(...)` or as the first statement of `async with ... as c:`. It is safe when
        `opentelemetry-instrumentation-httpx` is among the project's dependencies (those of the file's
        service in a monorepo). Where dependency files exist and do not declare it, no fix is offered (it
        would import a package that is not installed) and the message says to add it; with no dependency
        file naming OpenTelemetry, the fix is unsafe. Other uses (a client passed straight to a call) get no fix.
    """
    VALID = (
        # judged by where its calls go: only to a public API
        Valid("import httpx\n\nasync def verify(token):\n    async with httpx.AsyncClient() as client:\n"
              "        return await client.post(f'https://recaptchaenterprise.googleapis.com/v1/{token}')\n"),
        # a URL kept in a local variable, from a public constant
        Valid("import httpx\n\nAPI_BASE = 'https://api.anthropic.com'\n\nasync def proxy(body, query):\n"
              "    url = f'{API_BASE}/v1/messages'\n    if query:\n        url = f'{url}?{query}'\n"
              "    async with httpx.AsyncClient(timeout=300.0) as client:\n"
              "        return await client.post(url, content=body)\n"),
        # an identity provider's endpoint (OAuth token refresh)
        Valid("import httpx\n\nasync def refresh(provider, refresh_token):\n"
              "    async with httpx.AsyncClient() as client:\n"
              "        return await client.post(provider.token_url, data={'refresh_token': refresh_token})\n"),
        # a client only handed to another vendor's SDK: the SDK sends its requests to its vendor
        Valid("import httpx\nfrom anthropic import AsyncAnthropic\n\n\nclass Server:\n    def __init__(self):\n"
              "        self.httpx_client = httpx.AsyncClient()\n"
              "        self.llm = AsyncAnthropic(http_client=self.httpx_client)\n", files=OTEL_APP, path="app/server.py"),
        # a URL built on an attribute inherited from a vendor SDK's class
        Valid("import httpx\nfrom composio import BaseToolSet\n\n\nclass ToolSet(BaseToolSet):\n"
              "    async def run(self, action):\n        async with httpx.AsyncClient() as client:\n"
              "            return await client.post(f'{self._base_url}/v3/tools/{action}')\n",
              files=OTEL_APP, path="app/tools.py"),
        # a language-model provider's adapter
        Valid("import httpx\n\nasync def models(base_url):\n    async with httpx.AsyncClient() as client:\n"
              "        return await client.get(f'{base_url}/models')\n", path="app/llm_api/openai.py"),
        Valid("import httpx\nfrom opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n"
              "HTTPXClientInstrumentor().instrument()\nclient = httpx.AsyncClient()\n"),
        Valid("import httpx\nasync def f():\n    client = httpx.AsyncClient()\n",
              files={"app/telemetry.py": "from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor"
                                         " as H\n\ndef setup():\n    H().instrument()\n"}),
        # a container's provider builds the client, in a project that instruments httpx at startup
        Valid(DI_CONTAINER, path="app/containers.py",
              files={**OTEL_APP, "app/telemetry.py": "from opentelemetry.instrumentation.httpx import "
                     "HTTPXClientInstrumentor\n\n\ndef setup():\n    HTTPXClientInstrumentor().instrument()\n"}),
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
              config=FACTORY_EXAMPLE_CONFIG, path="svc/http.py"),
    )
    INVALID = (
        # the twins: a client handed to the project's own wrapper; a base URL the class sets itself
        Invalid("import httpx\nfrom app.orders import OrdersApi\n\n\nclass Server:\n    def __init__(self):\n"
                "        self.httpx_client = httpx.AsyncClient()\n"
                "        self.orders = OrdersApi(http_client=self.httpx_client)\n",
                files={**OTEL_APP, "app/orders.py": "class OrdersApi:\n    pass\n"}, path="app/server.py"),
        Invalid("import httpx\nfrom composio import BaseToolSet\n\n\nclass ToolSet(BaseToolSet):\n"
                "    def __init__(self, url):\n        self._base_url = url\n\n"
                "    async def run(self, action):\n        async with httpx.AsyncClient() as client:\n"
                "            return await client.post(f'{self._base_url}/v3/tools/{action}')\n",
                files=OTEL_APP, path="app/tools.py"),
        # the same shapes towards one of this system's services
        Invalid("import httpx\n\nasync def price(item):\n    async with httpx.AsyncClient() as client:\n"
                "        return await client.post(f'http://pricing:8000/v1/{item}')\n", files=OTEL_APP),
        Invalid("import httpx\n\nPRICING = 'http://pricing:8000'\n\nasync def price(item):\n"
                "    url = f'{PRICING}/v1/{item}'\n    async with httpx.AsyncClient() as client:\n"
                "        return await client.post(url)\n", files=OTEL_APP),
        # the twin: every `Provide[Container.http]` hands out a client the provider built with no propagation
        Invalid(DI_CONTAINER, files=OTEL_APP, path="app/containers.py"),
        Invalid("import httpx as hx\nclient = hx.AsyncClient()\n",
                fixed="import httpx as hx\nfrom opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n"
                      "\nclient = hx.AsyncClient()\nHTTPXClientInstrumentor.instrument_client(client)\n",
                files=_DEPENDENCIES),
        Invalid("from httpx import AsyncClient as C\nasync def f():\n    async with C(timeout=2) as c:  # keep\n"
                "        return await c.get('/')\n",
                fixed="from httpx import AsyncClient as C\n"
                      "from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n"
                      "\nasync def f():\n    async with C(timeout=2) as c:  # keep\n"
                      "        HTTPXClientInstrumentor.instrument_client(c)\n        return await c.get('/')\n",
                files=_DEPENDENCIES),
        Invalid("import httpx\nasync def f(url):\n    async with httpx.AsyncClient(timeout=5.0) as client:\n"
                "        return await client.get(url)\n",
                fixed='import httpx\n\nfrom svc.http import traced_client\n\nasync def f(url):\n'
                      '    async with traced_client(timeout=5.0) as client:\n'
                      '        return await client.get(url)\n',
                config=FACTORY_EXAMPLE_CONFIG, files=FACTORY_EXAMPLE_FILE),
        # a client closed in `finally` becomes the factory's `async with` (comments and layout kept)
        Invalid("import httpx\n\n\nasync def fetch(url):\n    # one client, two calls\n"
                "    client = httpx.AsyncClient(timeout=5.0)\n    try:\n        first = await client.get(url)\n"
                "        # then where it points\n        return await client.get(first.headers['location'])\n"
                "    finally:\n        await client.aclose()\n",
                fixed="import httpx\n\nfrom svc.http import traced_client\n\n\nasync def fetch(url):\n"
                      "    # one client, two calls\n    async with traced_client(timeout=5.0) as client:\n"
                      "        first = await client.get(url)\n        # then where it points\n"
                      "        return await client.get(first.headers['location'])\n",
                unsafe=True, config=FACTORY_EXAMPLE_CONFIG, files=FACTORY_EXAMPLE_FILE),
        # ... not when the `try` also handles errors, or the client outlives it: reported, no fix
        Invalid("import httpx\n\nasync def fetch(url):\n    client = httpx.AsyncClient()\n    try:\n"
                "        return await client.get(url)\n    except httpx.HTTPError:\n        return None\n"
                "    finally:\n        await client.aclose()\n",
                config=FACTORY_EXAMPLE_CONFIG, files=FACTORY_EXAMPLE_FILE),
        Invalid("import httpx\nfrom opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n"
                "HTTPXClientInstrumentor().instrument()\nclient = httpx.AsyncClient()\n",
                config=FACTORY_EXAMPLE_CONFIG, files=FACTORY_EXAMPLE_FILE),
        Invalid("import httpx\nclient = httpx.AsyncClient(transport=httpx.AsyncHTTPTransport(retries=2))\n"),
    )

    @classmethod
    def needs(cls, project: NeedsContext) -> Cond:
        return client_needs(project, cls.code)

    @staticmethod
    def message(entry: HttpClient, catalog: Catalog) -> str:
        return (f"{entry.name} sends no trace context; call HTTPXClientInstrumentor.instrument_client("
                f"client) or HTTPXClientInstrumentor().instrument() at startup")

    @staticmethod
    def build_fix(check: HttpClientCheck, node: cst.Call, entry: HttpClient, has_dep: bool) -> Fix | None:
        return instrument_client_fix(check.ctx, check.bound_name(), has_dep)
