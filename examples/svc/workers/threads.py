"""rollout_worker: firmware rollouts, owner notifications and report rendering off the request path.

Every request sets `trace_id_var` (svc.shared.logging) and runs inside the caller's span. Work handed
to threads, pools and processes below must keep both, or its logs and spans lose the request.
"""

import asyncio
import contextvars
import logging
import queue
import threading
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from svc.shared.logging import trace_id_var

log = logging.getLogger(__name__)


def push_firmware(device_id: str, version: str) -> None:
    log.info("push %s to %s (trace %s)", version, device_id, trace_id_var.get())


def notify_owner(device_id: str, message: str) -> None:
    log.info("notify %s: %s (trace %s)", device_id, message, trace_id_var.get())


def render_report(rows: list) -> bytes:
    log.info("rendering %d rows for trace %s", len(rows), trace_id_var.get(""))
    return repr(rows).encode()


class FirmwareRollout:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="rollout")
        self._stop = threading.Event()
        # Housekeeping, started once and looping for the life of the service: it should start with an
        # empty context (copying one request's would pin its trace to every sweep). Not reported.
        self._janitor = threading.Thread(target=self._sweep, name="rollout-janitor", daemon=True)
        self._janitor.start()

    def _sweep(self) -> None:
        while not self._stop.wait(30):
            log.debug("sweeping finished rollouts")

    def start_rollout(self, device_ids: list, version: str) -> list:
        # Each push runs on a pool thread, without the request's trace id.
        return [self._pool.submit(push_firmware, d, version) for d in device_ids]  # expect: PRP203 fix=safe

    def start_rollout_traced(self, device_ids: list, version: str) -> list:
        # Correct: every task runs in its own copy of the caller's context. Not reported.
        return [self._pool.submit(contextvars.copy_context().run, push_firmware, d, version) for d in device_ids]

    def notify_async(self, device_id: str, message: str) -> None:
        threading.Thread(target=notify_owner, args=(device_id, message)).start()  # expect: PRP201 fix=safe

    def retry_later(self, device_id: str, version: str) -> None:
        threading.Timer(60.0, push_firmware, args=(device_id, version)).start()  # expect: PRP202 fix=safe

    def broadcast(self, device_ids: list, message: str) -> None:
        ctx = contextvars.copy_context()
        for device_id in device_ids:
            # One Context entered by every thread at once raises RuntimeError: cannot enter context.
            threading.Thread(target=ctx.run, args=(notify_owner, device_id, message)).start()  # expect: PRP205 fix=safe


async def render_now(rows: list) -> bytes:
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(None, render_report, rows)  # expect: PRP204 fix=safe


async def export_report(rows: list, executor) -> bytes:
    # An executor of unknown type: the copy_context fix would break a process pool, so it is unsafe.
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(executor, render_report, rows)  # expect: PRP204 fix=unsafe


def render_many(reports: list) -> list:
    # Other processes: neither contextvars nor the OpenTelemetry context travel; a carrier must.
    with ProcessPoolExecutor() as pool:
        return list(pool.map(render_report, reports))  # expect: PRP206 fix=none


class MqttBridge:
    """Reads device events on a background thread and hands them to the asyncio application."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_event) -> None:
        self._loop = loop
        self._on_event = on_event
        self._inbox: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, name="mqtt-bridge", daemon=True).start()

    def _pump(self) -> None:
        for event in iter(self._inbox.get, None):
            # The callback runs in this thread's context, which is empty: the handler has no trace id.
            self._loop.call_soon_threadsafe(self._on_event, event)  # expect: PRP208 fix=none
