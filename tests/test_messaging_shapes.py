"""The fixed producer and consumer code, run against the real client libraries where no broker can run.

Each case writes a small module, applies `proplint fix --unsafe-fixes` to it (the engine's fixer, with
`write=True`), imports the fixed module and runs it inside a span of a real OpenTelemetry SDK tracer:

* SQS and SNS through a real boto3 client with botocore's own `Stubber`: the stub checks the exact request
  (`MessageAttributes` with `traceparent`, every batch entry, `MessageAttributeNames=["All"]`), and
  botocore validates it against the service model; the consumer loop then restores the trace.
* kafka-python: the real `KafkaProducer.send` validates the headers (a `(str, bytes)` list, else
  `TypeError`) before it waits for metadata; the headers are encoded and decoded with kafka-python's own
  record-batch format and fed to the fixed consumer loop.
* confluent-kafka: the real `Producer.produce` (librdkafka) accepts the merged headers and queues the
  message (nothing listens: it is purged).
* pika: the merged `BasicProperties` are encoded and decoded with pika's AMQP codec, and the fixed
  `basic_consume` callback restores the trace from them.
"""

from __future__ import annotations

import importlib.util
import sys
import uuid
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from conftest import write_project
from proplint.core.rule import OTEL_DEPENDENCY

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

QUEUE = "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs"


@pytest.fixture
def otel():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider.get_tracer("shapes"), exporter
    provider.shutdown()


def fixed_module(tmp_path: Path, source: str, expected_codes: set[str]):
    """Fix `source` with the unsafe fixes, check it is clean afterwards, and import it."""
    project = write_project(tmp_path / "p", source, files=OTEL_DEPENDENCY, path="app.py")
    codes = {f.code for f in project.check()}
    assert codes == expected_codes, codes
    result = project.fix(unsafe=True, write=True)
    assert result.error is None, result.error
    assert result.written
    assert project.check() == [], [(f.line, f.code) for f in project.check()]
    name = f"fixed_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(name, project.main)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module, project.main.read_text()


def traceparent(span) -> str:
    ctx = span.get_span_context()
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def consumer_span(exporter, producer_span):
    (consumer,) = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.CONSUMER]
    assert consumer.context.trace_id == producer_span.get_span_context().trace_id
    assert consumer.parent.span_id == producer_span.get_span_context().span_id
    return consumer


# --- boto3 SQS / SNS with botocore's Stubber -------------------------------------------------------------

SQS_SOURCE = f'''\
import boto3
from opentelemetry import trace

tracer = trace.get_tracer(__name__)
sqs = boto3.client("sqs", region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s")
sns = boto3.client("sns", region_name="eu-west-1", aws_access_key_id="k", aws_secret_access_key="s")
QUEUE = "{QUEUE}"


def send(body):
    sqs.send_message(QueueUrl=QUEUE, MessageBody=body,
                     MessageAttributes={{"tenant": {{"DataType": "String", "StringValue": "t1"}}}})


def send_batch(bodies):
    sqs.send_message_batch(QueueUrl=QUEUE, Entries=[{{"Id": str(i), "MessageBody": b}} for i, b in enumerate(bodies)])


def announce(body):
    sns.publish(TopicArn="arn:aws:sns:eu-west-1:123456789012:jobs", Message=body)


def receive(handled):
    response = sqs.receive_message(QueueUrl=QUEUE, WaitTimeSeconds=1)
    for message in response.get("Messages", []):
        handled.append((message["Body"], trace.get_current_span().get_span_context()))
'''


def test_sqs_and_sns_fixes_with_botocore_stubber(tmp_path, otel):
    from botocore.stub import Stubber

    tracer, exporter = otel
    module, text = fixed_module(tmp_path, SQS_SOURCE, {"PRP301", "PRP302", "PRP304"})
    assert 'MessageAttributeNames=["All"]' in text
    module.tracer = tracer
    attribute = {"DataType": "String"}
    with Stubber(module.sqs) as sqs_stub, Stubber(module.sns) as sns_stub:
        with tracer.start_as_current_span("api.request") as producer:
            tp = traceparent(producer)
            carried = {"traceparent": {**attribute, "StringValue": tp}}
            sqs_stub.add_response("send_message", {"MessageId": "m1"}, expected_params={
                "QueueUrl": QUEUE, "MessageBody": "hello",
                "MessageAttributes": {"tenant": {**attribute, "StringValue": "t1"}, **carried}})
            sqs_stub.add_response("send_message_batch", {"Successful": [], "Failed": []}, expected_params={
                "QueueUrl": QUEUE, "Entries": [{"Id": "0", "MessageBody": "a", "MessageAttributes": carried},
                                               {"Id": "1", "MessageBody": "b", "MessageAttributes": carried}]})
            sns_stub.add_response("publish", {"MessageId": "n1"}, expected_params={
                "TopicArn": "arn:aws:sns:eu-west-1:123456789012:jobs", "Message": "hello",
                "MessageAttributes": carried})
            module.send("hello")
            module.send_batch(["a", "b"])
            module.announce("hello")
        # the consumer asks for the attributes (PRP304's fix) and restores the trace (PRP302's fix)
        sqs_stub.add_response("receive_message", {"Messages": [{
            "MessageId": "m1", "ReceiptHandle": "r1", "Body": "hello",
            "MessageAttributes": {"traceparent": {"StringValue": tp, "DataType": "String"}}}]},
            expected_params={"QueueUrl": QUEUE, "WaitTimeSeconds": 1, "MessageAttributeNames": ["All"]})
        handled = []
        module.receive(handled)
        sqs_stub.assert_no_pending_responses()
        sns_stub.assert_no_pending_responses()
    consumer = consumer_span(exporter, producer)
    ((body, span_context),) = handled
    assert body == "hello" and span_context.span_id == consumer.context.span_id


# --- kafka-python: KafkaProducer.send validation and the record-batch wire format --------------------------

KAFKA_SOURCE = '''\
from kafka import KafkaConsumer, KafkaProducer
from opentelemetry import trace

tracer = trace.get_tracer(__name__)
producer: KafkaProducer
consumer: KafkaConsumer


def publish(event: bytes, kind: str) -> None:
    producer.send("events", event, headers=[("kind", kind.encode())])


def publish_plain(event: bytes) -> None:
    producer.send("events", event)


def consume(handled: list) -> None:
    for message in consumer:
        handled.append((message.value, trace.get_current_span().get_span_context()))
'''


def test_kafka_headers_are_str_bytes_pairs_on_the_wire(tmp_path, otel):
    from kafka import KafkaProducer
    from kafka.consumer.fetcher import ConsumerRecord
    from kafka.errors import KafkaTimeoutError
    from kafka.record.default_records import DefaultRecordBatch, DefaultRecordBatchBuilder

    tracer, exporter = otel
    module, _ = fixed_module(tmp_path, KAFKA_SOURCE, {"PRP301", "PRP302"})
    module.tracer = tracer
    sent: list[list] = []

    class Recording(KafkaProducer):
        def send(self, topic, value=None, key=None, headers=None, **kw):
            sent.append(headers)
            return super().send(topic, value, key, headers, **kw)

    # no broker: the real send validates the headers, then times out waiting for metadata
    module.producer = Recording(bootstrap_servers="127.0.0.1:1", api_version=(2, 0), max_block_ms=1)
    try:
        with tracer.start_as_current_span("publish") as producer:
            for call in (lambda: module.publish(b"v1", "essay"), lambda: module.publish_plain(b"v2")):
                with pytest.raises(KafkaTimeoutError):
                    call()
    finally:
        module.producer.close(timeout=0)
    tp = traceparent(producer).encode()
    assert sent == [[("kind", b"essay"), ("traceparent", tp)], [("traceparent", tp)]]

    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=0, producer_id=-1,
                                        producer_epoch=-1, base_sequence=-1, batch_size=1 << 20)
    for offset, headers in enumerate(sent):
        builder.append(offset, timestamp=1, key=None, value=b"v", headers=headers)
    batch = DefaultRecordBatch(bytes(builder.build()))
    def record(r):  # the fields of this kafka-python version's ConsumerRecord
        known = {"topic": "events", "partition": 0, "leader_epoch": -1, "offset": r.offset, "timestamp": r.timestamp,
                 "timestamp_type": 0, "key": r.key, "value": r.value, "headers": r.headers, "checksum": None,
                 "serialized_key_size": -1, "serialized_value_size": len(r.value), "serialized_header_size": -1}
        return ConsumerRecord(**{f: known[f] for f in ConsumerRecord._fields})

    records = [record(r) for r in batch]
    assert [r.headers for r in records] == sent
    module.consumer = records
    handled: list = []
    module.consume(handled)
    consumers = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.CONSUMER]
    assert len(consumers) == 2 and len(handled) == 2
    for span in consumers:
        assert span.parent.span_id == producer.get_span_context().span_id
        assert span.name == "events process"


# --- confluent-kafka: librdkafka accepts the merged headers ------------------------------------------------

CONFLUENT_SOURCE = '''\
import confluent_kafka

producer: confluent_kafka.Producer


def publish(value: bytes, headers) -> None:
    producer.produce("events", value, headers=headers)


def publish_fixed(value: bytes) -> None:
    producer.produce("events", value, headers=[("kind", b"essay")])
'''


def test_confluent_headers_accepted_by_librdkafka(tmp_path, otel):
    import confluent_kafka

    tracer, _ = otel
    module, text = fixed_module(tmp_path, CONFLUENT_SOURCE, {"PRP301"})
    assert "headers={**dict(headers or {}), **_carrier}" in text
    calls = []

    class Recording(confluent_kafka.Producer):
        def produce(self, *args, **kwargs):
            calls.append(kwargs["headers"])
            return super().produce(*args, **kwargs)

    module.producer = Recording({"bootstrap.servers": "127.0.0.1:1", "log_level": 0})
    with tracer.start_as_current_span("publish") as producer:
        module.publish(b"a", None)
        module.publish(b"b", {"kind": "essay"})
        module.publish(b"c", [("kind", b"essay")])
        module.publish_fixed(b"d")
    assert len(module.producer) >= 4  # queued by librdkafka (no exception): the header shapes were accepted
    module.producer.purge()
    tp = traceparent(producer)
    assert calls == [{"traceparent": tp}, {"kind": "essay", "traceparent": tp},
                     {"kind": b"essay", "traceparent": tp}, {"kind": b"essay", "traceparent": tp}]


# --- pika: properties through the AMQP codec and back into the consumer callback ---------------------------

PIKA_SOURCE = '''\
import pika
from opentelemetry import trace
from pika.adapters.blocking_connection import BlockingChannel

tracer = trace.get_tracer(__name__)
channel: BlockingChannel
handled = []


def publish(body: bytes) -> None:
    props = pika.BasicProperties(content_type="application/json", headers={"tenant": "t1"})
    channel.basic_publish("", "tasks", body, properties=props)


def publish_bare(body: bytes) -> None:
    channel.basic_publish(exchange="", routing_key="tasks", body=body)


def on_message(ch, method, properties, body):
    handled.append((body, trace.get_current_span().get_span_context()))


def start() -> None:
    channel.basic_consume("tasks", on_message)
'''


def test_pika_properties_through_the_amqp_codec(tmp_path, otel):
    import pika

    tracer, exporter = otel
    module, _ = fixed_module(tmp_path, PIKA_SOURCE, {"PRP301", "PRP302"})
    module.tracer = tracer
    wire = []

    class Channel:
        def basic_publish(self, exchange, routing_key, body, properties=None, mandatory=False):
            decoded = pika.spec.BasicProperties()
            decoded.decode(b"".join(properties.encode()))
            wire.append(decoded)

    module.channel = Channel()
    with tracer.start_as_current_span("publish") as producer:
        module.publish(b"a")
        module.publish_bare(b"b")
    tp = traceparent(producer)
    assert [p.headers for p in wire] == [{"tenant": "t1", "traceparent": tp}, {"traceparent": tp}]
    assert wire[0].content_type == "application/json"
    for props in wire:
        module.on_message(None, None, props, b"body")
    consumers = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.CONSUMER]
    assert len(consumers) == 2
    assert all(s.parent.span_id == producer.get_span_context().span_id for s in consumers)
    assert [ctx.span_id for _, ctx in module.handled] == [s.context.span_id for s in consumers]
