"""PRP302 consumer-processes-without-extract: messages are processed without restoring the context they
carry.

The rule's whole truth: declaration, examples, the messages, the fix (the wrap is `edits.py`) and where it
can report (`needs`, on the consumer entries of `rules/messaging.toml`). The visitor is `check.py`; the
processing region after a receive is `processing.py`, restoration `flow.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.cst import last_part
from proplint.core.needs import all_of, any_of, words
from proplint.families.messaging.facts import listed_handlers
from proplint.core.rule import OTEL_DEPENDENCY, UNSAFE, Fix, Invalid, Rule, Valid
from proplint.families.messaging.needs import sources
from proplint.families.messaging.rules.prp301_producer_without_trace_carrier import (
    HUEY_INVALID, HUEY_VALID, LOW_CONFIDENCE, TASKIQ_INVALID, TASKIQ_MIDDLEWARE, TASKIQ_VALID)

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext
    from proplint.core.needs import Cond
    from proplint.families.messaging.edits import Fixes
    from proplint.families.messaging.model import Consumer

_RESTORE = "(extract the carrier and start the processing span with context=)"

#: arq: the worker settings in one module, the jobs they list in another (`arq app.worker.WorkerSettings`)
ARQ_WORKER = {"app/__init__.py": "", "app/worker.py": (
    "from arq.connections import RedisSettings\n\nfrom app.jobs import send_invoice\n\n\n"
    "class WorkerSettings:\n    functions = [send_invoice]\n    redis_settings = RedisSettings()\n")}
ARQ_JOBS = ('from opentelemetry import trace\n\ntracer = trace.get_tracer(__name__)\n\n\n'
            'async def send_invoice(ctx, order_id):\n    with tracer.start_as_current_span("send_invoice"):\n'
            '        await mail(order_id)\n')
ARQ_JOBS_RESTORED = ('from opentelemetry import trace\nfrom opentelemetry.propagate import extract\n\n'
                     'tracer = trace.get_tracer(__name__)\n\n\n'
                     'async def send_invoice(ctx, order_id, trace_ctx=None):\n'
                     '    with tracer.start_as_current_span("send_invoice", context=extract(trace_ctx or {})):\n'
                     '        await mail(order_id)\n')


class ConsumerWithoutExtract(Rule):
    code = "PRP302"
    name = "consumer-processes-without-extract"
    summary = "Messages are processed without restoring the trace context they carry."
    side = "receiver"
    fix = "unsafe"
    what_it_does = """
        Finds per-message processing that never restores the carried context: the rest of the block (or
        loop body) after redis-py `brpop`/`blpop`/`xread`/`xreadgroup`, aiokafka `getone`/`getmany` or
        confluent-kafka `poll`; the loop over a NATS JetStream pull subscription's `fetch` (`sub = await
        js.pull_subscribe(...)`); `async for msg in <AIOKafkaConsumer>`, `for msg in <KafkaConsumer>`, pika
        `channel.consume(...)`, aio-pika `queue.iterator()` and nats `sub.messages` loops; the loop over an
        SQS `receive_message` response; and the callbacks given to pika `basic_consume`, aio-pika
        `queue.consume`, paho `on_message`/`message_callback_add`, nats `subscribe(cb=...)` and Pub/Sub
        `subscribe(callback=...)` (when the callback is defined in the module). Task handlers: a function made a
        task by celery `@app.task`/`@shared_task`, `@dramatiq.actor`, `@huey.task()` or taskiq `@broker.task`,
        a coroutine listed in arq's `functions = [...]` (`WorkerSettings`, `Worker(functions=)`) of its module
        or of another module of the project (one importing arq, or a `WorkerSettings` class in any module),
        and the function of the module an rq `enqueue`/`enqueue_call`/`enqueue_in`/`enqueue_at` hands to the
        worker: their body is the processing, and they are reported without a fix (where the carrier comes
        back depends on how it was sent: `self.request`, the job's `meta`, a keyword, message options or
        labels).

        Receivers are inferred as for PRP301 (constructors, factories, objects derived from them, annotations,
        `with ... as x`, `self.x = ...`). A distinctive method name (`brpop`, `blpop`, `xreadgroup`, `getone`,
        `getmany`, `basic_consume`, `message_callback_add`) also matches on a receiver proplint cannot infer,
        and the message says so; an ambiguous one never does.
    """
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
          `extractors` (a helper such as `restore_trace_context(carrier)` used as a context
          manager); or it calls a function of the module (or a method of the class) that does. A region
          that extracts but misuses the result is PRP303's.
        - Instrumentation that keeps a processing span current around user code: `ConfluentKafkaInstrumentor`
          (`poll`), `PikaInstrumentor`, `AioPikaInstrumentor`, `Boto3SQSInstrumentor` (iterating the
          `Messages` list), Pub/Sub subscriber tracing (`enable_open_telemetry_tracing=True`). Never the
          aiokafka or kafka-python instrumentors, and none exists for redis-py, paho-mqtt or nats.
          `CeleryInstrumentor` and taskiq's `TaskiqInstrumentor` / `OpenTelemetryMiddleware` restore around
          their tasks.
        - A task module that restores contexts itself somewhere (a celery `task_prerun` handler, a dramatiq or
          taskiq middleware that extracts): the hook runs around every task.
        - A helper that only returns what it received (`item = r.brpop(k); return item`) is not processing.
        - Processing that reads no context (`readers.py`): every call in it is a builtin, a call of a library
          not instrumented in the consumer's deploy unit, a method of the message, of a parameter annotated
          with a library class (`websocket.send_text`), of a value such a call returned, or of an object
          mapper's model the project does not override. Restoring the context there would continue no
          trace. A call of the project's own code, or of an unannotated parameter, may read it.
        - A deploy unit whose only tracing is a server's instrumentation or interceptor (one span per
          request, `core/units.py`): nothing its consumers run is under such a span.
        - A part of a deployed project (a service of a monorepo, `services/<name>/`) that traces nothing
          itself: no file of it imports a tracing SDK, starts a span or reads the current context
          (`tracer.start_as_current_span`, `inject`), or calls a tracing helper (a word of the name about
          traces or spans: `trace_operation`, `inject_trace_context`, `@traced`) other than one that only sets
          tracing up or traces requests (`init_tracing`, `setup_tracing_middleware`). No span there would
          be parented by a restored context, and no carrier sends it on.
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
        trace as before. Forms with no single message to read (`getmany`, a response not looped over, a
        redis stream's `xread`/`xreadgroup`, whose entries come nested by stream) are reported without a fix.
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
        # nothing in the processing reads a context: it prints, and relays to a browser's WebSocket
        Valid("from aiokafka import AIOKafkaConsumer\nfrom fastapi import WebSocket\n\n"
              "async def relay(websocket: WebSocket):\n    consumer = AIOKafkaConsumer('status')\n"
              "    async for msg in consumer:\n        print(msg)\n        await websocket.send_text(str(msg.value))\n"),
        # it writes to a store through an uninstrumented object mapper: no span would join the trace
        Valid("from aiokafka import AIOKafkaConsumer\nfrom app.models import Review\n\nasync def run():\n"
              "    async for msg in AIOKafkaConsumer('reviews'):\n        review = Review(**msg.value)\n"
              "        await review.insert()\n",
              files={"app/__init__.py": "", "app/models.py": "from beanie import Document\n\n\nclass Review(Document):\n"
                                                            "    grade: int\n"}),
        # a JetStream pull consumer that continues the publisher's trace from the stored headers
        Valid("import nats\nfrom opentelemetry import trace\nfrom opentelemetry.propagate import extract\n\n"
              "tracer = trace.get_tracer(__name__)\n\nasync def run(js):\n    nc = await nats.connect()\n"
              "    sub = await nc.jetstream().pull_subscribe('orders.created', 'billing')\n"
              "    for msg in await sub.fetch(10):\n"
              "        with tracer.start_as_current_span('bill', context=extract(msg.headers or {})):\n"
              "            await bill(msg.data)\n        await msg.ack()\n", files=OTEL_DEPENDENCY),
        # a Redis stream consumer group whose entries carry the carrier in their fields
        Valid("import redis\nfrom opentelemetry import context\nfrom opentelemetry.propagate import extract\n\n"
              "r = redis.Redis(decode_responses=True)\n\ndef work():\n    while True:\n"
              "        resp = r.xreadgroup('billing', 'c1', {'orders': '>'}, count=10, block=1000)\n"
              "        for _, entries in resp:\n            for entry_id, fields in entries:\n"
              "                token = context.attach(extract(fields))\n                try:\n"
              "                    bill(fields)\n                finally:\n                    context.detach(token)\n"
              "                r.xack('orders', 'billing', entry_id)\n", files=OTEL_DEPENDENCY),
        # celery: the task restores the headers its sender injected (bind=True: self.request)
        Valid('from celery import Celery\nfrom opentelemetry import trace\n'
              'from opentelemetry.propagate import extract, inject\n\ntracer = trace.get_tracer(__name__)\n'
              'app = Celery("app")\n\n@app.task(bind=True)\ndef count(self, url):\n'
              '    with tracer.start_as_current_span("count", context=extract(self.request.headers or {})):\n'
              '        return fetch(url)\n\ndef submit(url):\n'
              '    with tracer.start_as_current_span("submit"):\n        carrier = {}\n'
              '        inject(carrier)\n        app.send_task("app.count", args=(url,), headers=carrier)\n'
              '        count.apply_async((url,), headers={"x": "1", **carrier})\n',
              files=OTEL_DEPENDENCY),
        # dramatiq: the actor restores the carrier sent in the message options
        Valid('import dramatiq\nfrom dramatiq.middleware import CurrentMessage\n'
              'from opentelemetry import trace\nfrom opentelemetry.propagate import extract, inject\n\n'
              'tracer = trace.get_tracer(__name__)\n\n@dramatiq.actor\ndef count(url):\n'
              '    message = CurrentMessage.get_current_message()\n'
              '    with tracer.start_as_current_span("count", context=extract(message.options.get("trace_ctx") or {})):\n'
              '        return fetch(url)\n\ndef submit(url):\n'
              '    with tracer.start_as_current_span("submit"):\n        carrier = {}\n'
              '        inject(carrier)\n        count.send_with_options(args=(url,), trace_ctx=carrier)\n',
              files=OTEL_DEPENDENCY),
        # huey: the task restores the carrier passed as an argument
        Valid(HUEY_VALID,
              files=OTEL_DEPENDENCY),
        # taskiq: the task restores the labels of its message
        Valid(TASKIQ_VALID,
              files=OTEL_DEPENDENCY),
        # taskiq: taskiq's OpenTelemetryMiddleware restores the labels around every task
        Valid(TASKIQ_MIDDLEWARE,
              files=OTEL_DEPENDENCY),
        # arq: a listed job restores the carrier passed as a job keyword
        Valid('from arq import create_pool\nfrom arq.connections import RedisSettings\n'
              'from opentelemetry import trace\nfrom opentelemetry.propagate import extract, inject\n\n'
              'tracer = trace.get_tracer(__name__)\n\nasync def submit(url):\n'
              '    with tracer.start_as_current_span("submit"):\n        carrier = {}\n'
              '        inject(carrier)\n        redis = await create_pool(RedisSettings())\n'
              '        await redis.enqueue_job("download", url, trace_ctx=carrier)\n\n'
              'async def download(ctx, url, trace_ctx=None):\n'
              '    with tracer.start_as_current_span("download", context=extract(trace_ctx or {})):\n'
              '        await fetch(url)\n\nclass WorkerSettings:\n    functions = [download]\n',
              files=OTEL_DEPENDENCY),
        # arq: the job module restores the carrier; the worker settings that list it live in another module
        Valid(ARQ_JOBS_RESTORED, files={**OTEL_DEPENDENCY, **ARQ_WORKER}, path="app/jobs.py"),
        # rq: the enqueued job restores the carrier of its meta
        Valid('from redis import Redis\nfrom rq import Queue, get_current_job\n'
              'from opentelemetry import trace\nfrom opentelemetry.propagate import extract, inject\n\n'
              'tracer = trace.get_tracer(__name__)\nq = Queue(connection=Redis())\n\ndef count_words(url):\n'
              '    carrier = get_current_job().meta.get("trace_context") or {}\n'
              '    with tracer.start_as_current_span("count", context=extract(carrier)):\n'
              '        return fetch(url)\n\ndef submit(url):\n'
              '    with tracer.start_as_current_span("submit"):\n        carrier = {}\n'
              '        inject(carrier)\n'
              '        q.enqueue(count_words, url, meta={"trace_context": carrier})\n',
              files=OTEL_DEPENDENCY),
    )
    INVALID = (
        # a JetStream pull consumer: `fetch` returns a batch of stored messages, looped over
        Invalid("import nats\nfrom opentelemetry import trace\n\ntracer = trace.get_tracer(__name__)\n\n"
                "async def run():\n    nc = await nats.connect()\n    js = nc.jetstream()\n"
                "    sub = await js.pull_subscribe('orders.created', 'billing')\n    msgs = await sub.fetch(10)\n"
                "    for msg in msgs:\n        await bill(msg.data)\n        await msg.ack()\n",
                fixed="import nats\nfrom opentelemetry import trace\nfrom opentelemetry.propagate import extract\n\n"
                      "tracer = trace.get_tracer(__name__)\n\n"
                      "async def run():\n    nc = await nats.connect()\n    js = nc.jetstream()\n"
                      "    sub = await js.pull_subscribe('orders.created', 'billing')\n    msgs = await sub.fetch(10)\n"
                      "    for msg in msgs:\n        with tracer.start_as_current_span(f\"{msg.subject} process\", "
                      "context=extract(msg.headers or {}), kind=trace.SpanKind.CONSUMER):\n"
                      "            await bill(msg.data)\n            await msg.ack()\n",
                unsafe=True, files=OTEL_DEPENDENCY),
        # a Redis stream consumer group: the entries' fields are processed with no context restored
        Invalid("import redis\n\nr = redis.Redis(decode_responses=True)\n\ndef work():\n    while True:\n"
                "        resp = r.xreadgroup('billing', 'c1', {'orders': '>'}, count=10, block=1000)\n"
                "        for _, entries in resp:\n            for entry_id, fields in entries:\n"
                "                bill(fields)\n                r.xack('orders', 'billing', entry_id)\n",
                files=OTEL_DEPENDENCY),
        Invalid("from aiokafka import AIOKafkaConsumer\n\nasync def run():\n    consumer = AIOKafkaConsumer('t')\n"
                "    async for msg in consumer:\n        await handle(msg.value)\n",
                fixed="from aiokafka import AIOKafkaConsumer\nfrom opentelemetry.propagate import extract\n"
                      "from opentelemetry.trace import SpanKind, get_tracer\n\nasync def run():\n"
                      "    consumer = AIOKafkaConsumer('t')\n    async for msg in consumer:\n"
                      "        with get_tracer(__name__).start_as_current_span(f\"{msg.topic} process\", "
                      "context=extract({k: (v.decode() if isinstance(v, bytes) else v) for k, v in (msg.headers or [])}), "
                      "kind=SpanKind.CONSUMER):\n            await handle(msg.value)\n",
                unsafe=True, files=OTEL_DEPENDENCY),
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
                "        '''Bill the order.'''\n        await bill(msg.data)\n\n"
                "    await nc.subscribe('orders', cb=on_order)\n",
                fixed="import nats\nfrom opentelemetry.propagate import extract\n"
                      "from opentelemetry.trace import SpanKind, get_tracer\n\nasync def main():\n"
                      "    nc = await nats.connect()\n\n    async def on_order(msg):\n        '''Bill the order.'''\n"
                      "        with get_tracer(__name__).start_as_current_span(f\"{msg.subject} process\", "
                      "context=extract(msg.headers or {}), kind=SpanKind.CONSUMER):\n            await bill(msg.data)\n\n"
                      "    await nc.subscribe('orders', cb=on_order)\n",
                unsafe=True, files=OTEL_DEPENDENCY),
        Invalid("from aiokafka import AIOKafkaConsumer\n\nasync def run(consumer: AIOKafkaConsumer):\n"
                "    batch = await consumer.getmany()\n    await handle_batch(batch)\n",
                files={"telemetry.py": "from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor\n\n"
                                       "AIOKafkaInstrumentor().instrument()\n"}),
        # the same store, instrumented in this service: its spans would join the trace
        Invalid("from aiokafka import AIOKafkaConsumer\nfrom app.models import Review\n\nasync def run():\n"
                "    async for msg in AIOKafkaConsumer('reviews'):\n        review = Review(**msg.value)\n"
                "        await review.insert()\n",
                files={"app/__init__.py": "", "app/models.py": "from beanie import Document\n\n\nclass Review(Document):\n"
                                                              "    grade: int\n",
                       "app/telemetry.py": "from opentelemetry.instrumentation.pymongo import PymongoInstrumentor\n\n"
                                           "PymongoInstrumentor().instrument()\n"}),
        # celery: the task body runs in the worker with none of the sender's context
        Invalid('from celery import Celery\nfrom opentelemetry import trace\n\n'
                'tracer = trace.get_tracer(__name__)\napp = Celery("app")\n\n@app.task\ndef count(url):\n'
                '    with tracer.start_as_current_span("count"):\n        return fetch(url)\n\n'
                'def submit(url):\n    with tracer.start_as_current_span("submit"):\n'
                '        app.send_task("app.count", args=(url,))\n'
                '        count.apply_async((url,), headers={"x": "1"})\n',
                files=OTEL_DEPENDENCY),
        # dramatiq: an actor
        Invalid('import dramatiq\nfrom opentelemetry import trace\n\ntracer = trace.get_tracer(__name__)\n\n'
                '@dramatiq.actor\ndef count(url):\n    with tracer.start_as_current_span("count"):\n'
                '        return fetch(url)\n\ndef submit(url):\n'
                '    with tracer.start_as_current_span("submit"):\n        count.send(url)\n',
                files=OTEL_DEPENDENCY),
        # huey: a task
        Invalid(HUEY_INVALID,
                files=OTEL_DEPENDENCY),
        # taskiq: a task
        Invalid(TASKIQ_INVALID,
                files=OTEL_DEPENDENCY),
        # arq: a coroutine listed in WorkerSettings.functions
        Invalid('from arq import create_pool\nfrom arq.connections import RedisSettings\n'
                'from opentelemetry import trace\n\ntracer = trace.get_tracer(__name__)\n\n'
                'async def submit(url):\n    with tracer.start_as_current_span("submit"):\n'
                '        redis = await create_pool(RedisSettings())\n'
                '        await redis.enqueue_job("download", url)\n\nasync def download(ctx, url):\n'
                '    with tracer.start_as_current_span("download"):\n        await fetch(url)\n\n'
                'class WorkerSettings:\n    functions = [download]\n',
                files=OTEL_DEPENDENCY),
        # arq: a job of a module that never imports arq, listed by the WorkerSettings of another module
        Invalid(ARQ_JOBS, files={**OTEL_DEPENDENCY, **ARQ_WORKER}, path="app/jobs.py"),
        # rq: the function an enqueue() hands to the worker
        Invalid('from redis import Redis\nfrom rq import Queue\nfrom opentelemetry import trace\n\n'
                'tracer = trace.get_tracer(__name__)\nq = Queue(connection=Redis())\n\ndef count_words(url):\n'
                '    with tracer.start_as_current_span("count"):\n        return fetch(url)\n\n'
                'def submit(url):\n    with tracer.start_as_current_span("submit"):\n'
                '        q.enqueue(count_words, url)\n',
                files=OTEL_DEPENDENCY),
    )

    @classmethod
    def needs(cls, project: "NeedsContext") -> "Cond":
        """`for m in <receiver>` over an iterated kind (`visit_For`), `<receiver>.<attr> = callback`
        (`visit_Assign`), a receive call or a callback registration (`_consumer_call`, also by a distinctive
        method on a receiver that cannot be inferred), a task handler (`visit_FunctionDef`), for the consumers
        not instrumented here."""
        found = sources(project)
        out = []
        for e in project.catalog.get("consumer"):
            if found.silenced(e.restored_by):
                continue
            if e.form == "iterate":
                out.append(all_of(words({"for"}), found.of(e.kind)))
                continue
            if e.form == "task":  # a def whose decorator makes it of the kind (`MessagingCheck.visit_FunctionDef`)
                out.append(found.of(e.kind))
                continue
            if e.form == "listed":  # a list named for one of `methods`, in a module importing the library
                tops = {c.split(".")[0] for c in found.clients[e.kind].constructors}
                out.append(all_of(words(e.methods), any_of(*(found.layout.named(t, prefix=True) for t in tops))))
                if e.holders:  # in a holder class of any module (`class WorkerSettings: functions = [...]`)
                    out.append(all_of(words(e.methods), words(e.holders)))
                # or a function of the module listed by a worker in another one (`facts.listed_handlers`)
                listed = {last_part(q) for q, kind in listed_handlers(
                    project.index, project.config.scope == "application").items() if kind == e.kind}
                if listed:
                    out.append(words(listed))
                continue
            out.append(all_of(words(e.methods), found.of(e.kind)))
            if e.form in ("call", "batch", "callback"):
                out.append(words(e.distinctive))
        return any_of(*out)

    @staticmethod
    def message(entry: "Consumer", method: str | None = None, callback: str | None = None,
                guessed: bool = False, task: str | None = None) -> str:
        """For a message received by `method()`, processed by the function `callback` or the task handler
        `task`, or (none of them) in a loop over the messages."""
        suffix = LOW_CONFIDENCE if guessed else ""
        if task is not None:
            return (f"{entry.library} task {task}() runs without restoring the trace context of the code that "
                    f"enqueued it (extract the carrier sent with the task and start the processing span with "
                    f"context=)")
        if callback is not None:
            return (f"{entry.library} callback {callback}() processes messages without restoring their trace "
                    f"context {_RESTORE}" + suffix)
        if method is not None:
            return (f"{entry.library} message received by {method}() is processed without restoring its trace "
                    f"context {_RESTORE}" + suffix)
        return f"{entry.library} messages are processed in this loop without restoring their trace context {_RESTORE}"

    @staticmethod
    def build_fix(edits: "Fixes", owner: cst.CSTNode, entry: "Consumer", message: str,
                 statements: list[cst.BaseStatement], prefix: list[cst.BaseStatement] = ()) -> Fix | None:
        """`statements` (the processing of `message`, the last of `owner`'s block, after `prefix`) wrapped in a
        CONSUMER span whose parent is the extracted context; `owner` is a loop, a def, or the block itself."""
        wrapped = edits.wrap(entry, message, statements)
        if wrapped is None:
            return None
        with_stmt, imports = wrapped
        if isinstance(owner, cst.IndentedBlock):
            new = owner.with_changes(body=[*prefix, with_stmt])
        else:
            new = owner.with_changes(body=owner.body.with_changes(body=[*prefix, with_stmt]))  # type: ignore
        return Fix(UNSAFE, "Process the message in a CONSUMER span whose parent is the extracted context",
                   replacements=[(owner, new)], imports=imports)
