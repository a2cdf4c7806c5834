"""PRP303-PRP307, the messaging family's narrower rules (the check is `messaging_check.py`; PRP301 and
PRP302 are in `messaging.py`)."""

from __future__ import annotations

from proplint.core.rule import Invalid, Rule, Valid


class ExtractResultUnused(Rule):
    code = "PRP303"
    name = "extract-result-unused-or-misparented"
    summary = "An extracted or captured context is never applied, or a span is only linked to it."
    fix = "none"
    what_it_does = """
        Finds `opentelemetry.propagate.extract(...)` (or `TraceContextTextMapPropagator().extract(...)`, or a
        configured extractor) whose result is discarded, or bound to a name that is never passed as
        `context=`, attached, handed to another call, returned or stored; a span started with `links=`
        built from an extracted context but no `context=`; and, on the producer side, a carrier filled by
        `inject(carrier)` (or captured by a configured injector, seed 000's
        `capture_trace_context_for_queue()`) that is never used afterwards.
    """
    why = """
        `extract()` returns a `Context`; it does nothing until it becomes the parent of a span or the current
        context. Links alone do not parent: a span with `links=[...]` and no `context=` is a new root trace
        (opentelemetry-python-contrib #1678). A carrier that is filled but never put into the message is
        the producer-side twin: the work to capture the context is done, and the consumer still gets
        nothing.
    """
    example = """
        from opentelemetry import trace
        from opentelemetry.propagate import extract

        tracer = trace.get_tracer(__name__)

        def handle(message):
            ctx = extract(message.headers)
            with tracer.start_as_current_span("process"):
                print(message.body)
    """
    use_instead = """
        from opentelemetry import trace
        from opentelemetry.propagate import extract

        tracer = trace.get_tracer(__name__)

        def handle(message):
            ctx = extract(message.headers)
            with tracer.start_as_current_span("process", context=ctx):
                print(message.body)
    """
    fix_safety = """
        No automatic fix: which span should take the context (or whether a link was meant on purpose, for a
        batch) is the author's decision.
    """
    VALID = (
        Valid("from opentelemetry import trace\nfrom opentelemetry.propagate import extract\n\n"
              "tracer = trace.get_tracer(__name__)\n\ndef handle(headers):\n    ctx = extract(headers)\n"
              "    link = trace.Link(trace.get_current_span(ctx).get_span_context())\n"
              "    with tracer.start_as_current_span('p', context=ctx, links=[link]):\n        pass\n"),
        Valid("from opentelemetry import context\nfrom opentelemetry.propagate import extract\n\n"
              "def handle(headers):\n    token = context.attach(extract(headers))\n    try:\n        pass\n"
              "    finally:\n        context.detach(token)\n"),
        Valid("from opentelemetry.propagate import extract, inject\n\ndef restore(headers):\n"
              "    ctx = extract(headers)\n    return ctx\n\ndef fill(carrier):\n    inject(carrier)\n"),
    )
    INVALID = (
        Invalid("from opentelemetry.propagate import extract\n\ndef handle(headers):\n    extract(headers)\n"
                "    print('processing')\n"),
        Invalid("from opentelemetry import trace\nfrom opentelemetry.propagate import extract\n\n"
                "tracer = trace.get_tracer(__name__)\n\ndef handle(headers):\n    ctx = extract(headers)\n"
                "    with tracer.start_as_current_span('p', links=[trace.Link(trace.get_current_span(ctx)"
                ".get_span_context())]):\n        pass\n"),
        Invalid("from opentelemetry.propagate import inject\n\ndef publish(send, body):\n    carrier = {}\n"
                "    inject(carrier)\n    send(body)\n"),
        Invalid("from svc.tracing import capture_trace_context_for_queue\n\ndef submit(queue, data):\n"
                "    trace_context = capture_trace_context_for_queue()\n    queue.put(data)\n",
                config={"injectors": ["svc.tracing.capture_trace_context_for_queue"]}),
    )


class SqsReceiveWithoutAttributeNames(Rule):
    code = "PRP304"
    name = "sqs-receive-without-attribute-names"
    summary = "SQS `receive_message` does not ask for the message attributes that carry the trace context."
    fix = "always safe"
    what_it_does = """
        Finds boto3 SQS `receive_message(...)` calls (on a receiver inferred to be an SQS client) without
        `MessageAttributeNames`, or with a literal list that includes none of `All`, `.*` or `traceparent`.
        A non-literal value or `**kwargs` is not reported.
    """
    why = """
        SQS returns message attributes only when they are requested. The producer's `traceparent` travels as
        a message attribute, so a consumer that does not ask for it receives messages without a carrier and
        every processing span starts a new trace, whatever the consumer does next.
    """
    already_propagated = """
        `Boto3SQSInstrumentor().instrument()` anywhere in the project (or zero-code): it adds the propagator's
        fields to `MessageAttributeNames` itself.
    """
    example = """
        import boto3

        sqs = boto3.client("sqs")

        def poll(queue_url):
            return sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=20)
    """
    use_instead = """
        import boto3

        sqs = boto3.client("sqs")

        def poll(queue_url):
            return sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=20, MessageAttributeNames=["All"])
    """
    fix_safety = """
        Adds `MessageAttributeNames=["All"]`, or appends `"All"` to the literal list: safe, the response only
        gains the attributes.
    """
    VALID = (
        Valid("import boto3\n\nsqs = boto3.client('sqs')\nsqs.receive_message(QueueUrl='q', "
              "MessageAttributeNames=['traceparent', 'tracestate'])\n"),
        Valid("import boto3\n\nsqs = boto3.client('sqs')\n\ndef poll(names):\n"
              "    return sqs.receive_message(QueueUrl='q', MessageAttributeNames=names)\n"),
        Valid("import boto3\n\nsqs = boto3.client('sqs')\nsqs.receive_message(QueueUrl='q')\n",
              files={"telemetry.py": "from opentelemetry.instrumentation.boto3sqs import Boto3SQSInstrumentor\n\n"
                                     "Boto3SQSInstrumentor().instrument()\n"}),
        Valid("def poll(client):\n    return client.receive_message(QueueUrl='q')\n"),
    )
    INVALID = (
        Invalid("import boto3\n\nsqs = boto3.client('sqs')\n\ndef poll(url):\n"
                "    return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)\n",
                fixed="import boto3\n\nsqs = boto3.client('sqs')\n\ndef poll(url):\n"
                      "    return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20, MessageAttributeNames=[\"All\"])\n"),
        Invalid("import boto3\n\nclass Poller:\n    def __init__(self):\n        self.sqs = boto3.Session().client('sqs')\n\n"
                "    def poll(self):\n        return self.sqs.receive_message(QueueUrl='q', MessageAttributeNames=['tenant'])\n",
                fixed="import boto3\n\nclass Poller:\n    def __init__(self):\n        self.sqs = boto3.Session().client('sqs')\n\n"
                      "    def poll(self):\n        return self.sqs.receive_message(QueueUrl='q', "
                      "MessageAttributeNames=['tenant', \"All\"])\n"),
    )


class ConfluentEarlyImport(Rule):
    code = "PRP305"
    name = "confluent-kafka-early-import"
    summary = "`from confluent_kafka import Producer/Consumer` runs before the instrumentor swaps the class."
    fix = "none"
    what_it_does = """
        Finds a module-level `from confluent_kafka import Producer` (or `Consumer`) in a project that calls
        `ConfluentKafkaInstrumentor().instrument()`, unless the import runs after the instrumentation: later
        in the same module, or in a module that the instrumenting module imports (at module level) only
        after its `instrument()` call. An import inside a function runs when the function does and is not
        reported.
    """
    why = """
        The instrumentor works by replacing the module attributes `confluent_kafka.Producer` and `Consumer`
        with instrumented subclasses. A name bound by `from confluent_kafka import Producer` before that
        keeps the plain class, so producers built from it inject nothing and consumers restore nothing,
        although the project is instrumented (and PRP301/PRP302 trust the instrumentor).
    """
    example = """
        from confluent_kafka import Producer

        producer = Producer({"bootstrap.servers": "kafka:9092"})
    """
    use_instead = """
        import confluent_kafka

        producer = confluent_kafka.Producer({"bootstrap.servers": "kafka:9092"})
    """
    fix_safety = """
        No automatic fix: look the class up on the module at call time (`confluent_kafka.Producer(...)`), or
        wrap the instance with `ConfluentKafkaInstrumentor.instrument_producer(producer)`.
    """
    _TELEMETRY = {"telemetry.py": "from opentelemetry.instrumentation.confluent_kafka import "
                                  "ConfluentKafkaInstrumentor\n\ndef setup():\n"
                                  "    ConfluentKafkaInstrumentor().instrument()\n"}
    VALID = (
        Valid("from confluent_kafka import Producer\n\nproducer = Producer({})\n"),
        Valid("import confluent_kafka\n\nproducer = confluent_kafka.Producer({})\n", files=_TELEMETRY),
        Valid("from opentelemetry.instrumentation.confluent_kafka import ConfluentKafkaInstrumentor\n\n"
              "ConfluentKafkaInstrumentor().instrument()\n\nfrom confluent_kafka import Producer  # noqa: E402\n"),
        Valid("def make():\n    from confluent_kafka import Consumer\n    return Consumer({})\n", files=_TELEMETRY),
    )
    INVALID = (
        Invalid("from confluent_kafka import KafkaError, Producer\n\nproducer = Producer({})\n", files=_TELEMETRY),
        Invalid("from confluent_kafka import Consumer as KafkaConsumer\n", files=_TELEMETRY, path="app/worker.py"),
    )


class CeleryDelayDropsHeaders(Rule):
    code = "PRP306"
    name = "celery-delay-drops-headers"
    summary = "Celery `delay(...)` cannot carry headers in a project that propagates by hand."
    fix = "always safe"
    what_it_does = """
        Finds `task.delay(...)` (on a task defined with `@app.task`, `@shared_task`, or a signature) in a
        project that propagates by hand, that is where an injector (`opentelemetry.propagate.inject` or a
        configured one) is called somewhere, and `CeleryInstrumentor` is not. Elsewhere the same call is
        PRP301.
    """
    why = """
        `delay(*args, **kwargs)` passes every keyword to the task: there is no way to give it message
        headers, so the carrier that the project builds everywhere else cannot reach the worker and the task
        runs in a new trace.
    """
    already_propagated = """
        `CeleryInstrumentor().instrument()` anywhere in the project (or zero-code): it injects in
        `before_task_publish` and extracts in `task_prerun`, for `delay` too.
    """
    example = """
        from celery import shared_task
        from opentelemetry.propagate import inject

        @shared_task
        def rebuild(index):
            ...

        def on_save(index):
            rebuild.delay(index)
    """
    use_instead = """
        from celery import shared_task
        from opentelemetry.propagate import inject

        @shared_task
        def rebuild(index):
            ...

        def on_save(index):
            carrier = {}
            inject(carrier)
            rebuild.apply_async(args=(index,), headers=carrier)
    """
    fix_safety = """
        Rewrites `t.delay(a, k=v)` to `t.apply_async(args=(a,), kwargs={"k": v}, headers=_carrier)` after
        building the carrier: the same task call plus message headers, so it is safe. The worker reads them
        from `self.request` (or `CeleryInstrumentor` does).
    """
    _INJECTS = {"svc/tracing.py": "from opentelemetry.propagate import inject\n\ndef headers():\n"
                                  "    carrier = {}\n    inject(carrier)\n    return carrier\n"}
    VALID = (
        Valid("from celery import shared_task\n\n@shared_task\ndef rebuild(index):\n    pass\n\n"
              "def on_save(index):\n    rebuild.delay(index)\n",
              files={**_INJECTS, "telemetry.py": "from opentelemetry.instrumentation.celery import CeleryInstrumentor\n\n"
                                                 "CeleryInstrumentor().instrument()\n"}),
        Valid("def on_save(task, index):\n    task.delay(index)\n", files=_INJECTS),
    )
    INVALID = (
        Invalid("from celery import shared_task\n\n@shared_task\ndef rebuild(index):\n    pass\n\n"
                "def on_save(index, *rest, **options):\n    rebuild.delay(index, *rest, force=True, **options)\n",
                fixed="from celery import shared_task\nfrom opentelemetry.propagate import inject\n\n@shared_task\n"
                      "def rebuild(index):\n    pass\n\ndef on_save(index, *rest, **options):\n    _carrier = {}\n"
                      "    inject(_carrier)\n    rebuild.apply_async(args=(index, *rest,), kwargs={\"force\": True, "
                      "**options}, headers=_carrier)\n",
                files=_INJECTS),
        Invalid("from celery import Celery\n\napp = Celery('svc')\n\n@app.task\ndef send_email(to):\n    pass\n\n"
                "def signup(user):\n    send_email.delay(user.email)\n",
                fixed="from celery import Celery\nfrom opentelemetry.propagate import inject\n\napp = Celery('svc')\n\n"
                      "@app.task\ndef send_email(to):\n    pass\n\ndef signup(user):\n    _carrier = {}\n"
                      "    inject(_carrier)\n    send_email.apply_async(args=(user.email,), headers=_carrier)\n",
                files=_INJECTS),
    )


class MqttPropertiesOnV3Client(Rule):
    code = "PRP307"
    name = "mqtt-properties-on-v3-client"
    summary = "paho `publish(..., properties=...)` on a client that is not MQTTv5 drops the properties."
    fix = "unsafe"
    what_it_does = """
        Finds paho-mqtt `publish(..., properties=...)` on a client whose construction proplint can see
        (`mqtt.Client(...)` in the module, a module-level or `self.` attribute) and whose `protocol=` is not
        `MQTTv5` (the default is MQTT 3.1.1). A client whose construction is not visible is not reported.
    """
    why = """
        User properties exist only in MQTT 5. paho accepts `properties=` on any client and silently does not
        send them on 3.1.1, so a trace carrier put into `UserProperty` never leaves the process and the
        subscriber starts a new trace with no error anywhere.
    """
    example = """
        import paho.mqtt.client as mqtt

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)

        def deliver(topic, payload, props):
            client.publish(topic, payload, properties=props)
    """
    use_instead = """
        import paho.mqtt.client as mqtt

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)

        def deliver(topic, payload, props):
            client.publish(topic, payload, properties=props)
    """
    fix_safety = """
        Adds `protocol=MQTTv5` to the client's construction: unsafe, because the broker must accept MQTT 5
        and some callbacks receive MQTT 5 reason codes and properties. On 3.1.1 put the carrier in the
        payload instead (PRP301's payload fix).
    """
    VALID = (
        Valid("import paho.mqtt.client as mqtt\n\nclient = mqtt.Client(protocol=mqtt.MQTTv5)\n\n"
              "def deliver(payload, props):\n    client.publish('t', payload, properties=props)\n"),
        Valid("import paho.mqtt.client as mqtt\n\ndef deliver(client: mqtt.Client, payload, props):\n"
              "    client.publish('t', payload, properties=props)\n"),
    )
    INVALID = (
        Invalid("import paho.mqtt.client as mqtt\nfrom opentelemetry.propagate import inject\n\n"
                "client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)\n\ndef deliver(payload, props):\n"
                "    carrier = {}\n    inject(carrier)\n    props.UserProperty = list(carrier.items())\n"
                "    client.publish('t', payload, properties=props)\n",
                fixed="import paho.mqtt.client as mqtt\nfrom opentelemetry.propagate import inject\n\n"
                      "client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)\n\n"
                      "def deliver(payload, props):\n    carrier = {}\n    inject(carrier)\n"
                      "    props.UserProperty = list(carrier.items())\n    client.publish('t', payload, properties=props)\n",
                unsafe=True),
    )
