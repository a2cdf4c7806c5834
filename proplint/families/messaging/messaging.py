"""PRP301-PRP307: messages produced without a trace carrier, consumers that never restore it.

Catalog: `rules/messaging.toml` (`[[message_client]]`, `[[client_method]]`, `[[producer]]`, `[[consumer]]`,
`[[carrier_shape]]`, `[[receive_option]]`, `[[early_import]]` and the messaging `[[instrumentor]]`s). The
visitor is `messaging_check.py`; receivers are inferred by `messaging_types.py`, restoration by
`messaging_flow.py`, the edits are `messaging_fixes.py`, PRP303/PRP305's visitor methods
`messaging_context.py`, the roles and project facts `messaging_catalog.py`. PRP303-PRP307 are declared in
`messaging_rules.py`.

A message crosses a process boundary: the OpenTelemetry context (a ContextVar) does not travel with it.
The producer must put a carrier (`traceparent`, `tracestate`, `baggage`) into the message, and the
consumer must extract it and make it the parent of the processing span; otherwise the enqueue and the
processing are two unrelated traces (seed 000: "two disconnected traces in Jaeger").
"""

from __future__ import annotations

from proplint.families.messaging.messaging_check import MessagingBase
from proplint.families.messaging.messaging_rules import (
    CeleryDelayDropsHeaders,
    ConfluentEarlyImport,
    ExtractResultUnused,
    MqttPropertiesOnV3Client,
    SqsReceiveWithoutAttributeNames,
)
from proplint.core.rule import Invalid, Rule, Valid

_PRODUCED = """
    - A carrier reaches one of the call's arguments (headers, properties, attributes, message attributes,
      or the payload itself) from an injector: `opentelemetry.propagate.inject(carrier)`,
      `TraceContextTextMapPropagator().inject(carrier)`, or one of the project's `injectors` (seed 000's
      `capture_trace_context_for_queue()` whose result is put in the payload, or
      `inject_trace_context(envelope.metadata)` before `send(..., envelope)`). Values are followed inside
      the function: assignments, attribute roots (`envelope.metadata` -> `envelope`), values stored into a
      name (`payload["trace_context"] = carrier`, `props.UserProperty = ...`), dict and list literals,
      model constructors with keyword fields, `json.dumps(...)`, `.json()` and `.model_dump_json()`.
    - The library's OpenTelemetry instrumentor is called anywhere in the project (or runs zero-code), where
      it injects: `AIOKafkaInstrumentor`, `KafkaInstrumentor`, `ConfluentKafkaInstrumentor` (see PRP305),
      `PikaInstrumentor`, `AioPikaInstrumentor`, `Boto3SQSInstrumentor` (SQS), `BotocoreInstrumentor` (SNS),
      `CeleryInstrumentor`; Pub/Sub with `enable_open_telemetry_tracing=True` in the client's options.
      Never for redis-py, paho-mqtt, nats, rq, arq or dramatiq: no instrumentation injects for them
      (redis-py's only makes CLIENT spans for the commands).
"""

_RECEIVERS = """
    Receivers are inferred: constructors and factories (`redis.Redis(...)`, `Redis.from_url(...)`,
    `await nats.connect()`, `boto3.client("sqs")`), objects derived from them (`r.pipeline()`,
    `conn.channel()`, `channel.default_exchange`, `nc.jetstream()`), annotations, `with ... as x`,
    `self.x = ...` and decorated tasks (`@app.task`, `@shared_task`, `@dramatiq.actor`, also imported from
    another module of the project). A distinctive method name (`lpush`, `rpush`, `xadd`, `basic_publish`,
    `send_and_wait`, `enqueue_job`, `send_with_options`, `send_task`) also matches on a receiver proplint
    cannot infer, and the message says so; an ambiguous one (`send`, `publish`, `produce`, `put`,
    `enqueue`) never does: `sock.send(data)` is never a finding.
"""


class ProducerWithoutTraceCarrier(Rule):
    code = "PRP301"
    name = "producer-without-trace-carrier"
    summary = "A message is produced without a trace carrier, so its consumer starts a new trace."
    fix = "sometimes safe"
    what_it_does = """
        Finds calls that send a message without a trace carrier: redis-py `lpush`, `rpush`, `lpushx`,
        `rpushx`, `publish`, `xadd` (sync, asyncio, pipelines, cluster clients); aiokafka `send` and
        `send_and_wait`; kafka-python `send`; confluent-kafka `produce`; pika `basic_publish`; aio-pika
        `Exchange.publish`; boto3 SQS `send_message`, `send_message_batch` and SNS `publish`,
        `publish_batch`; paho-mqtt `publish`; nats `publish`, `request` and JetStream `publish`;
        google-cloud-pubsub `publish`; celery `delay`, `apply_async`, `send_task`; rq `enqueue*`; arq
        `enqueue_job`; dramatiq `send`, `send_with_options`; huey `enqueue`.
    """ + _RECEIVERS
    why = """
        The current span lives in a ContextVar of the producing process; a message carries nothing of it
        unless a carrier (`traceparent`, `tracestate`, `baggage`) is written into it. The consumer then
        starts a new root trace: the enqueue and the processing become two disconnected traces, and
        baggage such as a run id (seed 002) is lost.
    """
    already_propagated = _PRODUCED
    example = """
        import json
        import redis
        from aiokafka import AIOKafkaProducer

        r = redis.Redis.from_url("redis://localhost")
        producer = AIOKafkaProducer(bootstrap_servers="kafka:9092")

        async def submit(request_id, data):
            r.lpush("requests", json.dumps({"request_id": request_id, "data": data}))
            await producer.send("essay_events", b"...")
    """
    use_instead = """
        import json
        import redis
        from aiokafka import AIOKafkaProducer
        from opentelemetry.propagate import inject

        r = redis.Redis.from_url("redis://localhost")
        producer = AIOKafkaProducer(bootstrap_servers="kafka:9092")

        async def submit(request_id, data):
            carrier = {}
            inject(carrier)
            r.lpush("requests", json.dumps({"request_id": request_id, "data": data, "trace_context": carrier}))
            await producer.send("essay_events", b"...", headers=[(k, v.encode()) for k, v in carrier.items()])
    """
    fix_safety = """
        The fix inserts `_carrier = {}` and `inject(_carrier)` (or the first configured injector) in
        statement position before the call and passes the carrier in the library's own shape:

        - Kafka (aiokafka, kafka-python) `headers=`: a list of `(str, bytes)`, merged with existing headers
          (`[*(headers or []), *[(k, v.encode()) for k, v in _carrier.items()]]`);
        - confluent-kafka `headers=`: a dict (an existing list or dict is merged through `dict(...)`);
        - nats, celery `apply_async`/`send_task`: `headers=` dict, merged with `{**(headers or {}), **_carrier}`;
        - pika: `properties=pika.BasicProperties(headers=_carrier)`, or `headers=` merged into the
          `BasicProperties(...)` passed (directly or through a name bound to it);
        - aio-pika: `headers=` merged into the `aio_pika.Message(...)` published;
        - SQS/SNS: `MessageAttributes` entries `{"DataType": "String", "StringValue": v}`, also in every
          literal entry of `send_message_batch`/`publish_batch`;
        - Pub/Sub: `**_carrier` as attributes;
        - paho-mqtt on a client created with `protocol=MQTTv5`: a `Properties(PacketTypes.PUBLISH)` whose
          `UserProperty` pairs are the carrier (appended to the properties passed, if any).

        These are safe: they add a carrier the consumer may ignore. Celery `delay(...)` is rewritten to
        `apply_async(args=(...), kwargs={...}, headers=_carrier)`, which is the same call plus headers
        (safe). A redis `xadd` merges the carrier into the entry's fields: unsafe, a consumer reading every
        field sees new ones.

        Where the API has no carrier argument (redis lists and pub/sub, MQTT 3.1.1) and the payload is a
        dict literal, or `json.dumps` of one (directly or through a name bound to it in the function), the
        carrier is added under the `trace_context` key (`trace-context-key`): unsafe, because it changes
        the wire format and the consumer must read it (PRP302's fix does). rq, arq, dramatiq and huey get
        no fix: their carriers need a change in the job's signature or a middleware.
    """
    VALID = (
        Valid("import redis\nfrom opentelemetry.propagate import inject\n\nr = redis.Redis()\n\n"
              "def submit(data):\n    carrier = {}\n    inject(carrier)\n"
              "    r.lpush('q', json.dumps({'data': data, 'trace_context': carrier}))\n"),
        Valid("from aiokafka import AIOKafkaProducer\nfrom opentelemetry.propagate import inject\n\n"
              "async def publish(producer: AIOKafkaProducer, event):\n    headers = {}\n    inject(headers)\n"
              "    await producer.send('events', event, headers=[(k, v.encode()) for k, v in headers.items()])\n"),
        Valid("from aiokafka import AIOKafkaProducer\n\nproducer = AIOKafkaProducer()\n\n"
              "async def publish(event):\n    await producer.send('events', event)\n",
              files={"telemetry.py": "from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor\n\n"
                                     "AIOKafkaInstrumentor().instrument()\n"}),
        Valid("def relay(sock, q, client, data):\n    sock.send(data)\n    q.put(data)\n"
              "    client.publish('topic', data)\n"),
        Valid("from svc.tracing import capture_trace_context_for_queue\nfrom redis.asyncio import Redis\n\n"
              "redis = Redis()\n\nasync def submit(request):\n    request.trace_context = capture_trace_context_for_queue()\n"
              "    await redis.lpush('requests', request.json())\n",
              config={"injectors": ["svc.tracing.capture_trace_context_for_queue"]}),
    )
    INVALID = (
        Invalid("import json\nimport redis\n\nr = redis.Redis.from_url('redis://localhost')\n\n"
                "def submit(request_id, data):\n    r.lpush('requests', json.dumps({'id': request_id, 'data': data}))\n",
                fixed="import json\nimport redis\nfrom opentelemetry.propagate import inject\n\n"
                      "r = redis.Redis.from_url('redis://localhost')\n\ndef submit(request_id, data):\n"
                      "    _carrier = {}\n    inject(_carrier)\n"
                      "    r.lpush('requests', json.dumps({'id': request_id, 'data': data, \"trace_context\": _carrier}))\n",
                unsafe=True),
        Invalid("from aiokafka import AIOKafkaProducer\n\nproducer = AIOKafkaProducer()\n\n"
                "async def publish(event):\n    await producer.send('events', event, headers=[('kind', b'x')])\n",
                fixed="from aiokafka import AIOKafkaProducer\nfrom opentelemetry.propagate import inject\n\n"
                      "producer = AIOKafkaProducer()\n\nasync def publish(event):\n    _carrier = {}\n    inject(_carrier)\n"
                      "    await producer.send('events', event, headers=[*([('kind', b'x')] or []), "
                      "*[(k, v.encode()) for k, v in _carrier.items()]])\n"),
        Invalid("import boto3\n\nsqs = boto3.client('sqs')\n\ndef send(body):\n"
                "    sqs.send_message(QueueUrl='q', MessageBody=body)\n",
                fixed="import boto3\nfrom opentelemetry.propagate import inject\n\nsqs = boto3.client('sqs')\n\n"
                      "def send(body):\n    _carrier = {}\n    inject(_carrier)\n"
                      "    sqs.send_message(QueueUrl='q', MessageBody=body, MessageAttributes={k: {\"DataType\": "
                      "\"String\", \"StringValue\": v} for k, v in _carrier.items()})\n"),
        Invalid("import pika\n\ndef publish(body):\n    channel = pika.BlockingConnection().channel()\n"
                "    channel.basic_publish('', 'tasks', body)\n",
                fixed="import pika\nfrom opentelemetry.propagate import inject\n\ndef publish(body):\n"
                      "    channel = pika.BlockingConnection().channel()\n    _carrier = {}\n    inject(_carrier)\n"
                      "    channel.basic_publish('', 'tasks', body, properties=pika.BasicProperties(headers=_carrier))\n"),
        Invalid("def publish(channel, body):\n    channel.basic_publish('', 'tasks', body)\n",
                fixed="import pika\nfrom opentelemetry.propagate import inject\n\ndef publish(channel, body):\n"
                      "    _carrier = {}\n    inject(_carrier)\n"
                      "    channel.basic_publish('', 'tasks', body, properties=pika.BasicProperties(headers=_carrier))\n"),
        Invalid("import paho.mqtt.client as mqtt\n\nclient = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, "
                "protocol=mqtt.MQTTv5)\n\ndef deliver(payload):\n    client.publish('alerts', payload, qos=1)\n",
                fixed="import paho.mqtt.client as mqtt\nfrom opentelemetry.propagate import inject\n"
                      "from paho.mqtt.packettypes import PacketTypes\nfrom paho.mqtt.properties import Properties\n\n"
                      "client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)\n\n"
                      "def deliver(payload):\n    _carrier = {}\n    inject(_carrier)\n"
                      "    _properties = Properties(PacketTypes.PUBLISH)\n"
                      "    _properties.UserProperty = list(_carrier.items())\n"
                      "    client.publish('alerts', payload, qos=1, properties=_properties)\n"),
        Invalid("from rq import Queue\nfrom redis import Redis\n\nq = Queue(connection=Redis())\n\n"
                "def schedule(job, arg):\n    q.enqueue(job, arg)\n"),
    )


class ConsumerWithoutExtract(Rule):
    code = "PRP302"
    name = "consumer-processes-without-extract"
    summary = "Messages are processed without restoring the trace context they carry."
    fix = "unsafe"
    what_it_does = """
        Finds per-message processing that never restores the carried context: the rest of the block (or
        loop body) after redis-py `brpop`/`blpop`/`xread`/`xreadgroup`, aiokafka `getone`/`getmany` or
        confluent-kafka `poll`; `async for msg in <AIOKafkaConsumer>`, `for msg in <KafkaConsumer>`, pika
        `channel.consume(...)`, aio-pika `queue.iterator()` and nats `sub.messages` loops; the loop over an
        SQS `receive_message` response; and the callbacks given to pika `basic_consume`, aio-pika
        `queue.consume`, paho `on_message`/`message_callback_add`, nats `subscribe(cb=...)` and Pub/Sub
        `subscribe(callback=...)` (when the callback is defined in the module).
    """ + _RECEIVERS.replace("A distinctive method name (`lpush`, `rpush`, `xadd`, `basic_publish`,\n"
                              "    `send_and_wait`, `enqueue_job`, `send_with_options`, `send_task`)",
                              "A distinctive method name (`brpop`, `blpop`, `xreadgroup`, `getone`,\n"
                              "    `getmany`, `basic_consume`, `message_callback_add`)")
    why = """
        Extracting is the consumer's half of propagation. Without it the processing span (and every span
        below it: database calls, outbound HTTP) starts a new root trace, even though the producer sent the
        carrier. The aiokafka and kafka-python instrumentations do not help: their consumer span starts and
        ends inside `__anext__`/`getone`, before the loop body runs (opentelemetry-python-contrib #3465,
        #1732).
    """
    already_propagated = """
        - The region calls an extractor whose result is applied: `start_as_current_span(...,
          context=extract(carrier))`, `context.attach(extract(carrier))`, or one of the project's
          `extractors` (seed 000's `restore_trace_context_for_queue_processing(...)` used as a context
          manager); or it calls a function of the module (or a method of the class) that does. A region
          that extracts but misuses the result is PRP303's.
        - Instrumentation that keeps a processing span current around user code: `ConfluentKafkaInstrumentor`
          (`poll`), `PikaInstrumentor`, `AioPikaInstrumentor`, `Boto3SQSInstrumentor` (iterating the
          `Messages` list), Pub/Sub subscriber tracing (`enable_open_telemetry_tracing=True`). Never the
          aiokafka or kafka-python instrumentors, and none exists for redis-py, paho-mqtt or nats.
        - A helper that only returns what it received (`item = r.brpop(k); return item`) is not processing.
    """
    example = """
        import json
        import redis
        from opentelemetry import trace

        tracer = trace.get_tracer(__name__)
        r = redis.Redis()

        def worker():
            while True:
                _, raw = r.brpop("requests")
                request = json.loads(raw)
                with tracer.start_as_current_span("process_request"):
                    handle(request)
    """
    use_instead = """
        import json
        import redis
        from opentelemetry import trace
        from opentelemetry.propagate import extract
        from opentelemetry.trace import SpanKind

        tracer = trace.get_tracer(__name__)
        r = redis.Redis()

        def worker():
            while True:
                _, raw = r.brpop("requests")
                request = json.loads(raw)
                ctx = extract(request.get("trace_context") or {})
                with tracer.start_as_current_span("process_request", context=ctx, kind=SpanKind.CONSUMER):
                    handle(request)
    """
    fix_safety = """
        The fix wraps the processing in `with tracer.start_as_current_span(<name>,
        context=extract(<carrier>), kind=SpanKind.CONSUMER):` (the module's `tracer` if it has one, else
        `trace.get_tracer(__name__)`), where the carrier is read the library's way: Kafka headers decoded
        from `(str, bytes)` pairs, confluent `msg.headers()`, pika `properties.headers`, aio-pika and nats
        `message.headers`, SQS `MessageAttributes` string values, paho v5 `UserProperty` pairs, Pub/Sub
        `message.attributes`, and for a redis list the `trace_context` key (`trace-context-key`) of the
        payload decoded by `json.loads` (what PRP301's payload fix writes). The wrapped statements are the
        loop body, the callback's body (after its docstring), or the statements after the receive (after the
        decode, and after guards such as `if msg is None: continue`). It is unsafe: every span of the
        processing moves into the producer's trace, and a missing or malformed carrier simply gives a new
        trace as before. Forms with no single message to read (`getmany`, `xread`, a response not looped
        over) are reported without a fix.
    """
    VALID = (
        Valid("import json\nimport redis\nfrom opentelemetry import trace\nfrom opentelemetry.propagate import extract\n\n"
              "tracer = trace.get_tracer(__name__)\nr = redis.Redis()\n\ndef worker():\n    while True:\n"
              "        _, raw = r.brpop('q')\n        job = json.loads(raw)\n"
              "        with tracer.start_as_current_span('p', context=extract(job.get('trace_context') or {})):\n"
              "            print(job)\n"),
        Valid("from aiokafka import AIOKafkaConsumer\nfrom opentelemetry import context\n"
              "from opentelemetry.propagate import extract\n\nasync def run(consumer: AIOKafkaConsumer):\n"
              "    async for msg in consumer:\n        token = context.attach(extract(dict(msg.headers)))\n"
              "        try:\n            print(msg)\n        finally:\n            context.detach(token)\n"),
        Valid("import redis\n\nr = redis.Redis()\n\ndef fetch():\n    item = r.brpop('q')\n    return item\n"),
        Valid("import pika\n\ndef on_message(ch, method, properties, body):\n    print(body)\n\n"
              "def run():\n    channel = pika.BlockingConnection().channel()\n"
              "    channel.basic_consume('q', on_message)\n",
              files={"telemetry.py": "from opentelemetry.instrumentation.pika import PikaInstrumentor\n\n"
                                     "PikaInstrumentor().instrument()\n"}),
        Valid("from svc.tracing import restore\nimport redis\n\nr = redis.Redis()\n\ndef worker():\n"
              "    while True:\n        _, raw = r.brpop('q')\n        with restore(raw):\n            print(raw)\n",
              config={"extractors": ["svc.tracing.restore"]}),
    )
    INVALID = (
        Invalid("from aiokafka import AIOKafkaConsumer\n\nasync def run():\n    consumer = AIOKafkaConsumer('t')\n"
                "    async for msg in consumer:\n        print(msg.value)\n",
                fixed="from aiokafka import AIOKafkaConsumer\nfrom opentelemetry.propagate import extract\n"
                      "from opentelemetry.trace import SpanKind, get_tracer\n\nasync def run():\n"
                      "    consumer = AIOKafkaConsumer('t')\n    async for msg in consumer:\n"
                      "        with get_tracer(__name__).start_as_current_span(f\"{msg.topic} process\", "
                      "context=extract({k: (v.decode() if isinstance(v, bytes) else v) for k, v in (msg.headers or [])}), "
                      "kind=SpanKind.CONSUMER):\n            print(msg.value)\n",
                unsafe=True),
        Invalid("import json\nimport redis\nfrom opentelemetry import trace\n\ntracer = trace.get_tracer(__name__)\n"
                "r = redis.Redis()\n\ndef worker():\n    while True:\n        _, raw = r.brpop('requests')\n"
                "        request = json.loads(raw)\n        with tracer.start_as_current_span('process_request'):\n"
                "            print(request)\n",
                fixed="import json\nimport redis\nfrom opentelemetry import trace\nfrom opentelemetry.propagate import extract\n\n"
                      "tracer = trace.get_tracer(__name__)\nr = redis.Redis()\n\ndef worker():\n    while True:\n"
                      "        _, raw = r.brpop('requests')\n        request = json.loads(raw)\n"
                      "        with tracer.start_as_current_span(\"redis process\", "
                      "context=extract(request.get(\"trace_context\") or {}), kind=trace.SpanKind.CONSUMER):\n"
                      "            with tracer.start_as_current_span('process_request'):\n                print(request)\n",
                unsafe=True),
        Invalid("import nats\n\nasync def main():\n    nc = await nats.connect()\n\n    async def on_order(msg):\n"
                "        '''Bill the order.'''\n        print(msg.data)\n\n"
                "    await nc.subscribe('orders', cb=on_order)\n",
                fixed="import nats\nfrom opentelemetry.propagate import extract\n"
                      "from opentelemetry.trace import SpanKind, get_tracer\n\nasync def main():\n"
                      "    nc = await nats.connect()\n\n    async def on_order(msg):\n        '''Bill the order.'''\n"
                      "        with get_tracer(__name__).start_as_current_span(f\"{msg.subject} process\", "
                      "context=extract(msg.headers or {}), kind=SpanKind.CONSUMER):\n            print(msg.data)\n\n"
                      "    await nc.subscribe('orders', cb=on_order)\n",
                unsafe=True),
        Invalid("from aiokafka import AIOKafkaConsumer\n\nasync def run(consumer: AIOKafkaConsumer):\n"
                "    batch = await consumer.getmany()\n    print(batch)\n",
                files={"telemetry.py": "from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor\n\n"
                                       "AIOKafkaInstrumentor().instrument()\n"}),
    )


class MessagingCheck(MessagingBase):
    rules = (ProducerWithoutTraceCarrier, ConsumerWithoutExtract, ExtractResultUnused,
             SqsReceiveWithoutAttributeNames, ConfluentEarlyImport, CeleryDelayDropsHeaders,
             MqttPropertiesOnV3Client)
