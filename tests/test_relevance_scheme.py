"""The project's own propagation scheme (issue #11, relevance; issue #12, the project's scheme): a boundary the
project carries by hand is not reported, and one no reader is behind is not either. Each class has both sides:
the shape real code has (VALID: no finding) and its twin where the context is really lost."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from proplint.families.messaging.scheme import field_name

OTEL_APP = {"app/__init__.py": "", "app/telemetry.py": (
    "from opentelemetry import trace\n\ntracer = trace.get_tracer('x')\n\n\n"
    "def traced(name):\n    return tracer.start_as_current_span(name)\n")}
DOCKER = {"Dockerfile": "FROM python:3.12\nCMD [\"python\", \"-m\", \"app\"]\n"}
TENANT = {"app/ctx.py": ("import contextvars\n\n"
                         "CURRENT_TENANT = contextvars.ContextVar('current_tenant', default='public')\n")}


def codes(project):
    return [f.code for f in project.check()]


# --- a process's target restores the project's ContextVars from its arguments ----------------------------

_SPAWN = ("import multiprocessing as mp\n\nfrom app.ctx import CURRENT_TENANT\n\n\n"
          "{child}\n\n\n"
          "def submit(func, *args):\n"
          "    process = mp.get_context('spawn').Process(target=_run_in_process, args=(func, args), daemon=True)\n"
          "    process.start()\n    return process\n")

_INITIALIZER = ("def _initializer(func, args):\n    tenant_id = 'public'\n    for arg in reversed(args):\n"
                "        if isinstance(arg, str) and arg.startswith('tenant_'):\n            tenant_id = arg\n"
                "            break\n    token = CURRENT_TENANT.set(tenant_id)\n    try:\n        return func(*args)\n"
                "    finally:\n        CURRENT_TENANT.reset(token)\n\n\n"
                "def _run_in_process(func, args):\n    _initializer(func, args)")


def test_a_process_target_that_sets_the_project_contextvars_from_its_arguments_is_not_reported(make_project):
    files = {**OTEL_APP, **DOCKER, **TENANT}
    assert codes(make_project(_SPAWN.format(child=_INITIALIZER), {}, files, path="app/jobs.py")) == []
    direct = ("def _run_in_process(func, args):\n    tenant_id, *rest = args\n    CURRENT_TENANT.set(tenant_id)\n"
              "    func(*rest)")
    assert codes(make_project(_SPAWN.format(child=direct), {}, files, path="app/jobs.py")) == []


def test_a_process_target_that_sets_a_fresh_value_or_nothing_is_still_reported(make_project):
    files = {**OTEL_APP, **DOCKER, **TENANT}
    fresh = ("import uuid\n\n\ndef _run_in_process(func, args):\n    CURRENT_TENANT.set(str(uuid.uuid4()))\n"
             "    func(*args)")
    assert codes(make_project(_SPAWN.format(child=fresh), {}, files, path="app/jobs.py")) == ["PRP206"]
    nothing = "def _run_in_process(func, args):\n    func(*args)"
    assert codes(make_project(_SPAWN.format(child=nothing), {}, files, path="app/jobs.py")) == ["PRP206"]
    # the initializer is handed nothing of the target's arguments: what it sets does not come from the parent
    unrelated = _INITIALIZER.replace("    _initializer(func, args)", "    _initializer(print, ('tenant_x',))")
    assert codes(make_project(_SPAWN.format(child=unrelated), {}, files, path="app/jobs.py")) == ["PRP206"]


def test_a_contextvar_that_is_not_the_projects_is_no_restoration(make_project):
    files = {**OTEL_APP, **DOCKER, **TENANT}
    local = ("import contextvars\n\n_seen = contextvars.ContextVar('seen')\n\n\n"
             "def _run_in_process(func, args):\n    token = _seen.set(args)\n    func(*args)")
    # `_seen` is the project's too (a module-level ContextVar): restoring it from the arguments counts
    assert codes(make_project(_SPAWN.format(child=local), {}, files, path="app/jobs.py")) == []
    other = ("def _run_in_process(func, args):\n    registry = {}\n    registry.set(args)\n    func(*args)")
    assert codes(make_project(_SPAWN.format(child=other), {}, files, path="app/jobs.py")) == ["PRP206"]


# --- messages no consumer continues ---------------------------------------------------------------------

_DELETES = ("import json\n\nfrom confluent_kafka import Producer\n\nfrom app import settings\n\n"
            "STORAGE_TOPIC = {'events': 'deletes-events', 'items': 'deletes-items'}\n"
            "producer = Producer({'bootstrap.servers': settings.BROKERS})\n\n\n"
            "def produce_delete(query):\n    topic = STORAGE_TOPIC.get(query['storage'])\n"
            "    data = json.dumps(query).encode()\n"
            "    producer.produce(settings.TOPIC_MAP.get(topic, topic), data)\n")
_CONSUMER = ("from app.deletes import STORAGE_TOPIC\nfrom app.runner import run_consumer\n\n\n"
             "def lw_deletions_consumer(storage):\n    run_consumer(STORAGE_TOPIC[storage], storage)\n")
_SETTINGS = {"app/settings.py": "BROKERS = 'kafka:9092'\nTOPIC_MAP = {}\n",
             "app/runner.py": "def run_consumer(topic, storage):\n    pass\n",
             "app/api.py": ("from app.deletes import produce_delete\n\n\n"
                            "def delete(query):\n    produce_delete(query)\n")}


def test_a_topic_only_the_projects_consumers_read_and_none_continues_a_trace_is_not_reported(make_project):
    files = {**OTEL_APP, **DOCKER, **_SETTINGS, "app/lw_deletions_consumer.py": _CONSUMER}
    assert codes(make_project(_DELETES, {}, files, path="app/deletes.py")) == []
    listeners = {**OTEL_APP, **DOCKER, **_SETTINGS, "app/listeners/deletes.py": _CONSUMER}
    assert codes(make_project(_DELETES, {}, listeners, path="app/deletes.py")) == []
    # an `extract` of another library (a SQL date part) continues no trace
    sql = {"app/reports.py": ("import sqlalchemy\n\n\n"
                              "def year(column):\n    return sqlalchemy.extract('year', column)\n")}
    assert codes(make_project(_DELETES, {}, {**files, **sql}, path="app/deletes.py")) == []


def test_a_topic_a_consumer_continues_or_no_consumer_of_the_project_names_is_still_reported(make_project):
    # a consumer somewhere continues the trace (another SDK's continuation counts): the carrier has a reader
    continued = "import sentry_sdk\n" + _CONSUMER + (
        "\n\ndef handle(message):\n    with sentry_sdk.continue_trace(dict(message.headers())):\n        pass\n")
    files = {**OTEL_APP, **DOCKER, **_SETTINGS, "app/lw_deletions_consumer.py": continued}
    assert codes(make_project(_DELETES, {}, files, path="app/deletes.py")) == ["PRP301"]
    extracted = "from opentelemetry.propagate import extract\n" + _CONSUMER + (
        "\n\ndef handle(message):\n    return extract(dict(message.headers()))\n")
    files = {**OTEL_APP, **DOCKER, **_SETTINGS, "app/lw_deletions_consumer.py": extracted}
    assert codes(make_project(_DELETES, {}, files, path="app/deletes.py")) == ["PRP301"]
    # the constant is named by a module that does not consume (an admin view): its consumer may be elsewhere
    files = {**OTEL_APP, **DOCKER, **_SETTINGS, "app/admin_views.py": _CONSUMER}
    assert codes(make_project(_DELETES, {}, files, path="app/deletes.py")) == ["PRP301"]
    # only a setting names the topic (`settings.TOPIC_MAP`): a lookup every consumer makes, not this topic
    by_setting = _DELETES.replace("STORAGE_TOPIC.get(query['storage'])", "query['storage']")
    files = {**OTEL_APP, **DOCKER, **_SETTINGS,
             "app/lw_deletions_consumer.py": ("from app import settings\n\n\n"
                                              "def run():\n    return settings.TOPIC_MAP\n")}
    assert codes(make_project(by_setting, {}, files, path="app/deletes.py")) == ["PRP301"]
    # a consumer test names it: tests do not deploy a consumer
    files = {**OTEL_APP, **DOCKER, **_SETTINGS, "tests/test_consumer.py": _CONSUMER}
    assert codes(make_project(_DELETES, {}, files, path="app/deletes.py")) == ["PRP301"]


# --- a message that carries the project's own correlation id -------------------------------------------

_CORRELATION = {"app/log_context.py": (
    "import contextvars\nimport uuid\n\n\nclass CorrelationID:\n"
    "    _correlation_id = contextvars.ContextVar('app.correlation_id', default=None)\n\n"
    "    @classmethod\n    def set(cls):\n        value = str(uuid.uuid4())\n        cls._correlation_id.set(value)\n"
    "        return value\n\n    @classmethod\n    def get(cls):\n        return cls._correlation_id.get()\n")}
_SQS = ("import json\nfrom typing import NamedTuple\n\nimport boto3\n\n\n"
        "class Job(NamedTuple):\n    actor: str\n    args: tuple\n    correlation_id: str | None = None\n\n\n"
        "def build_envelope(actor, args, correlation_id):\n"
        "    return json.dumps({'actor': actor, 'args': args, 'correlation_id': correlation_id})\n\n\n"
        "def send_jobs(jobs: list[Job], queue_url: str) -> None:\n    client = boto3.client('sqs')\n    entries = []\n"
        "    for job in jobs:\n        entry = {'Id': str(len(entries)), "
        "'MessageBody': build_envelope(job.actor, job.args, job.correlation_id)}\n"
        "        entries.append(entry)\n"
        "    for batch in [entries[i:i + 10] for i in range(0, len(entries), 10)]:\n"
        "        client.send_message_batch(QueueUrl=queue_url, Entries=batch)\n")
_ENQUEUE = ("from app.log_context import CorrelationID\nfrom app.sqs import Job, send_jobs\n\n\n"
            "def enqueue(actor, *args):\n    send_jobs([Job(actor, args, correlation_id=CorrelationID.get())], 'q')\n")
_WORKER = ("import json\n\nfrom app.log_context import CorrelationID\n\n\n"
           "def handle(body, run):\n    envelope = json.loads(body)\n    CorrelationID.set()\n"
           "    run(envelope['actor'], source_correlation_id=envelope.correlation_id)\n")


def test_a_message_carrying_the_projects_correlation_id_is_not_reported(make_project):
    files = {**OTEL_APP, **DOCKER, **_CORRELATION, "app/enqueue.py": _ENQUEUE, "app/worker.py": _WORKER}
    assert codes(make_project(_SQS, {}, files, path="app/sqs.py")) == []
    # a module-level ContextVar read into the payload, and a tracing SDK's own getter of the current trace
    direct = ("import json\n\nimport boto3\n\nfrom app.ctx import request_id_var\n\n\n"
              "def send(queue_url, body):\n    message = {'body': body, 'request_id': request_id_var.get()}\n"
              "    boto3.client('sqs').send_message(QueueUrl=queue_url, MessageBody=json.dumps(message))\n")
    ctx = {"app/ctx.py": "import contextvars\n\nrequest_id_var = contextvars.ContextVar('request_id')\n",
           "app/worker.py": "def handle(message):\n    return message['body'], message.get('request_id')\n"}
    assert codes(make_project(direct, {}, {**OTEL_APP, **DOCKER, **ctx}, path="app/jobs.py")) == []
    sentry = ("import json\n\nimport boto3\nimport sentry_sdk\n\n\n"
              "def send(queue_url, body):\n"
              "    message = json.dumps({'body': body, 'sentry_trace': sentry_sdk.get_traceparent()})\n"
              "    boto3.client('sqs').send_message(QueueUrl=queue_url, MessageBody=message)\n")
    assert codes(make_project(sentry, {}, {**OTEL_APP, **DOCKER}, path="app/jobs.py")) == []
    continued = {"app/worker.py": ("import sentry_sdk\n\n\ndef handle(message):\n"
                                   "    with sentry_sdk.continue_trace({'sentry-trace': message['sentry_trace']}):\n"
                                   "        return message['body']\n")}
    assert codes(make_project(sentry, {}, {**OTEL_APP, **DOCKER, **continued}, path="app/jobs.py")) == []
    # the twin: the same message without the SDK's traceparent
    plain = sentry.replace(", 'sentry_trace': sentry_sdk.get_traceparent()", "")
    assert codes(make_project(plain, {}, {**OTEL_APP, **DOCKER, **continued}, path="app/jobs.py")) == ["PRP301"]


def test_init_lists_the_projects_own_trace_identifying_context(tmp_path):
    from proplint.config import load_config
    from proplint.init import discover, render

    files = {**OTEL_APP, **DOCKER, **_CORRELATION, "app/enqueue.py": _ENQUEUE, "app/worker.py": _WORKER,
             "app/sqs.py": _SQS}
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text, encoding="utf-8")
    proposal = discover(load_config(tmp_path))
    assert proposal.own_carriers == [("correlation_id", "app/sqs.py, app/worker.py")]
    assert "#   correlation_id: read back in app/sqs.py, app/worker.py" in render(proposal, tmp_path)


def test_a_message_without_the_projects_carrier_or_in_a_project_propagating_by_hand_is_still_reported(make_project):
    files = {**OTEL_APP, **DOCKER, **_CORRELATION, "app/enqueue.py": _ENQUEUE, "app/worker.py": _WORKER}
    # the envelope carries no correlation id
    bare = _SQS.replace(", job.correlation_id)", ", None)")
    assert codes(make_project(bare, {}, files, path="app/sqs.py")) == ["PRP301"]
    # a field named like nothing the project keeps in its context
    order = _SQS.replace("job.correlation_id)", "job.order_id)").replace(
        "correlation_id: str | None = None", "order_id: str | None = None")
    assert codes(make_project(order, {}, files, path="app/sqs.py")) == ["PRP301"]
    # no other module reads the field: nothing shows the consumer follows it
    unread = {**files, "app/worker.py": _WORKER.replace("envelope.correlation_id", "None")}
    assert codes(make_project(_SQS, {}, unread, path="app/sqs.py")) == ["PRP301"]
    # the project propagates OpenTelemetry by hand: its carrier is OpenTelemetry's, the correlation id is data
    injector = {**files, "app/propagation.py": ("from opentelemetry.propagate import inject\n\n\n"
                                                "def inject_trace_context(metadata):\n    inject(metadata)\n")}
    assert codes(make_project(_SQS, {}, injector, path="app/sqs.py")) == ["PRP301"]
    # and a consumer that continues a trace from a carrier reads OpenTelemetry's, whatever else the message has
    extracting = {**files, "app/worker.py": "from opentelemetry.propagate import extract\n" + _WORKER.replace(
        "    CorrelationID.set()\n", "    extract(envelope)\n")}
    assert codes(make_project(_SQS, {}, extracting, path="app/sqs.py")) == ["PRP301"]


@given(st.from_regex(r"_{0,2}(current_)?[a-z]{1,8}(_[a-z]{1,8}){0,2}(_var|_ctx|_cv|_contextvar)?", fullmatch=True))
def test_a_context_s_field_name_is_stable(name):
    assert field_name(field_name(name)) == field_name(name)
    assert field_name(name.upper()) == field_name(name)
    assert not field_name(name).startswith("_")
