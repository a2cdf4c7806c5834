"""submission_api: essay submissions go onto a Redis queue (seed 000) and out as events on Kafka, SQS, MQTT.

Each message leaves this process: unless a trace carrier travels inside it, whoever processes it starts a
new trace. The OpenTelemetry `inject` below is the fix the rules point to.
"""

import json
import logging
from uuid import uuid4

import boto3
import paho.mqtt.client as mqtt
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer
from celery import shared_task
from opentelemetry.propagate import inject

from svc.shared.logging import trace_id_var

QUEUE_KEY = "essay:requests"
SCORING_QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/scoring"

redis = aioredis.from_url("redis://redis:6379")
kafka = AIOKafkaProducer(bootstrap_servers="kafka:9092")
sqs = boto3.client("sqs", region_name="eu-west-1")
devices = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="submission-api")
logger = logging.getLogger(__name__)


@shared_task
def send_receipt(user_email: str, request_id: str) -> None:  # expect: PRP302 fix=none
    logger.info("receipt %s sent to %s", request_id, user_email)  # the log record carries the trace id


async def submit_request(data: dict) -> dict:
    """Seed 000 without the capture: the worker's trace is orphaned."""
    request_id = str(uuid4())
    await redis.lpush(QUEUE_KEY, json.dumps({"request_id": request_id, "data": data}))  # expect: PRP301 fix=unsafe
    return {"request_id": request_id}


async def submit_request_traced(data: dict) -> dict:
    """Correct: the captured context travels in the payload. Not reported."""
    trace_context: dict = {}
    inject(trace_context)
    request_id = str(uuid4())
    await redis.lpush(QUEUE_KEY, json.dumps({"request_id": request_id, "data": data, "trace_context": trace_context}))
    return {"request_id": request_id}


async def publish_essay_submitted(essay_id: str) -> None:
    event = json.dumps({"event_type": "essay_submitted", "essay_id": essay_id}).encode()
    await kafka.send("essay_events", event, headers=[("event_type", b"essay_submitted")])  # expect: PRP301 fix=safe


def queue_for_scoring(essay_id: str) -> None:
    sqs.send_message(QueueUrl=SCORING_QUEUE, MessageBody=essay_id)  # expect: PRP301 fix=safe


def email_receipt(user_email: str, request_id: str) -> None:
    # The project propagates by hand, and delay() cannot carry headers.
    send_receipt.delay(user_email, request_id)  # expect: PRP306 fix=safe


def notify_device(job: dict) -> None:
    """Seed 001: the trace id copied into the MQTT payload by hand (MQTT 3.1.1 client)."""
    payload = job["payload_json"]
    if isinstance(payload, str):
        payload = json.loads(payload)
    trace_id = trace_id_var.get("")
    if trace_id:
        payload["trace_id"] = trace_id
    devices.publish(f"devices/{job['device_id']}", json.dumps(payload), qos=1)  # expect: PRP301 fix=none


def relay(sock, data: bytes) -> None:
    # An ambiguous method name on a receiver proplint cannot infer: never reported.
    sock.send(data)
