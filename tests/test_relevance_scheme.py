"""The project's own propagation scheme (issue #11, relevance; issue #12, the project's scheme): a boundary the
project carries by hand is not reported, and one no reader is behind is not either. Each class has both sides:
the shape real code has (VALID: no finding) and its twin where the context is really lost."""

from __future__ import annotations

OTEL_APP = {"app/__init__.py": "", "app/telemetry.py": ("from opentelemetry import trace\n\ntracer = trace.get_tracer('x')\n\n\n"
                                                       "def traced(name):\n    return tracer.start_as_current_span(name)\n")}
DOCKER = {"Dockerfile": "FROM python:3.12\nCMD [\"python\", \"-m\", \"app\"]\n"}
TENANT = {"app/ctx.py": "import contextvars\n\nCURRENT_TENANT = contextvars.ContextVar('current_tenant', default='public')\n"}


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
             "app/api.py": "from app.deletes import produce_delete\n\n\ndef delete(query):\n    produce_delete(query)\n"}


def test_a_topic_only_the_projects_consumers_read_and_none_continues_a_trace_is_not_reported(make_project):
    files = {**OTEL_APP, **DOCKER, **_SETTINGS, "app/lw_deletions_consumer.py": _CONSUMER}
    assert codes(make_project(_DELETES, {}, files, path="app/deletes.py")) == []
    listeners = {**OTEL_APP, **DOCKER, **_SETTINGS, "app/listeners/deletes.py": _CONSUMER}
    assert codes(make_project(_DELETES, {}, listeners, path="app/deletes.py")) == []


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
             "app/lw_deletions_consumer.py": "from app import settings\n\n\ndef run():\n    return settings.TOPIC_MAP\n"}
    assert codes(make_project(by_setting, {}, files, path="app/deletes.py")) == ["PRP301"]
    # a consumer test names it: tests do not deploy a consumer
    files = {**OTEL_APP, **DOCKER, **_SETTINGS, "tests/test_consumer.py": _CONSUMER}
    assert codes(make_project(_DELETES, {}, files, path="app/deletes.py")) == ["PRP301"]
