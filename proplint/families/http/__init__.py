"""HTTP clients that send no trace context (PRP101-PRP104).

What the family contributes, as data (`FAMILY`); `proplint.registry` collects it. The catalog is
`rules/http.toml` (`[[http_client]]`, `[[http_library]]`, `[[instrumentor]]`, `[[program_launcher]]`).
"""

from __future__ import annotations

from proplint.core.family import Collector, Family
from proplint.families.http.check import HttpClientCheck
from proplint.families.http.model import HttpClient, HttpLibrary, ProgramLauncher
from proplint.families.http.peers import traced_builders, url_constants, wanted_tokens, wanted_types
from proplint.families.http.rules import RULES
from proplint.families.http.sidecars import launched_ports, spawner_tokens

FAMILY = Family(
    name="http",
    prefix="PRP1",
    rules=RULES,
    checks=(HttpClientCheck,),
    roles=(HttpClient, HttpLibrary, ProgramLauncher),
    collectors=(Collector("http.url_constants", url_constants, tokens=(b"http://", b"https://")),
                Collector("http.wanted", wanted_types, tokens=wanted_tokens),
                Collector("http.builders", traced_builders,
                          tokens=(b"trace_configs", b"transport", b"instrument_client", b"event_hooks")),
                Collector("http.launched", launched_ports, tokens=spawner_tokens)),
)
