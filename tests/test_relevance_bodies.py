"""What a task's or a thread's body reads, judged through the project's own code (`core/readers.py`,
`core/foreign.py`): log records where no record carries a context, a task that enqueues itself again, models
named through a package's re-export or a forward reference, a helper handed only inert values, a model's
inherited methods and methods of literals. Each class has both sides: the shape quoted from real code (a
Django/Celery shop's DB-only tasks), not reported, and its twin, where the context is really read, reported."""

from __future__ import annotations

import pytest

OTEL_APP = {"app/__init__.py": "",
            "app/telemetry.py": ("from opentelemetry import trace\n\ntracer = trace.get_tracer('x')\n\n\n"
                                 "def traced(name):\n    return tracer.start_as_current_span(name)\n")}
#: a project whose log records carry its request context (a request ContextVar a log filter can read)
REQUEST_ID = {**OTEL_APP, "app/ctx.py": "import contextvars\n\nrequest_id = contextvars.ContextVar('rid')\n"}
#: a Celery project that propagates by hand (an injector of its own) and traces with OpenTelemetry
CELERY = {"svc/__init__.py": "", "svc/celeryconf.py": "from celery import Celery\n\napp = Celery('svc')\n",
          "svc/tracing.py": "from opentelemetry.propagate import extract, inject\n\n\ndef carrier():\n"
                            "    c = {}\n    inject(c)\n    return c\n",
          "svc/audit.py": "def log_event(name):\n    from svc import tracing\n    return tracing.carrier()\n"}

#: a request handler enqueueing the task (a task nothing with a context enqueues is not reported at all)
VIEW = {"svc/views.py": "from svc.tasks import rename_task\n\n\ndef on_change(pk):\n    rename_task.delay(pk)\n"}


def codes(project):
    return [f.code for f in project.check()]


# --- a log record where no record carries a context ---------------------------------------------------

_LOGS = ("import logging\nimport os\nimport threading\n\nlogger = logging.getLogger(__name__)\n\n\n"
         "def _cleanup(path: str) -> None:\n    try:\n        os.remove(path)\n    except OSError:\n"
         "        logger.warning('already deleted: %s', path)\n\n\n"
         "def cleanup(path):\n    threading.Thread(target=_cleanup, args=(path,)).start()\n")


@pytest.mark.parametrize("files, reported", [
    (OTEL_APP, False),  # spans only: nothing stamps the context on a record, so the warning reads nothing
    (REQUEST_ID, True),  # the project's request id can be stamped on every record: the warning reads it
    # OpenTelemetry's log handler stamps the current span on every record
    ({**OTEL_APP, "app/logs.py": "import logging\n\nfrom opentelemetry.sdk._logs import LoggingHandler\n\n"
                                 "logging.getLogger().addHandler(LoggingHandler())\n"}, True),
    ({**OTEL_APP, "app/logs.py": "from opentelemetry.instrumentation.logging import LoggingInstrumentor\n\n"
                                 "LoggingInstrumentor().instrument()\n"}, True),
])
def test_a_log_record_reads_a_context_only_where_records_carry_one(make_project, files, reported):
    assert ("PRP201" in codes(make_project(_LOGS, {}, files, path="app/files.py"))) is reported


def test_a_log_record_of_another_modules_helper_follows_the_same_rule(make_project):
    helper = _LOGS.split("\n\n\ndef cleanup")[0] + "\n"
    code = ("import threading\n\nfrom app.files import _cleanup\n\n\n"
            "def cleanup(path):\n    threading.Thread(target=_cleanup, args=(path,)).start()\n")
    assert codes(make_project(code, {}, {**OTEL_APP, "app/files.py": helper}, path="app/jobs.py")) == []
    assert codes(make_project(code, {}, {**REQUEST_ID, "app/files.py": helper}, path="app/jobs.py")) == ["PRP201"]


# --- a task that enqueues itself again ------------------------------------------------------------------

_BATCHES = ("from svc.celeryconf import app\nfrom svc.models import Voucher\n\n\n"
            "def release(ids):\n    release_task.delay(list(ids))\n\n\n"
            "@app.task\ndef release_task(ids):\n    batch = ids[:1000]\n"
            "    Voucher.objects.filter(pk__in=batch).update(used=0)\n"
            "    if rest := list(set(ids) - set(batch)):\n        release_task.delay(rest)\n")
_MODELS = "from django.db import models\n\n\nclass Voucher(models.Model):\n    pass\n"


@pytest.mark.parametrize("extra, reported", [
    ("", False),  # rows updated in batches, the rest enqueued again: the copy reads what this one reads
    ("    log_event('released')\n", True),  # the twin: the task calls the project's code that builds a carrier
])
def test_a_task_that_enqueues_itself_again_reads_what_its_body_reads(make_project, extra, reported):
    code = _BATCHES.replace("from svc.models import Voucher\n", "from svc.audit import log_event\n"
                            "from svc.models import Voucher\n") + extra
    found = codes(make_project(code, {}, {**CELERY, "svc/models.py": _MODELS}, path="svc/tasks.py"))
    # PRP302: the task restores nothing; PRP306: `delay()` of the module's own task carries no carrier
    assert ("PRP302" in found, "PRP306" in found) == (reported, reported)


# --- models named through a re-export or a forward reference, helpers handed inert values ------------------

_PACKAGE = {"svc/models/__init__.py": "from .base import Attribute, Variant\n",
            "svc/models/base.py": ("from django.db import models\n\n\nclass Attribute(models.Model):\n    pass\n\n\n"
                                   "class Variant(models.Model):\n    pass\n")}
_NAMES = ("from svc.celeryconf import app\nfrom svc.models import Attribute\n\n\n"
          "def _in_batches(qs):\n    start = 0\n    while True:\n"
          "        rows = list(qs.order_by('pk').filter(pk__gt=start)[:100])\n        if not rows:\n            break\n"
          "        yield rows\n        start = rows[-1].pk\n\n\n"
          "def _rename(kind: 'Attribute', rows) -> None:\n"
          "    for batch in _in_batches(rows):\n"
          "        kind.variants.filter(pk__in=[r.pk for r in batch]).update(name='')\n\n\n"
          "@app.task\ndef rename_task(pk):\n    kind = Attribute.objects.get(pk=pk)\n"
          "    rows = Attribute.objects.filter(kind=pk)\n    _rename(kind, rows)\n")


@pytest.mark.parametrize("change, reported", [
    (("", ""), False),  # the package re-exports the model; the helper's parameter names it as a string
    # the twin: the helper is handed the project's object, which may read
    (("    _rename(kind, rows)\n", "    _rename(kind, load_rows(pk))\n"), True),
])
def test_models_through_re_exports_and_helpers_given_only_their_rows_read_nothing(make_project, change, reported):
    code = _NAMES.replace(*change).replace("from svc.models import Attribute\n",
                                           "from svc.models import Attribute\nfrom svc.rows import load_rows\n")
    files = {**CELERY, **{k: v.replace(*change) for k, v in _PACKAGE.items()},
             "svc/rows.py": "def load_rows(pk):\n    return remote_rows(pk)\n", **VIEW}
    assert ("PRP302" in codes(make_project(code, {}, files, path="svc/tasks.py"))) is reported


@pytest.mark.parametrize("base_save, reported", [
    ("        super().save(*args, **kwargs)\n", False),  # the abstract base's save only calls Django's
    ("        audit(self)\n        super().save(*args, **kwargs)\n", True),  # the twin: it runs project code
])
def test_a_models_method_inherited_from_a_project_base_is_judged_by_its_body(make_project, base_save, reported):
    models = ("from django.db import models\n\n\nclass Sortable(models.Model):\n"
              "    def save(self, *args, **kwargs):\n        self.sort_order = ', '.join(['a', 'b'])\n" + base_save +
              "\n\nclass Variant(Sortable):\n    pass\n")
    helper = ("from svc.models import Variant\n\n\n"
              "def rename(variant: 'Variant') -> None:\n    variant.name = ''\n    variant.save()\n")
    task = ("from svc.celeryconf import app\nfrom svc.helpers import rename\nfrom svc.models import Variant\n\n\n"
            "@app.task\ndef rename_task(pk):\n    rename(Variant.objects.get(pk=pk))\n")
    files = {**CELERY, "svc/models.py": models, "svc/helpers.py": helper, **VIEW}
    assert ("PRP302" in codes(make_project(task, {}, files, path="svc/tasks.py"))) is reported


@pytest.mark.parametrize("model, reported", [
    ("class Variant(models.Model):\n    pass\n", False),  # `variant.save()` is Django's: it reads nothing
    # the twin: the model defines `save`, and it runs the project's code
    ("class Variant(models.Model):\n    def save(self):\n        audit(self)\n", True),
])
def test_a_parameter_typed_with_a_forward_reference_to_a_model_calls_the_library(make_project, model, reported):
    files = {**REQUEST_ID, "app/models/__init__.py": "from .base import Variant\n",
             "app/models/base.py": "from django.db import models\n\n\n" + model}
    code = ("import threading\nfrom typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n"
            "    from app.models import Variant\n\n\n"
            "def _touch(variant: 'Variant') -> None:\n    variant.name = ''\n    variant.save()\n\n\n"
            "def touch(variant):\n    threading.Thread(target=_touch, args=(variant,)).start()\n")
    assert ("PRP201" in codes(make_project(code, {}, files, path="app/jobs.py"))) is reported


# --- generated code ---------------------------------------------------------------------------------------

_CLIENT = ("import httpx\n\n\nclass Client:\n    def __init__(self, base_url, httpx_client=None):\n"
           "        self._client = httpx_client if httpx_client is not None else httpx.Client(base_url=base_url)\n\n"
           "    def get(self, path):\n        return self._client.get(path)\n")


@pytest.mark.parametrize("header, reported", [
    ("# This file was auto-generated by Fern from our API Definition.\n\n", False),
    ("# Generated by the protocol buffer compiler.  DO NOT EDIT!\n# source: api.proto\n\n", False),
    ('"""Code generated by openapi-generator; edits are lost."""\n\n', False),
    ("# The client of the orders API.\n\n", True),  # written by hand: reported
    # a marker after the code starts is a comment about something else (a value the code generated)
    ("", True),
])
def test_a_file_a_tool_generated_is_not_application_code(make_project, header, reported):
    code = header + _CLIENT
    if not header:
        code = _CLIENT.replace("import httpx\n", "import httpx\n\n# the id is auto-generated by the server\n")
    found = codes(make_project(code, {}, OTEL_APP, path="app/client.py"))
    assert ("PRP102" in found) is reported
    assert ("PRP102" in codes(make_project(code, {"scope": "all"}, OTEL_APP, path="app/client.py"))) is True


# --- headers filled by the project's own injector helper ----------------------------------------------------

_PROPAGATION = ("from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator\n\n\n"
                "def inject(headers=None):\n    headers = headers or {}\n"
                "    TraceContextTextMapPropagator().inject(headers)\n    return headers\n")
_FORWARD = ("import httpx\n\nfrom app.propagation import inject\n\n\n"
            "async def forward(url, payload, credentials):\n"
            "    headers = inject({'Authorization': credentials})\n"
            "    async with httpx.AsyncClient(timeout=60.0) as client:\n"
            "        return await client.post(url, json=payload, headers=headers)\n")


@pytest.mark.parametrize("helper, code, reported", [
    (_PROPAGATION, _FORWARD, False),  # every request of the client passes headers the helper filled
    # the twin: the helper injects nothing (it only copies the headers)
    (_PROPAGATION.replace("    TraceContextTextMapPropagator().inject(headers)\n", ""), _FORWARD, True),
    # the twin: a second request of the same client sends no headers
    (_PROPAGATION, _FORWARD.replace("        return await", "        await client.get(url)\n        return await"),
     True),
])
def test_headers_filled_by_the_projects_own_injector_helper_carry_the_trace(make_project, helper, code, reported):
    files = {**OTEL_APP, "app/propagation.py": helper}
    assert ("PRP101" in codes(make_project(code, {}, files, path="app/forward.py"))) is reported


# --- a thread started once per process -------------------------------------------------------------------------

_ONCE = ("import threading\n\nfrom app.ctx import request_id\n\n_started = False\n_lock = threading.Lock()\n\n\n"
         "def _sweep():\n    print(request_id.get())\n\n\n"
         "def sweep_once_in_background():\n    global _started\n    with _lock:\n        if _started:\n"
         "            return None\n        _started = True\n"
         "    thread = threading.Thread(target=_sweep, daemon=True)\n    thread.start()\n    return thread\n")


@pytest.mark.parametrize("change, reported", [
    (("", ""), False),  # guarded by a module-level flag: the first caller's request does not own the sweep
    (("        if _started:\n            return None\n", ""), True),  # the twin: every call starts a thread
    (("        _started = True\n", "        _started = False\n"), True),  # the flag is never set
])
def test_a_thread_a_function_starts_once_per_process_is_long_lived(make_project, change, reported):
    code = _ONCE.replace(*change)
    assert ("PRP201" in codes(make_project(code, {}, REQUEST_ID, path="app/sweep.py"))) is reported


# --- a program of its own that holds no context -----------------------------------------------------------

_BRIDGE = ("#!/usr/bin/env python3\n\"\"\"Dev-only bridge: forwards a vendor's events to the local ingress.\"\"\"\n\n"
           "import os\n\nimport httpx\n\n\n"
           "def main() -> int:\n    forward = httpx.Client(timeout=20)\n"
           "    forward.post(os.environ['INGRESS_URL'], json={})\n    return 0\n\n\n"
           "if __name__ == '__main__':\n    raise SystemExit(main())\n")


@pytest.mark.parametrize("change, reported", [
    (("", ""), False),  # its own process: imports nothing of the project, no tracing SDK, no ContextVar
    (("import httpx\n", "import httpx\n\nfrom app.telemetry import traced\n"), True),  # the project's code runs there
    (("import httpx\n", "import httpx\nfrom opentelemetry import trace\n"), True),  # it traces itself
    (("\n\nif __name__ == '__main__':\n    raise SystemExit(main())\n", ""), True),  # a module, not a program
    # a definition the program never uses is there for importers: a module too
    (("\n\nif __name__ == '__main__':",
      "\n\ndef relay(url):\n    return httpx.post(url)\n\n\nif __name__ == '__main__':"), True),
])
def test_a_program_of_its_own_that_imports_no_tracing_holds_no_context(make_project, change, reported):
    code = _BRIDGE.replace(*change)
    assert ("PRP102" in codes(make_project(code, {}, OTEL_APP, path="app/bridge.py"))) is reported


# --- a thread pool the function makes itself starts its threads from the caller ------------------------------

_SENTRY_OLD = {"Dockerfile": "FROM python:3.12\nCMD [\"python\", \"-m\", \"app\"]\n",
               "requirements.txt": "sentry-sdk==2.28.0\n", "app/__init__.py": ""}  # before executors were wrapped
_POOL = ("import sentry_sdk\nfrom concurrent.futures import ThreadPoolExecutor\n\n\n"
         "def _fetch(repo):\n    with sentry_sdk.start_span(op='fetch'):\n        return repo.upper()\n\n\n"
         "def fetch_all(repos):\n    with ThreadPoolExecutor(max_workers=4) as pool:\n"
         "        return list(pool.map(_fetch, repos))\n")


@pytest.mark.parametrize("code, reported", [
    (_POOL, False),  # Sentry's ThreadingIntegration forks the scope at Thread.start: the pool starts its threads here
    # the twin: a pool kept by the module, whose threads the first caller started
    (_POOL.replace("\n\n\ndef _fetch", "\n_pool = ThreadPoolExecutor(max_workers=4)\n\n\ndef _fetch").replace(
        "    with ThreadPoolExecutor(max_workers=4) as pool:\n        return list(pool.map(",
        "    return list(_pool.map("),
     True),
    # the twin: the pool leaves the function (another object keeps it)
    (_POOL.replace("        return list(pool.map(_fetch, repos))\n",
                   "        register(pool)\n        return list(pool.map(_fetch, repos))\n"), True),
])
def test_a_pool_the_function_makes_itself_starts_its_threads_under_the_sdk_s_thread_patch(make_project, code, reported):
    assert ("PRP203" in codes(make_project(code, {}, _SENTRY_OLD, path="app/jobs.py"))) is reported


@pytest.mark.parametrize("logs", [
    # a log format naming the fields OpenTelemetry's logging instrumentation sets on each record
    "LOGGING = {'formatters': {'x': {'format': '%(message)s trace_id=%(otelTraceID)s'}}}\n",
    # a filter that stamps the current span on each record
    ("import logging\n\nfrom opentelemetry import trace\n\n\nclass TraceFilter(logging.Filter):\n"
     "    def filter(self, record):\n        record.trace_id = trace.get_current_span().get_span_context().trace_id\n"
     "        return True\n"),
])
def test_log_records_stamped_with_the_trace_are_read(make_project, logs):
    files = {**OTEL_APP, "app/logs.py": logs}
    assert "PRP201" in codes(make_project(_LOGS, {}, files, path="app/files.py"))


# --- a task only a data-population helper, run by a command, names --------------------------------------------

_TASK = ("from svc.audit import log_event\nfrom svc.celeryconf import app\n\n\n"
         "@app.task\ndef recalculate_prices_task():\n    log_event('recalculated')\n")
_POPULATE = ("from svc.tasks import recalculate_prices_task\n\n\n"
             "def create_products(n):\n    for _ in range(n):\n        recalculate_prices_task.delay()\n")


@pytest.mark.parametrize("view, reported", [
    ("", False),  # only `populatedb` runs the helper that enqueues the task: no request behind it
    # the twin: a view runs the same helper
    ("from svc.random_data import create_products\n\n\ndef demo(request):\n    create_products(3)\n", True),
])
def test_a_task_only_code_that_tools_reach_enqueues_restores_nothing_it_lost(make_project, view, reported):
    files = {**CELERY, "Dockerfile": "FROM python:3.12\nCMD [\"celery\", \"-A\", \"svc\", \"worker\"]\n",
             "svc/random_data.py": _POPULATE,
             "svc/management/commands/populatedb.py": ("from svc.random_data import create_products\n\n\n"
                                                       "def handle():\n    create_products(10)\n"),
             "svc/views.py": view or "x = 1\n"}
    assert ("PRP302" in codes(make_project(_TASK, {}, files, path="svc/tasks.py"))) is reported


@pytest.mark.parametrize("view, reported", [
    ("", False),  # only the nightly task of another module, which only the beat schedule runs, enqueues it
    # the twin: a view enqueues the nightly task too, so a request may stand behind both
    ("from svc.cleanup import nightly_cleanup_task\n\n\ndef purge(request):\n    nightly_cleanup_task.delay()\n", True),
])
def test_a_task_only_a_scheduled_task_of_another_module_enqueues_restores_nothing_it_lost(make_project, view,
                                                                                           reported):
    cleanup = ("from svc.celeryconf import app\nfrom svc.tasks import recalculate_prices_task\n\n\n"
               "@app.task\ndef nightly_cleanup_task():\n    recalculate_prices_task.delay()\n")
    files = {**CELERY, "Dockerfile": "FROM python:3.12\nCMD [\"celery\", \"-A\", \"svc\", \"worker\"]\n",
             "svc/cleanup.py": cleanup, "svc/views.py": view or "x = 1\n",
             "svc/settings.py": ("CELERY_BEAT_SCHEDULE = {\n    'cleanup': "
                                 "{'task': 'svc.cleanup.nightly_cleanup_task', 'schedule': 3600},\n}\n")}
    assert ("PRP302" in codes(make_project(_TASK, {}, files, path="svc/tasks.py"))) is reported


# --- a ContextVar reset before the hand-off ----------------------------------------------------------------------

_OWN_ID = {"app/__init__.py": "", "Dockerfile": "FROM python:3.12\nCMD [\"uvicorn\", \"app.main:api\"]\n",
           "app/ctx.py": "from contextvars import ContextVar\n\nrequest_id = ContextVar('request_id', default='-')\n"}
_MIDDLEWARE = ("import asyncio\nimport logging\n\nfrom fastapi import FastAPI\n\n"
               "from app.ctx import request_id\n\nlogger = logging.getLogger(__name__)\napi = FastAPI()\n\n\n"
               "def _persist(path):\n    logger.info('persist %s', path)\n\n\n@api.middleware('http')\n"
               "async def log_requests(request, call_next):\n    token = request_id.set(request.headers['x-id'])\n"
               "    try:\n        return await call_next(request)\n    finally:\n        request_id.reset(token)\n"
               "        asyncio.get_running_loop().run_in_executor(None, _persist, request.url.path)\n")


@pytest.mark.parametrize("code, files, reported", [
    (_MIDDLEWARE, _OWN_ID, False),  # the request id is reset before the hand-off: the thread would get '-' anyway
    # the twin: reset after the hand-off, so the request id is current there
    (_MIDDLEWARE.replace("        request_id.reset(token)\n", "").replace(
        "request.url.path)\n", "request.url.path)\n        request_id.reset(token)\n"), _OWN_ID, True),
    # the twin: the unit also traces; a span is current at the hand-off, and it is not reset
    (_MIDDLEWARE, {**_OWN_ID, "app/telemetry.py": OTEL_APP["app/telemetry.py"]}, True),
])
def test_a_context_var_reset_before_the_hand_off_leaves_nothing_to_lose(make_project, code, files, reported):
    assert ("PRP204" in codes(make_project(code, {}, files, path="app/main.py"))) is reported


def test_a_lock_files_archive_names_are_not_distributions(tmp_path):
    from proplint.project_files import scan_text_files
    from proplint.registry import load_catalog

    lock = tmp_path / "uv.lock"
    lock.write_text('[[package]]\nname = "opentelemetry-api"\nversion = "1.43.0"\n'
                    'sdist = { url = "https://files/opentelemetry_api-1.43.0.tar.gz" }\n'
                    'wheels = [{ url = "https://files/opentelemetry_instrumentation-0.64b0-py3-none-any.whl" }]\n'
                    '[[package]]\nname = "opentelemetry-instrumentation-urllib3"\nversion = "0.64b0"\n')
    deps = scan_text_files([lock], load_catalog(), tmp_path)["deps"]
    assert deps == ["opentelemetry-api", "opentelemetry-instrumentation", "opentelemetry-instrumentation-urllib3"]


@pytest.mark.parametrize("where, reported", [
    ("examples/python/01_simple_local.py", False),  # an example's instrumentor says nothing of production
    ("app/instrumentation.py", True),  # the twin: the application turns it on
])
def test_an_instrumentor_only_an_example_turns_on_does_not_make_a_library_read(make_project, where, reported):
    code = ("import threading\n\nimport requests\n\n\n"
            "def _ping(url: str) -> None:\n    requests.get(url, timeout=2)\n\n\n"
            "def ping(url):\n    threading.Thread(target=_ping, args=(url,)).start()\n")
    files = {**OTEL_APP, where: ("from opentelemetry.instrumentation.requests import RequestsInstrumentor\n\n"
                                 "RequestsInstrumentor().instrument()\n")}
    assert ("PRP201" in codes(make_project(code, {}, files, path="app/ping.py"))) is reported
