"""PRP104 untraced-aiohttp-session: `aiohttp.ClientSession(...)` without a tracing `trace_configs`.

Reported by the HTTP check (`check.py`) for catalog entries with `code = "PRP104"` (`rules/http.toml`);
what counts as already propagated is `propagated.py`, the factory profile `factory.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.catalog import Catalog
from proplint.core.cst import append_args, keyword
from proplint.core.context import NeedsContext
from proplint.core.needs import Cond
from proplint.core.rule import OTEL_DEPENDENCY, SAFE, UNSAFE, Fix, ImportRequest, Invalid, Rule, Valid
from proplint.families.http.model import OTEL_AIOHTTP
from proplint.families.http.needs import client_needs
from proplint.families.http.propagated import ALREADY_PROPAGATED

if TYPE_CHECKING:
    from proplint.families.http.check import HttpClientCheck
    from proplint.families.http.model import HttpClient


#: the example project declares the API and the instrumentation its fix imports
_DEPENDENCIES = {"requirements.txt": OTEL_DEPENDENCY["requirements.txt"] + "opentelemetry-instrumentation-aiohttp-client\n"}

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
    already_propagated = ALREADY_PROPAGATED + """
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
        dependencies (those of the file's service in a monorepo). Where dependency files exist and do not
        declare it, no fix is offered (it would import a package that is not installed) and the message says
        to add it; with no dependency file naming OpenTelemetry, the fix is unsafe.
    """
    VALID = (
        Valid("import aiohttp\nfrom opentelemetry.instrumentation.aiohttp_client import create_trace_config\n"
              "s = aiohttp.ClientSession(trace_configs=[create_trace_config()])\n"),
        Valid("import aiohttp\ndef f(configs):\n    return aiohttp.ClientSession(trace_configs=configs)\n"),
        # a dependency-injection provider whose session no one in the service asks for: it sends nothing
        Valid("from aiohttp import ClientSession\n\nclass Provider:\n"
              "    async def http_session(self) -> ClientSession:\n        return ClientSession()\n"),
    )
    INVALID = (
        # the same provider, and a client of the service that is given the session
        Invalid("from aiohttp import ClientSession\n\nclass Provider:\n"
                "    async def http_session(self) -> ClientSession:\n        return ClientSession()\n",
                files={**_DEPENDENCIES, "client.py": "from aiohttp import ClientSession\n\n\nclass Orders:\n"
                                    "    def __init__(self, session: ClientSession):\n        self.session = session\n"},
                fixed="from aiohttp import ClientSession\n"
                      "from opentelemetry.instrumentation.aiohttp_client import create_trace_config\n\nclass Provider:\n"
                      "    async def http_session(self) -> ClientSession:\n"
                      "        return ClientSession(trace_configs=[create_trace_config()])\n"),
        Invalid("import aiohttp\nasync def f():\n    async with aiohttp.ClientSession(timeout=None) as s:\n"
                "        pass\n",
                fixed="import aiohttp\nfrom opentelemetry.instrumentation.aiohttp_client import create_trace_config\n"
                      "\nasync def f():\n    async with aiohttp.ClientSession(timeout=None, "
                      "trace_configs=[create_trace_config()]) as s:\n        pass\n",
                files={"pyproject.toml": '[project]\nname = "x"\n'
                                         'dependencies = ["opentelemetry-instrumentation-aiohttp-client"]\n'}),
        # no dependency file says whether the instrumentation is installed: the fix is offered, unsafe
        Invalid("import aiohttp\ns = aiohttp.ClientSession()\n",
                fixed="import aiohttp\nfrom opentelemetry.instrumentation.aiohttp_client import create_trace_config\n"
                      "\ns = aiohttp.ClientSession(trace_configs=[create_trace_config()])\n",
                unsafe=True, files={"app/__init__.py": "", "app/telemetry.py": "from opentelemetry import trace\n"}),
        Invalid("import aiohttp\ns = aiohttp.ClientSession(trace_configs=[])\n",
                fixed="import aiohttp\nfrom opentelemetry.instrumentation.aiohttp_client import create_trace_config\n"
                      "\ns = aiohttp.ClientSession(trace_configs=[create_trace_config()])\n",
                files=_DEPENDENCIES),
    )

    @classmethod
    def needs(cls, project: NeedsContext) -> Cond:
        return client_needs(project, cls.code)

    @staticmethod
    def message(entry: HttpClient, catalog: Catalog) -> str:
        return (f"{entry.name} has no tracing trace_configs; pass "
                f"trace_configs=[create_trace_config()] from {OTEL_AIOHTTP}")

    @staticmethod
    def build_fix(check: HttpClientCheck, node: cst.Call, entry: HttpClient, has_dep: bool) -> Fix | None:
        """`trace_configs=[create_trace_config()]` added, or put into an empty literal list."""
        new_item = cst.Element(cst.parse_expression("create_trace_config()"))
        arg = keyword(node, "trace_configs")
        if arg is None:
            new_arg = cst.Arg(keyword=cst.Name("trace_configs"), value=cst.List([new_item]),
                              equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))
            if any(a.star == "**" for a in node.args):
                return None  # trace_configs may come in **kwargs: leave it to a human
            updated = append_args(node, [new_arg])
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
