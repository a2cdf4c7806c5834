"""PRP102 untraced-httpx-client: `httpx.Client(...)` or an httpx request function used without propagation.

Reported by the HTTP check (`check.py`) for catalog entries with `code = "PRP102"` (`rules/http.toml`);
what counts as already propagated is `propagated.py`, the factory profile `factory.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.catalog import Catalog
from proplint.core.context import NeedsContext
from proplint.core.needs import Cond
from proplint.core.rule import Fix, Invalid, Rule, Valid
from proplint.families.http.edits import instrument_client_fix
from proplint.families.http.needs import client_needs
from proplint.families.http.propagated import ALREADY_PROPAGATED

if TYPE_CHECKING:
    from proplint.families.http.check import HttpClientCheck
    from proplint.families.http.model import HttpClient


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
    already_propagated = ALREADY_PROPAGATED
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
        the factory (safety as for PRP101), and with a factory that is a context manager, `c =
        httpx.Client(...)` closed by `try: ... finally: c.close()` becomes `with <factory>(...) as c:`
        (unsafe, as PRP101's `async with`). The request functions have no instance to instrument: no fix;
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
        # with a sync factory (a context manager): a client closed in `finally` becomes its `with`
        Invalid("import httpx\n\ndef health(url):\n    client = httpx.Client()\n    try:\n"
                "        return client.get(url).status_code\n    finally:\n        client.close()\n",
                fixed="import httpx\n\nfrom svc.http import traced_client\n\ndef health(url):\n"
                      "    with traced_client() as client:\n        return client.get(url).status_code\n",
                unsafe=True, config={"http-client-factory": "svc.http:traced_client"},
                files={"svc/http.py": "import contextlib\nimport httpx\n\n@contextlib.contextmanager\n"
                                      "def traced_client(**kwargs):\n    with httpx.Client(**kwargs) as client:\n"
                                      "        yield client\n"}),
    )

    @classmethod
    def needs(cls, project: NeedsContext) -> Cond:
        return client_needs(project, cls.code)

    @staticmethod
    def message(entry: HttpClient, catalog: Catalog) -> str:
        if entry.kind == "client":
            return (f"{entry.name} sends no trace context; call HTTPXClientInstrumentor.instrument_client("
                    f"client) or HTTPXClientInstrumentor().instrument() at startup")
        return (f"{entry.name} sends no trace context; call HTTPXClientInstrumentor().instrument() at "
                f"startup or pass headers filled by opentelemetry.propagate.inject")

    @staticmethod
    def build_fix(check: HttpClientCheck, node: cst.Call, entry: HttpClient, has_dep: bool) -> Fix | None:
        """A client instance can be instrumented; the request functions have none."""
        if entry.kind != "client":
            return None
        return instrument_client_fix(check.ctx, check.bound_name(), has_dep)
