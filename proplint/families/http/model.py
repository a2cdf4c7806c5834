"""The HTTP family's catalog roles, `[[http_client]]`, `[[http_library]]` and `[[program_launcher]]` (filled by
`rules/http.toml`), and the OpenTelemetry instrumentation modules its fixes import."""

from __future__ import annotations

from dataclasses import dataclass

from proplint.core.catalog import role


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


@role("program_launcher")
@dataclass(frozen=True)
class ProgramLauncher:
    """A function that starts a program as a child process (`sidecars.py`): its command at `argv_index` (a
    list, a tuple, `*name` of a local list, one command line string, or the program and its arguments)."""

    name: str
    argv_index: int = 0


OTEL_HTTPX = "opentelemetry.instrumentation.httpx"
OTEL_AIOHTTP = "opentelemetry.instrumentation.aiohttp_client"
