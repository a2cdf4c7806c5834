"""essay_worker: processes the queued requests (seed 000) and the events the submission API publishes.

The consumer's half of propagation: extract the carrier and make it the parent of the processing span.
"""

import json

import boto3
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer
from opentelemetry import trace
from opentelemetry.propagate import extract

QUEUE_KEY = "essay:requests"
SCORING_QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/scoring"

tracer = trace.get_tracer(__name__)
redis = aioredis.from_url("redis://redis:6379")
sqs = boto3.client("sqs", region_name="eu-west-1")


async def process_queue() -> None:
    """Seed 000 without the restore: every request is processed in a new trace."""
    while True:
        _, request_json = await redis.brpop(QUEUE_KEY)  # expect: PRP302 fix=unsafe
        request = json.loads(request_json)
        with tracer.start_as_current_span("queue_processing"):
            await process_request(request["data"])


async def process_queue_traced() -> None:
    """Correct: the queued context is the parent of the processing span. Not reported."""
    while True:
        _, request_json = await redis.brpop(QUEUE_KEY)
        request = json.loads(request_json)
        ctx = extract(request.get("trace_context") or {})
        with tracer.start_as_current_span("queue_processing", context=ctx, kind=trace.SpanKind.CONSUMER):
            await process_request(request["data"])


async def consume_essay_events() -> None:
    consumer = AIOKafkaConsumer("essay_events", bootstrap_servers="kafka:9092")
    await consumer.start()
    try:
        async for msg in consumer:  # expect: PRP302 fix=unsafe
            await process_request(json.loads(msg.value))
    finally:
        await consumer.stop()


def poll_scoring_queue() -> None:
    response = sqs.receive_message(QueueUrl=SCORING_QUEUE, WaitTimeSeconds=20)  # expect: PRP302 fix=unsafe, PRP304 fix=safe
    for message in response.get("Messages", []):
        with tracer.start_as_current_span("score_essay"):
            print("scoring", message["Body"])


def handle_envelope(envelope: dict) -> None:
    # Extracted, then forgotten: the span below is a new root.
    ctx = extract(envelope.get("metadata") or {})  # expect: PRP303 fix=none
    with tracer.start_as_current_span(envelope["event_type"]):
        print(envelope["payload"])


async def process_request(data: dict) -> None:
    # the scoring work: its spans (and the calls it makes) belong in the request's trace
    with tracer.start_as_current_span("score_essay"):
        print(data)
