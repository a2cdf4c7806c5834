"""The HTTP family's catalog roles, `[[http_client]]` and `[[http_library]]` (filled by `rules/http.toml`),
and the OpenTelemetry instrumentation modules its fixes import."""

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


OTEL_HTTPX = "opentelemetry.instrumentation.httpx"
OTEL_AIOHTTP = "opentelemetry.instrumentation.aiohttp_client"
