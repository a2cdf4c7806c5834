"""handlers: device API handlers, traced with the decorators of svc/observability.py.

The decorators live in another module: proplint resolves them through the project index (absolute and
relative imports alike) and reports each coroutine function that `traced` wraps in its sync wrapper
(PRP401). The fix belongs to the decorator itself (PRP412 in svc/observability.py), so these findings
carry no fix of their own.
"""

import asyncio

from opentelemetry import trace

from svc.observability import instrumented, traced

from . import observability

tracer = trace.get_tracer("svc.handlers")


@traced("devices.register")  # expect: PRP401 fix=none
async def register_device(device_id: str) -> dict:
    # Today this span is not a child of "devices.register": that span ended before this line ran.
    with tracer.start_as_current_span("devices.persist"):
        await asyncio.sleep(0)
    return {"id": device_id, "status": "registered"}


@observability.traced("devices.status")  # expect: PRP401 fix=none
async def device_status(device_id: str) -> dict:
    await asyncio.sleep(0)
    return {"id": device_id, "status": "online"}


@traced("devices.report")
def device_report(device_id: str) -> str:
    # A plain function: the sync wrapper covers the whole call. Not reported.
    return f"report for {device_id}"


@instrumented
async def list_devices() -> list:
    # The async-aware decorator: the span covers the awaited body. Not reported.
    await asyncio.sleep(0)
    return []
