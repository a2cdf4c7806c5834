"""PRP103 untraced-requests: `requests` or `urllib3` used without propagation.

Reported by the HTTP check (`check.py`) for catalog entries with `code = "PRP103"` (`rules/http.toml`);
what counts as already propagated is `propagated.py`, the factory profile `factory.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.catalog import Catalog
from proplint.core.context import NeedsContext
from proplint.core.needs import Cond
from proplint.core.rule import Fix, Invalid, Rule, Valid
from proplint.families.http.needs import client_needs
from proplint.families.http.propagated import ALREADY_PROPAGATED

if TYPE_CHECKING:
    from proplint.families.http.check import HttpClientCheck
    from proplint.families.http.model import HttpClient


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
    already_propagated = ALREADY_PROPAGATED
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
        # a public API: nobody on the other side reads this system's trace
        Valid("import requests\n\nSLACK = 'https://hooks.slack.com/services/'\n\n"
              "def notify(path, body):\n    return requests.post(SLACK + path, json=body)\n"),
        # Sentry, the project's only tracing, puts its trace headers on every http.client request
        Valid("import requests\n\ndef notify(url, body):\n    return requests.post(url, json=body)\n",
              files={"app/__init__.py": "", "app/monitoring.py": "import sentry_sdk\n\nsentry_sdk.init(dsn='x')\n"}),
        # New Relic, the project's only tracing, adds its distributed-tracing headers to instrumented calls
        Valid("import requests\n\ndef notify(url, body):\n    return requests.post(url, json=body)\n",
              files={"requirements.txt": "newrelic==10.2.0\nrequests\n"}),
        # test code: no request, no trace
        Valid("import requests\n\ndef test_health():\n    assert requests.get('http://localhost:8000').ok\n",
              path="tests/test_health.py"),
        Valid("import requests\nfrom opentelemetry.instrumentation.requests import RequestsInstrumentor\n"
              "inst = RequestsInstrumentor()\ninst.instrument()\nrequests.get('http://x')\n"),
        Valid("import requests\nimport opentelemetry.propagate as propagate\n"
              "def f():\n    carrier = {}\n    propagate.inject(carrier)\n"
              "    return requests.post('http://x', headers={**carrier, 'a': 'b'})\n"),
        Valid("import urllib3\nfrom opentelemetry.instrumentation.urllib3 import URLLib3Instrumentor\n"
              "URLLib3Instrumentor().instrument()\npool = urllib3.PoolManager()\n"),
        # a setting whose default is a public API (django-environ), read as `settings.NAME`, kept on the instance
        Valid("import requests\nfrom django.conf import settings\n\n\nclass Bugs:\n    def __init__(self):\n"
              "        self.url = settings.BUGZILLA_API_URL + '/rest/bug'\n\n    def file(self, bug):\n"
              "        return requests.post(self.url, json=bug)\n",
              files={"app/__init__.py": "", "app/settings.py": "import environ\n\nenv = environ.Env()\n"
                     "BUGZILLA_API_URL = env('BUGZILLA_API_URL', default='https://bugzilla.example.org')\n"}),
        # URLs from a literal list of public hosts, looped over
        Valid("import requests\n\ndef probes():\n    for url, name in [('https://dictionary.example.org/a', 'a'),\n"
              "                      ('https://dictionary.example.org/b', 'b')]:\n        requests.get(url)\n"),
        # a module constant formatted (`CONST.format(...)`)
        Valid("import requests\n\nPROBE = 'https://probes.example.org/{name}'\n\ndef probe(name):\n"
              "    return requests.get(PROBE.format(name=name))\n"),
        # a public API named by a class attribute
        Valid("import requests\n\nclass Telemetry:\n    URL = 'https://api.vendor.example.com/v1/telemetry'\n\n"
              "    def send(self, data):\n        return requests.post(self.URL, json=data)\n"),
        # another party's discovery endpoint (OpenID Connect): an identity provider reads no trace of ours
        Valid("import requests\n\ndef jwks_uri(issuer):\n"
              "    return requests.get(f'{issuer}/.well-known/openid-configuration').json()['jwks_uri']\n"),
    )
    INVALID = (
        # one of this system's services, in a project whose tracing is OpenTelemetry
        Invalid("import requests\n\ndef notify(body):\n    return requests.post('http://orders:8000/notify', json=body)\n",
                files={"app/__init__.py": "", "app/telemetry.py": "from opentelemetry import trace\n"}),
        Invalid("import requests\ns = requests.Session()\n"),
        # a class attribute naming one of this system's services
        Invalid("import requests\n\nclass Orders:\n    URL = 'http://orders:8000/api'\n\n"
                "    def send(self, data):\n        return requests.post(self.URL, json=data)\n"),
        Invalid("from requests import get as fetch\nfetch('http://x')\n"),
        Invalid("import urllib3\npool = urllib3.PoolManager(num_pools=4)\n"),
        Invalid("import requests\nfrom opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n"
                "HTTPXClientInstrumentor().instrument()\nrequests.get('http://x')\n"),
    )

    @classmethod
    def needs(cls, project: NeedsContext) -> Cond:
        return client_needs(project, cls.code)

    @staticmethod
    def message(entry: HttpClient, catalog: Catalog) -> str:
        inst = next((e.name.rsplit(".", 1)[-1] for e in catalog.get("instrumentor")
                     if e.library == entry.library and e.kind == "class"), "the library's instrumentor")
        return (f"{entry.name} sends no trace context; call {inst}().instrument() at startup "
                f"or pass headers filled by opentelemetry.propagate.inject")

    @staticmethod
    def build_fix(check: HttpClientCheck, node: cst.Call, entry: HttpClient, has_dep: bool) -> Fix | None:
        return None  # see fix_safety
