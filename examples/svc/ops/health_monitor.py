"""ops_worker: polls the other services' health endpoints and pages on-call when one is down."""

import asyncio
import logging
import uuid

import aiohttp
import httpx
import requests

from svc.shared.http_client import traced_client
from svc.shared.logging import trace_id_var

log = logging.getLogger(__name__)

SERVICES = {
    "ingest": "http://ingest:8080",
    "evaluator": "http://evaluator:8080",
    "ui_iot": "http://ui_iot:8081",
}


async def check_service(name: str, url: str) -> bool:
    # Correct: the traced client carries X-Trace-ID. Not reported.
    async with traced_client(timeout=5.0) as client:
        resp = await client.get(f"{url}/health")
    return resp.status_code == 200


def check_legacy_gateway(url: str) -> bool:
    """The legacy gateway is polled from a sync helper with requests: no trace header is sent."""
    resp = requests.get(f"{url}/status", timeout=5)  # expect: PRP103 fix=none
    return resp.ok


async def scrape_metrics(url: str) -> str:
    async with aiohttp.ClientSession() as session:  # expect: PRP104 fix=none
        async with session.get(f"{url}/metrics") as resp:
            return await resp.text()


def page_oncall(alerts_url: str, service: str) -> None:
    """Pages through the alerting service of this system, which continues the trace."""
    httpx.post(f"{alerts_url}/page", json={"text": f"{service} is down"}, timeout=5.0)  # expect: PRP102 fix=none


def notify_chat(webhook_url: str, service: str) -> None:
    # A chat vendor's webhook reads no trace header of ours: not reported (it leaves the system).
    httpx.post(webhook_url, json={"text": f"{service} is down"}, timeout=5.0)


async def worker_loop(interval: float = 30.0) -> None:
    while True:
        trace_id_var.set(str(uuid.uuid4()))
        for name, url in SERVICES.items():
            if not await check_service(name, url):
                log.warning("service %s unhealthy", name)
        await asyncio.sleep(interval)
