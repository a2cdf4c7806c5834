"""delivery_worker: delivers alert notifications by webhook, Slack and MQTT."""

import json
import logging

import httpx

from svc.shared.http_client import traced_client
from svc.shared.logging import trace_id_var

log = logging.getLogger(__name__)

WORKER_TIMEOUT_SECONDS = 30


async def deliver_webhook(url: str, request_body: dict, headers: dict) -> bool:
    # Correct: retrofitted to the traced client. Not reported.
    async with traced_client(timeout=float(WORKER_TIMEOUT_SECONDS)) as client:
        resp = await client.post(url, json=request_body, headers=headers)
    return 200 <= resp.status_code < 300


async def deliver_slack(webhook_url: str, text: str) -> bool:
    # A client created and closed by hand: no `async with` to swap, so no automatic fix.
    c = httpx.AsyncClient(timeout=httpx.Timeout(WORKER_TIMEOUT_SECONDS))  # expect: PRP101 fix=none
    try:
        resp = await c.post(webhook_url, json={"text": text})
        return resp.status_code == 200
    except httpx.RequestError as exc:
        log.warning("slack delivery failed: %s", exc)
        return False
    finally:
        await c.aclose()


def build_mqtt_payload(job: dict) -> bytes:
    """The MQTT message carries the trace id in its payload (seed 001, step 8)."""
    payload = job["payload_json"]
    if isinstance(payload, str):
        payload = json.loads(payload)
    trace_id = trace_id_var.get("")
    if trace_id:
        payload["trace_id"] = trace_id
    return json.dumps(payload).encode()


async def deliver_mqtt(client, job: dict) -> None:
    topic = f"alerts/{job['tenant_id']}/{job['device_id']}"
    await client.publish(topic, build_mqtt_payload(job), qos=1)
