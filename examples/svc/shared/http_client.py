"""
Traced HTTP client for cross-service trace propagation.

Usage:
    from svc.shared.http_client import traced_client

    async with traced_client(timeout=10.0) as client:
        resp = await client.get("http://other-service/api/data")
        # X-Trace-ID header is automatically injected
"""

from contextlib import asynccontextmanager
from typing import AsyncIterator

import httpx

from svc.shared.logging import trace_id_var


class TraceTransport(httpx.AsyncHTTPTransport):
    """Injects X-Trace-ID from the current ContextVar into every outbound request."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        trace_id = trace_id_var.get("")
        if trace_id:
            request.headers["X-Trace-ID"] = trace_id
        return await super().handle_async_request(request)


@asynccontextmanager
async def traced_client(
    timeout: float = 10.0,
    **kwargs,
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx.AsyncClient that auto-injects X-Trace-ID (the one place allowed to build one)."""
    transport = TraceTransport()
    async with httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        **kwargs,
    ) as client:
        yield client
