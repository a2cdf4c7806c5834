"""Relevance (`docs/relevance.md`): code only command-line tools reach, where another function's docstring
names it. Each class has both sides: the shape real code has where nothing can be lost (no finding) and its
twin where the context is really lost."""

from __future__ import annotations

import ast
import keyword

from hypothesis import given, strategies as st

from proplint.core.reach import reached_only_by_tools, unreached_definition
from proplint.families.messaging.facts import tracing_call

DOCKER = {"Dockerfile": "FROM python:3.12\nCMD [\"python\", \"-m\", \"app\"]\n"}
OTEL_APP = {"app/__init__.py": "",
            "app/telemetry.py": ("from opentelemetry import trace\n\ntracer = trace.get_tracer('x')\n\n\n"
                                 "def traced(name):\n    return tracer.start_as_current_span(name)\n")}
_APP = {**DOCKER, **OTEL_APP}


def codes(project):
    return [f.code for f in project.check()]


# --- a docstring names a function; it runs nothing ---------------------------------------------------------

#: the shape of a cron job's runner: `run` is the application's (a consumer calls it), `run_cron_job` only a
#: command's; `run`'s docstring says how it differs from `run_cron_job`
_OPTIMIZE = (
    "from concurrent.futures import ThreadPoolExecutor\n\nfrom app.telemetry import traced\n\n\n"
    "def run(parts):\n"
    "    \"\"\"The basic form. Deliberately separate from `run_cron_job`, which runs in threads.\"\"\"\n"
    "    for part in parts:\n        optimize(part)\n\n\n"
    "def run_cron_job(parts):\n    runner(parts)\n\n\n"
    "def runner(parts):\n"
    "    with ThreadPoolExecutor(4) as pool:\n        for part in parts:\n            pool.submit(optimize, part)\n\n\n"
    "def optimize(part):\n    with traced('optimize'):\n        print(part)\n"
)
_OPTIMIZE_FILES = {**_APP, "app/consumer.py": "from app.optimize import run\n",
                   "app/cli/optimize.py": "from app.optimize import run_cron_job\n\nrun_cron_job([])\n"}


def test_a_function_another_docstring_names_is_still_reached_only_by_the_tool(make_project):
    # `runner` runs from `run_cron_job` only, which only the `cli/` command calls: no request on the caller's side
    assert codes(make_project(_OPTIMIZE, {}, _OPTIMIZE_FILES, path="app/optimize.py")) == []


def test_a_function_the_application_calls_through_a_documented_one_is_kept(make_project):
    # the twin: `run` calls `run_cron_job` (not only names it in its docstring): the application reaches the pool
    calls = _OPTIMIZE.replace("    for part in parts:\n        optimize(part)\n",
                              "    run_cron_job(parts)\n", 1)
    assert codes(make_project(calls, {}, _OPTIMIZE_FILES, path="app/optimize.py")) == ["PRP203"]
    # a string that is not a docstring (a name looked up: `getattr(module, "run_cron_job")`) keeps it reached
    named = _OPTIMIZE.replace("    for part in parts:\n        optimize(part)\n",
                              "    globals()[\"run_cron_job\"](parts)\n", 1)
    assert codes(make_project(named, {}, _OPTIMIZE_FILES, path="app/optimize.py")) == ["PRP203"]


def test_a_private_helper_only_a_docstring_names_is_unreached(make_project):
    code = ("import threading\n\n\ndef handle(job):\n"
            "    \"\"\"Runs the job inline (`_fanout` did it in a thread).\"\"\"\n"
            "    job()\n\n\ndef _fanout(job):\n    threading.Thread(target=job).start()\n")
    assert codes(make_project(code, {}, _APP, path="app/jobs.py")) == []
    # the twin: `handle` calls it
    called = code.replace("    job()\n", "    _fanout(job)\n")
    assert codes(make_project(called, {}, _APP, path="app/jobs.py")) == ["PRP201"]


def test_the_module_docstring_still_counts_as_a_mention(make_project):
    # a module's own docstring may name what the module is run as: a mention there keeps the code reached
    code = ("\"\"\"Run as a job: `_fanout` starts the work.\"\"\"\nimport threading\n\n\n"
            "def _fanout(job):\n    threading.Thread(target=job).start()\n")
    assert codes(make_project(code, {}, _APP, path="app/jobs.py")) == ["PRP201"]


_NAMES = st.from_regex(r"[a-z][a-z_]{2,10}", fullmatch=True).filter(lambda n: not keyword.iskeyword(n) and n != "mod")


@given(caller=_NAMES, helper=_NAMES, called=st.booleans())
def test_a_docstring_never_reaches_and_a_call_always_does(caller, helper, called):
    if caller == helper:
        return
    body = f"    {helper}()\n" if called else "    pass\n"
    source = (f"def {caller}():\n    \"\"\"Unlike `{helper}`, this one is simple.\"\"\"\n{body}\n\n"
              f"def _{helper}_x():\n    pass\n\n\ndef {helper}():\n    pass\n")
    tree = ast.parse(source)
    line = len(source.splitlines())
    # `helper` is called by `caller`, which the application names: reached; only documented: unreached
    dead = unreached_definition(tree, line, {caller, "mod"}, set(), "mod", True)
    assert (dead is None) == called
    tools = reached_only_by_tools(tree, line, {"mod"}, {caller}, "mod", True, frozenset())
    assert tools == helper


# --- a consumer in a part of the project that only sets tracing up ----------------------------------------

_SHARED_TRACING = {
    "libs/obs/__init__.py": "",
    "libs/obs/tracing.py": ("from opentelemetry import trace\nfrom opentelemetry.propagate import inject\n\n\n"
                            "def init_tracing(name):\n    return trace.get_tracer(name)\n\n\n"
                            "def inject_trace_context(carrier):\n    inject(carrier)\n\n\n"
                            "def trace_operation(name):\n"
                            "    return trace.get_tracer(name).start_as_current_span(name)\n"),
    "libs/obs/web.py": ("def setup_tracing_middleware(app, tracer):\n    app.tracer = tracer\n\n\n"
                        "def extract_correlation_id(request):\n    return request.headers.get('x-correlation-id')\n"),
}
#: a service that sets tracing up (a tracer provider, its request middleware) and follows a correlation id
_BILLING = {
    **_SHARED_TRACING,
    "services/billing/Dockerfile": "FROM python:3.12\nCMD [\"python\", \"-m\", \"billing.app\"]\n",
    "services/billing/app.py": ("from obs.tracing import init_tracing\nfrom obs.web import setup_tracing_middleware\n\n"
                                "APP = object()\nsetup_tracing_middleware(APP, init_tracing('billing'))\n"),
    "services/billing/routes.py": ("from obs.web import extract_correlation_id\n\n\n"
                                   "def correlation(request):\n    return extract_correlation_id(request)\n"),
    "services/billing/store.py": "async def save(value):\n    await DATABASE.insert(value)\n",
}
_CONSUMER = ("from aiokafka import AIOKafkaConsumer\n\nfrom store import save\n\n\n"
             "async def run():\n    consumer = AIOKafkaConsumer('charges')\n    async for msg in consumer:\n"
             "        await save(msg.value)\n")


def test_a_consumer_in_a_service_that_only_sets_tracing_up_is_not_reported(make_project):
    # `init_tracing` and the request middleware start no span the consumer's processing runs under, and
    # `extract_correlation_id` is no tracing helper ("extract" is not "trace"): nothing reads a restored trace
    assert codes(make_project(_CONSUMER, {}, _BILLING, path="services/billing/kafka_consumer.py")) == []


def test_a_consumer_in_a_service_that_traces_or_sends_the_trace_on_is_reported(make_project):
    # the twins: the service injects the trace into what it publishes, or starts spans of its own
    injects = {**_BILLING, "services/billing/publisher.py": (
        "from obs.tracing import inject_trace_context\n\n\ndef publish(envelope):\n"
        "    inject_trace_context(envelope.metadata)\n")}
    assert codes(make_project(_CONSUMER, {}, injects, path="services/billing/kafka_consumer.py")) == ["PRP302"]
    spans = {**_BILLING, "services/billing/store.py": (
        "from obs.tracing import trace_operation\n\n\nasync def save(value):\n    with trace_operation('save'):\n"
        "        await DATABASE.insert(value)\n")}
    assert codes(make_project(_CONSUMER, {}, spans, path="services/billing/kafka_consumer.py")) == ["PRP302"]
    # a bare decorator of the project's tracing helper starts spans too
    decorated = {**_BILLING, "services/billing/store.py": (
        "from obs.tracing import traced\n\n\n@traced\nasync def save(value):\n    await DATABASE.insert(value)\n"),
        "libs/obs/tracing.py": _SHARED_TRACING["libs/obs/tracing.py"] + (
            "\n\ndef traced(fn):\n    return fn\n")}
    assert codes(make_project(_CONSUMER, {}, decorated, path="services/billing/kafka_consumer.py")) == ["PRP302"]
    # the tracer `init_tracing` returns starts the spans: the call of the span is what counts, not the helper
    own_spans = {**_BILLING, "services/billing/store.py": (
        "from obs.tracing import init_tracing\n\ntracer = init_tracing('billing')\n\n\nasync def save(value):\n"
        "    with tracer.start_as_current_span('save'):\n        await DATABASE.insert(value)\n")}
    assert codes(make_project(_CONSUMER, {}, own_spans, path="services/billing/kafka_consumer.py")) == ["PRP302"]


def test_the_words_of_a_call_say_whether_it_traces():
    assert [tracing_call(n) for n in ("obs.inject_trace_context", "trace_operation", "get_tracer", "startSpan",
                                      "otel_span", "traced")] == [True] * 6
    assert [tracing_call(n) for n in ("obs.init_tracing", "setup_tracing_middleware", "TracingMiddleware",
                                      "configure_otel", "extract_correlation_id", "contract_total")] == [False] * 6
