"""PRP301 producer-without-trace-carrier: a message is produced without a trace carrier.

The rule's whole truth: declaration, examples, the message, the fix (the carrier edits are `edits.py`) and
where it can report (`needs`, on the producer entries of `rules/messaging.toml`). The visitor that finds
producer calls is `check.py`. A message crosses a process boundary: the OpenTelemetry context (a
ContextVar) does not travel with it; the producer must put a carrier (`traceparent`, `tracestate`,
`baggage`) into the message, or the enqueue and the processing are two unrelated traces.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.rule import OTEL_DEPENDENCY, Fix, Invalid, Rule, Valid
from proplint.core.needs import any_of, words
from proplint.families.messaging.needs import sources
from proplint.families.messaging.outbox import outbox_names

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext
    from proplint.core.needs import Cond
    from proplint.families.messaging.edits import Fixes
    from proplint.families.messaging.model import Producer

#: appended to a message when the call matched by a distinctive method name only
LOW_CONFIDENCE = " (receiver not inferred: matched by the method name)"

PRODUCED = """
    - A carrier reaches one of the call's arguments (headers, properties, attributes, message attributes,
      or the payload itself) from an injector: `opentelemetry.propagate.inject(carrier)`,
      `TraceContextTextMapPropagator().inject(carrier)`, or one of the project's `injectors` (a helper such as
      `capture_trace_context()` whose result is put in the payload, or
      `inject_trace_context(envelope.metadata)` before `send(..., envelope)`). Values are followed inside
      the function: assignments, attribute roots (`envelope.metadata` -> `envelope`), values stored into a
      name (`payload["trace_context"] = carrier`, `props.UserProperty = ...`), dict and list literals,
      model constructors with keyword fields, `json.dumps(...)`, `.json()` and `.model_dump_json()`.
    - The library's OpenTelemetry instrumentor is called anywhere in the project (or runs zero-code), where
      it injects: `AIOKafkaInstrumentor`, `KafkaInstrumentor`, `ConfluentKafkaInstrumentor` (see PRP305),
      `PikaInstrumentor`, `AioPikaInstrumentor`, `Boto3SQSInstrumentor` (SQS), `BotocoreInstrumentor` (SNS),
      `CeleryInstrumentor`, taskiq's `TaskiqInstrumentor` or `OpenTelemetryMiddleware` (labels); Pub/Sub with `enable_open_telemetry_tracing=True` in the client's options.
      Never for redis-py, paho-mqtt, nats, rq, arq or dramatiq: no instrumentation injects for them
      (redis-py's only makes CLIENT spans for the commands).
    - The payload carries a tracing SDK's current trace (`sentry_sdk.get_traceparent()`, OpenTelemetry's
      `format_trace_id(...)`), or, in a project that propagates no trace by hand (no injector helper, nothing
      that extracts or continues a trace), the project's own trace-identifying context: a field named after
      one of its ContextVars or after what a getter of one returns (`correlation_id=CorrelationID.get()`),
      followed through the function (`entries.append(entry)`, loops over the batches), that another module
      reads back (`envelope.correlation_id`).
    - Nobody continues a trace from it: one of the project's consumer modules (named for consuming, or
      holding a consumer client) names the topic constant the call sends to (`STORAGE_TOPIC`), and nothing in
      the project extracts or continues a trace from any message.
"""

#: a project's transactional outbox: the repository stores envelopes; a relay publishes them later
_OUTBOX_LIB = {"app/__init__.py": "", "app/outbox.py": (
    "class OutboxManager:\n    async def publish_to_outbox(self, topic, event_data, session=None):\n"
    "        session.add({'topic': topic, 'payload': event_data.model_dump()})\n")}
_OUTBOX_CALL = ("\n\nasync def register(outbox_manager, session, user):\n"
                "    envelope = Envelope(event_type='user.registered', data=user, metadata={})\n")

#: an application that keeps its Kafka producer on `app.state` (FastAPI/Starlette lifespan)
_STATE_APP = {"app/__init__.py": "", "app/main.py": (
    "from contextlib import asynccontextmanager\n\nfrom aiokafka import AIOKafkaProducer\n\n\n"
    "@asynccontextmanager\nasync def lifespan(app):\n    app.state.producer = AIOKafkaProducer(bootstrap_servers='k:9092')\n"
    "    await app.state.producer.start()\n    yield\n")}

#: a dependency_injector container in its own module: the producer every `Provide[Container.producer]` gets
_DI_CONTAINER = {"app/__init__.py": "", "app/containers.py": (
    "from aiokafka import AIOKafkaProducer\nfrom dependency_injector import containers, providers\n\n\n"
    "class Container(containers.DeclarativeContainer):\n    config = providers.Configuration()\n"
    "    producer = providers.Singleton(AIOKafkaProducer, bootstrap_servers=config.kafka.servers)\n")}
_DI_ROUTE = ("import json\n\nfrom dependency_injector.wiring import Provide, inject\n\nfrom app.containers import "
             "Container\n")

RECEIVERS = """
        Receivers are inferred: constructors and factories (`redis.Redis(...)`, `Redis.from_url(...)`,
        `await nats.connect()`, `boto3.client("sqs")`), objects derived from them (`r.pipeline()`,
        `conn.channel()`, `channel.default_exchange`, `nc.jetstream()`), annotations (also under a
        dependency-injection marker: dishka's `FromDishka[T]`), a dependency_injector container's provider
        (`producer=Provide[Container.producer]`, also under `Closing[...]` or `Depends(...)`,
        `Provide["producer"]`, `Container.producer()`, for `producer = providers.Singleton(AIOKafkaProducer,
        ...)` or a `providers.Resource` whose initializer builds the client, the container in any module of
        the project, nested or inherited containers included), `with ... as x`, `self.x = ...`, an
        application's state (`request.app.state.producer`, set to a client anywhere in the project) and
        decorated tasks (`@app.task`, `@shared_task`, `@dramatiq.actor`, also imported from
        another module of the project). A distinctive method name (`lpush`, `rpush`, `xadd`, `basic_publish`,
        `send_and_wait`, `enqueue_job`, `send_with_options`, `send_task`, `kiq`) also matches on a receiver
        proplint cannot infer, and the message says so; an ambiguous one (`send`, `publish`, `produce`, `put`,
        `enqueue`) never does: `sock.send(data)` is never a finding.
"""


#: task-queue twins shared with PRP302 (the same code shows the producer's and the task's side)
HUEY_VALID = ('from huey import RedisHuey\nfrom opentelemetry import trace\n'
              'from opentelemetry.propagate import extract, inject\n\ntracer = trace.get_tracer(__name__)\n'
              'huey = RedisHuey("app")\n\n@huey.task()\ndef add(a, b, trace_ctx=None):\n'
              '    with tracer.start_as_current_span("add", context=extract(trace_ctx or {})):\n'
              '        return store(a + b)\n\ndef submit(a, b):\n'
              '    with tracer.start_as_current_span("submit"):\n        carrier = {}\n'
              '        inject(carrier)\n        add(a, b, trace_ctx=carrier)\n'
              '        add.schedule((a, b), {"trace_ctx": carrier}, delay=10)\n')
TASKIQ_VALID = ('from taskiq import Context, TaskiqDepends\nfrom taskiq_redis import ListQueueBroker\n'
                'from opentelemetry import trace\nfrom opentelemetry.propagate import extract, inject\n\n'
                'tracer = trace.get_tracer(__name__)\nbroker = ListQueueBroker("redis://localhost")\n\n'
                '@broker.task\nasync def count(url, context: Context = TaskiqDepends()):\n'
                '    with tracer.start_as_current_span("count", context=extract(context.message.labels)):\n'
                '        return await fetch(url)\n\nasync def submit(url):\n'
                '    with tracer.start_as_current_span("submit"):\n        carrier = {}\n'
                '        inject(carrier)\n        await count.kicker().with_labels(**carrier).kiq(url)\n')
TASKIQ_MIDDLEWARE = ('from taskiq_redis import ListQueueBroker\n'
                     'from taskiq.middlewares.opentelemetry_middleware import OpenTelemetryMiddleware\n'
                     'from opentelemetry import trace\n\ntracer = trace.get_tracer(__name__)\n'
                     'broker = ListQueueBroker("redis://localhost").with_middlewares(OpenTelemetryMiddleware())\n'
                     '\n@broker.task\nasync def count(url):\n    with tracer.start_as_current_span("count"):\n'
                     '        return await fetch(url)\n\nasync def submit(url):\n'
                     '    with tracer.start_as_current_span("submit"):\n        await count.kiq(url)\n')
HUEY_INVALID = ('from huey import RedisHuey\nfrom opentelemetry import trace\n\n'
                'tracer = trace.get_tracer(__name__)\nhuey = RedisHuey("app")\n\n@huey.task()\ndef add(a, b):\n'
                '    with tracer.start_as_current_span("add"):\n        return store(a + b)\n\n'
                'def submit(a, b):\n    with tracer.start_as_current_span("submit"):\n        add(a, b)\n'
                '        add.schedule((a, b), delay=10)\n')
TASKIQ_INVALID = ('from taskiq_redis import ListQueueBroker\nfrom opentelemetry import trace\n\n'
                  'tracer = trace.get_tracer(__name__)\nbroker = ListQueueBroker("redis://localhost")\n\n'
                  '@broker.task\nasync def count(url):\n    with tracer.start_as_current_span("count"):\n'
                  '        return await fetch(url)\n\nasync def submit(url):\n'
                  '    with tracer.start_as_current_span("submit"):\n        await count.kiq(url)\n'
                  '        await count.kicker().with_labels(priority=1).kiq(url)\n')


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
        `enqueue_job`; dramatiq `send`, `send_with_options`; huey `enqueue`, a call of a `@huey.task()` function
        and its `schedule`; taskiq `kiq` (also through `task.kicker()...`). A carrier given to any call of the
        chain that builds the sender counts (`task.kicker().with_labels(**carrier).kiq(x)`).

        Also an event written to the project's own transactional outbox for a relay to publish later: a call of
        a function or method it defines whose name says it writes to the outbox (`publish_to_outbox`,
        `add_to_outbox`) or the construction of an outbox entry class it defines (`EventOutbox(...)`), when no
        argument carries an injected context and the function around it injects none. Its own module (the
        repository) and wrappers that pass their parameters on are not reported. No fix: where the carrier goes
        (the entry's headers, the envelope's metadata) is the project's choice.
    """ + RECEIVERS
    why = """
        The current span lives in a ContextVar of the producing process; a message carries nothing of it
        unless a carrier (`traceparent`, `tracestate`, `baggage`) is written into it. The consumer then
        starts a new root trace: the enqueue and the processing become two disconnected traces, and
        baggage such as a run id is lost.
    """
    already_propagated = PRODUCED
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
        no fix, nor does taskiq: their carriers need a change in the job's signature or a middleware.
    """
    VALID = (
        # a producer a dependency-injection container hands in (dishka's `FromDishka[...]`), with a carrier
        Valid("import json\n\nfrom aiokafka import AIOKafkaProducer\nfrom dishka import FromDishka\n"
              "from opentelemetry.propagate import inject\n\n\n"
              "async def create(body: dict, producer: FromDishka[AIOKafkaProducer]):\n"
              "    carrier = {}\n    inject(carrier)\n    headers = [(k, v.encode()) for k, v in carrier.items()]\n"
              "    await producer.send('orders', value=json.dumps(body).encode(), headers=headers)\n",
              files=OTEL_DEPENDENCY),
        # a producer a dependency_injector container hands in, with a carrier
        Valid(_DI_ROUTE + "from opentelemetry.propagate import inject as inject_context\n\n\n@inject\n"
              "async def create(body: dict, producer=Provide[Container.producer]):\n"
              "    carrier = {}\n    inject_context(carrier)\n"
              "    headers = [(k, v.encode()) for k, v in carrier.items()]\n"
              "    await producer.send('orders', value=json.dumps(body).encode(), headers=headers)\n",
              files={**OTEL_DEPENDENCY, **_DI_CONTAINER}, path="app/routes.py"),
        # an outbox entry whose envelope carries the context: the relay's publish continues the request's trace
        Valid("from opentelemetry.propagate import inject\n\nfrom app.models import Envelope" + _OUTBOX_CALL +
              "    inject(envelope.metadata)\n"
              "    await outbox_manager.publish_to_outbox('users', event_data=envelope, session=session)\n",
              files={**OTEL_DEPENDENCY, **_OUTBOX_LIB, "app/models.py": "class Envelope:\n    pass\n"},
              path="app/users.py"),
        # a client kept on the application's state, used from a route with a carrier
        Valid("import json\n\nfrom opentelemetry.propagate import inject\n\n\nasync def create(request, body):\n"
              "    carrier = {}\n    inject(carrier)\n    headers = [(k, v.encode()) for k, v in carrier.items()]\n"
              "    await request.app.state.producer.send('orders', value=json.dumps(body).encode(), headers=headers)\n",
              files={**OTEL_DEPENDENCY, **_STATE_APP}, path="app/routes.py"),
        # a generic stream wrapper: its callers choose the stream and build the fields (they are reported)
        Valid("import redis.asyncio as redis\n\n\nclass Client:\n    def __init__(self):\n"
              "        self._r = redis.Redis()\n\n    async def xadd(self, stream, fields, maxlen=None):\n"
              "        return await self._r.xadd(stream, fields, maxlen=maxlen)\n"),
        # a constant: a signal that wakes the waiter already holding the trace, not work with a context
        Valid("import redis\n\nr = redis.Redis()\n\ndef done(key):\n    r.rpush(key, b'1')\n"),
        # a copy of a failed message to the dead-letter queue: not a unit of work that continues a trace
        Valid("import boto3\n\nsqs = boto3.client('sqs')\n\ndef send_to_dlq(queue_url, body):\n"
              "    sqs.send_message(QueueUrl=f'{queue_url}-dlq', MessageBody=body)\n"),
        # a Redis list the project reads as a whole (`lrange`, a digest) and never pops: storage, not a queue
        Valid("import json\nimport redis\n\nr = redis.Redis()\n\ndef remember(user, error):\n"
              "    r.lpush(f'failures:{user}', json.dumps(error))\n\ndef digest(user):\n"
              "    return [json.loads(e) for e in r.lrange(f'failures:{user}', 0, -1)]\n"),
        # matched by the method name only, in a project that uses pika nowhere: the receiver is something else
        Valid("def publish(channel, body):\n    channel.basic_publish('', 'tasks', body)\n"),
        # a generic wrapper: the callers choose the destination and build the payload (they are reported)
        Valid("import redis\n\n\nclass Queue:\n    def __init__(self):\n        self._client = redis.Redis()\n\n"
              "    def lpush(self, key, value):\n        return self._client.lpush(key, value)\n"),
        # another vendor's system: nothing on the other side reads this system's trace
        Valid("import redis\n\nr = redis.Redis()\n\ndef forward(data):\n    r.lpush('events', data)\n",
              path="app/integrations/segment.py"),
        # a destination declared external once in the config (device firmware, another company's broker)
        Valid("import paho.mqtt.client as mqtt\n\nclient = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)\n\n"
              "def command(payload):\n    client.publish('devices/cmd', payload)\n",
              config={"external": {"topics": ["devices/*"]}}),
        # Sentry (the project's only tracing) carries Celery jobs itself
        Valid("from app.worker import app\n\n@app.task\ndef work(x):\n    return x\n\ndef submit(x):\n"
              "    work.apply_async((x,))\n",
              files={"app/__init__.py": "", "app/worker.py": "import celery\nimport sentry_sdk\n\n"
                     "sentry_sdk.init(dsn='x')\napp = celery.Celery('app')\n"}, path="app/submit.py"),
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
        # huey: the carrier passed as a task argument (call and schedule), restored in the task
        Valid(HUEY_VALID,
              files=OTEL_DEPENDENCY),
        # taskiq: the carrier sent as labels through the kicker
        Valid(TASKIQ_VALID,
              files=OTEL_DEPENDENCY),
        # taskiq: the broker runs taskiq's OpenTelemetryMiddleware, which injects into the labels
        Valid(TASKIQ_MIDDLEWARE,
              files=OTEL_DEPENDENCY),
    )
    INVALID = (
        # the twin: the injected producer sends without one
        Invalid("import json\n\nfrom aiokafka import AIOKafkaProducer\nfrom dishka import FromDishka\n\n\n"
                "async def create(body: dict, producer: FromDishka[AIOKafkaProducer]):\n"
                "    await producer.send('orders', value=json.dumps(body).encode())\n",
                files=OTEL_DEPENDENCY),
        # the twins: the container's producer (declared in another module) sends without one, handed in by
        # `Provide[...]` or asked of the container
        Invalid(_DI_ROUTE + "\n\n@inject\nasync def create(body: dict, producer=Provide[Container.producer]):\n"
                "    await producer.send('orders', value=json.dumps(body).encode())\n",
                files={**OTEL_DEPENDENCY, **_DI_CONTAINER}, path="app/routes.py"),
        Invalid(_DI_ROUTE + "\n\nasync def create(body: dict):\n    producer = Container.producer()\n"
                "    await producer.send('orders', value=json.dumps(body).encode())\n",
                files={**OTEL_DEPENDENCY, **_DI_CONTAINER}, path="app/routes.py"),
        # the twin: the outbox entry is stored with no carrier; the relay publishes it in a new trace
        Invalid("from app.models import Envelope" + _OUTBOX_CALL +
                "    await outbox_manager.publish_to_outbox('users', event_data=envelope, session=session)\n",
                files={**OTEL_DEPENDENCY, **_OUTBOX_LIB, "app/models.py": "class Envelope:\n    pass\n"},
                path="app/users.py"),
        # the twin: the state's producer sends without one (`send` alone is too common a name to match on an
        # unknown receiver; the client set up on `app.state` makes it known)
        Invalid("import json\n\n\nasync def create(request, body):\n"
                "    await request.app.state.producer.send('orders', value=json.dumps(body).encode())\n",
                files={**OTEL_DEPENDENCY, **_STATE_APP}, path="app/routes.py"),
        # the same list, taken off one message at a time by a worker: a queue
        Invalid("import json\nimport redis\n\nr = redis.Redis()\n\ndef remember(user, error):\n"
                "    r.lpush('failures', json.dumps({'user': user, 'error': error}))\n\ndef work():\n"
                "    while True:\n        _, raw = r.brpop('failures')\n        handle(json.loads(raw))\n",
                fixed="import json\nimport redis\nfrom opentelemetry.propagate import inject\n\nr = redis.Redis()\n\n"
                      "def remember(user, error):\n    _carrier = {}\n    inject(_carrier)\n"
                      "    r.lpush('failures', json.dumps({'user': user, 'error': error, \"trace_context\": _carrier}))\n\n"
                      "def work():\n"
                      "    while True:\n        _, raw = r.brpop('failures')\n        handle(json.loads(raw))\n",
                unsafe=True, files=OTEL_DEPENDENCY),
        Invalid("import json\nimport redis\n\nr = redis.Redis.from_url('redis://localhost')\n\n"
                "def submit(request_id, data):\n    r.lpush('requests', json.dumps({'id': request_id, 'data': data}))\n",
                fixed="import json\nimport redis\nfrom opentelemetry.propagate import inject\n\n"
                      "r = redis.Redis.from_url('redis://localhost')\n\ndef submit(request_id, data):\n"
                      "    _carrier = {}\n    inject(_carrier)\n"
                      "    r.lpush('requests', json.dumps({'id': request_id, 'data': data, \"trace_context\": _carrier}))\n",
                unsafe=True, files=OTEL_DEPENDENCY),
        # a Redis stream entry: the carrier is merged into its fields (a consumer group reads them back)
        Invalid("import redis\n\nr = redis.Redis()\n\ndef order_created(order_id):\n"
                "    r.xadd('orders', {'order_id': order_id}, maxlen=10000)\n",
                fixed="import redis\nfrom opentelemetry.propagate import inject\n\nr = redis.Redis()\n\n"
                      "def order_created(order_id):\n    _carrier = {}\n    inject(_carrier)\n"
                      "    r.xadd('orders', {**{'order_id': order_id}, **_carrier}, maxlen=10000)\n",
                unsafe=True, files=OTEL_DEPENDENCY),
        Invalid("from aiokafka import AIOKafkaProducer\n\nproducer = AIOKafkaProducer()\n\n"
                "async def publish(event):\n    await producer.send('events', event, headers=[('kind', b'x')])\n",
                fixed='from aiokafka import AIOKafkaProducer\nfrom opentelemetry.propagate import inject\n\n'
                      'producer = AIOKafkaProducer()\n\nasync def publish(event):\n    _carrier = {}\n'
                      "    inject(_carrier)\n    await producer.send(\n        'events',\n        event,\n"
                      "        headers=[*([('kind', b'x')] or []), *[(k, v.encode()) for k, v in _carrier.items()]],\n"
                      '    )\n', files=OTEL_DEPENDENCY),
        Invalid("import boto3\n\nsqs = boto3.client('sqs')\n\ndef send(body):\n"
                "    sqs.send_message(QueueUrl='q', MessageBody=body)\n",
                fixed="import boto3\nfrom opentelemetry.propagate import inject\n\nsqs = boto3.client('sqs')\n\n"
                      'def send(body):\n    _carrier = {}\n    inject(_carrier)\n    sqs.send_message(\n'
                      "        QueueUrl='q',\n        MessageBody=body,\n"
                      '        MessageAttributes={k: {"DataType": "String", "StringValue": v} for k, v in _carrier.items()},\n'
                      '    )\n', files=OTEL_DEPENDENCY),
        Invalid("import pika\n\ndef publish(body):\n    channel = pika.BlockingConnection().channel()\n"
                "    channel.basic_publish('', 'tasks', body)\n",
                fixed="import pika\nfrom opentelemetry.propagate import inject\n\ndef publish(body):\n"
                      "    channel = pika.BlockingConnection().channel()\n    _carrier = {}\n    inject(_carrier)\n"
                      "    channel.basic_publish('', 'tasks', body, properties=pika.BasicProperties(headers=_carrier))\n",
                files=OTEL_DEPENDENCY),
        Invalid("def publish(channel, body):\n    channel.basic_publish('', 'tasks', body)\n",
                fixed="import pika\nfrom opentelemetry.propagate import inject\n\ndef publish(channel, body):\n"
                      "    _carrier = {}\n    inject(_carrier)\n"
                      "    channel.basic_publish('', 'tasks', body, properties=pika.BasicProperties(headers=_carrier))\n",
                files={**OTEL_DEPENDENCY, "app/__init__.py": "",
                       "app/mq.py": "import pika\n\nconnection = pika.BlockingConnection()\n"}),
        Invalid("import paho.mqtt.client as mqtt\n\nclient = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, "
                "protocol=mqtt.MQTTv5)\n\ndef deliver(payload):\n    client.publish('alerts', payload, qos=1)\n",
                fixed="import paho.mqtt.client as mqtt\nfrom opentelemetry.propagate import inject\n"
                      "from paho.mqtt.packettypes import PacketTypes\nfrom paho.mqtt.properties import Properties\n\n"
                      "client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)\n\n"
                      "def deliver(payload):\n    _carrier = {}\n    inject(_carrier)\n"
                      "    _properties = Properties(PacketTypes.PUBLISH)\n"
                      "    _properties.UserProperty = list(_carrier.items())\n"
                      "    client.publish('alerts', payload, qos=1, properties=_properties)\n", files=OTEL_DEPENDENCY),
        Invalid("from rq import Queue\nfrom redis import Redis\n\nq = Queue(connection=Redis())\n\n"
                "def schedule(job, arg):\n    q.enqueue(job, arg)\n"),
        # huey: calling a task enqueues it, and so does schedule(); neither carries a context
        Invalid(HUEY_INVALID,
                count=2, files=OTEL_DEPENDENCY),
        # taskiq: kiq() sends the task with no labels carrying the context (directly and through a kicker)
        Invalid(TASKIQ_INVALID,
                count=2, files=OTEL_DEPENDENCY),
    )

    @classmethod
    def needs(cls, project: "NeedsContext") -> "Cond":
        """A producer method on a receiver of its kind, or a distinctive method on a receiver that cannot be
        inferred, for the producers not instrumented here that report PRP301 (not their `manual_code`)."""
        return any_of(sources(project).produced(""), words(outbox_names(project.index)))

    @staticmethod
    def message(entry: "Producer", method: str, guessed: bool) -> str:
        label = f"{entry.library} {method}()"
        if entry.advice:
            message = f"{label} sends a message without a trace carrier; {entry.advice}"
        else:
            where = entry.keyword or "the message"
            message = (f"{label} sends a message without a trace carrier; pass a carrier filled by "
                       f"opentelemetry.propagate.inject in {where}")
        return message + (LOW_CONFIDENCE if guessed else "")

    @staticmethod
    def build_fix(edits: "Fixes", call: cst.Call, entry: "Producer", ancestors: list[cst.CSTNode],
                 bound: dict[str, cst.BaseExpression], v5: bool | None) -> Fix | None:
        """A carrier built before the call, in the library's carrier argument or in the payload."""
        return edits.producer_fix(call, entry, ancestors, bound, v5)
