"""Thread and executor targets that read no context (`core/readers.py`, `core/foreign.py`), and callbacks that
hold none (`families/threads/lifetime.py`). Each class has both sides: the shape quoted from real code, not
reported, and its twin, where the context is really read, still reported."""

from __future__ import annotations

import pytest

OTEL_APP = {"app/__init__.py": "",
            "app/telemetry.py": ("from opentelemetry import trace\n\ntracer = trace.get_tracer('x')\n\n\n"
                                 "def traced(name):\n    return tracer.start_as_current_span(name)\n")}
#: a project whose log records carry its request context (a request ContextVar a log filter can read)
REQUEST_ID = {**OTEL_APP, "app/ctx.py": "import contextvars\n\nrequest_id = contextvars.ContextVar('rid')\n"}


def codes(project):
    return [f.code for f in project.check()]


# --- lambdas an inert call runs, and comprehensions over inert values ----------------------------------

_PRUNE = ("import json\nimport os\nimport threading\nfrom pathlib import Path\n\n\n"
          "def _record(folder: Path, message: dict) -> None:\n"
          "    files = sorted([f for f in folder.glob('*.json')], key=lambda x: x.stat().st_mtime, reverse=True)\n"
          "    for old in files[100:]:\n        old.unlink()\n"
          "    with open(folder / 'last.json', 'w') as f:\n"
          "        json.dump(message, f, default=lambda x: str(x))\n\n\n"
          "def record(folder, message):\n    threading.Thread(target=_record, args=(folder, message)).start()\n")


def test_a_thread_that_sorts_and_writes_files_reads_nothing(make_project):
    assert codes(make_project(_PRUNE, {}, OTEL_APP, path="app/log.py")) == []


@pytest.mark.parametrize("change", [
    # the lambda is handed values the call got from a parameter nobody typed: they may be the project's objects
    ("[f for f in folder.glob('*.json')]", "handlers"),
    # the comprehension iterates over such values
    ("folder.glob('*.json')]", "handlers]"),
    # the lambda itself runs code that may read
    ("x.stat().st_mtime", "x.stat().st_mtime + audit(x)"),
])
def test_a_lambda_or_a_comprehension_over_values_that_may_read_is_reported(make_project, change):
    code = _PRUNE.replace(*change).replace("message: dict) -> None:", "message: dict, handlers=()) -> None:")
    assert codes(make_project(code, {}, OTEL_APP, path="app/log.py")) == ["PRP201"]


def test_a_comprehension_variable_does_not_leak_into_the_function(make_project):
    code = _PRUNE.replace("    for old in files[100:]:\n        old.unlink()\n",
                          "    names = [x for x in folder.iterdir()]\n    x = make_sink()\n    x.write(names)\n")
    assert codes(make_project(code, {}, OTEL_APP, path="app/log.py")) == ["PRP201"]


# --- a debug record is read by nobody where the service runs -------------------------------------------

_DEBUG = ("import logging\nimport os\nimport threading\n\nlogger = logging.getLogger(__name__)\n\n\n"
          "def _cleanup(path: str) -> None:\n    try:\n        os.remove(path)\n    except OSError:\n"
          "        logger.debug('already deleted: %s', path)\n\n\n"
          "def cleanup(path):\n    threading.Thread(target=_cleanup, args=(path,)).start()\n")


def test_a_thread_whose_only_log_record_is_a_debug_one_is_not_reported(make_project):
    assert codes(make_project(_DEBUG, {}, REQUEST_ID, path="app/files.py")) == []
    method = ("import logging\nimport os\nimport threading\n\n\nclass Files:\n"
              "    def __init__(self):\n        self._log = logging.getLogger('files')\n\n"
              "    def _cleanup(self, path: str) -> None:\n        try:\n            os.remove(path)\n"
              "        except OSError:\n            self._log.debug('already deleted: %s', path)\n\n"
              "    def cleanup(self, path):\n        threading.Thread(target=self._cleanup, args=(path,)).start()\n")
    assert codes(make_project(method, {}, REQUEST_ID, path="app/files.py")) == []
    loud = method.replace("self._log.debug(", "self._log.warning(")
    assert codes(make_project(loud, {}, REQUEST_ID, path="app/files.py")) == ["PRP201"]


@pytest.mark.parametrize("level", ["info", "warning", "error", "exception"])
def test_a_thread_that_logs_above_debug_is_reported(make_project, level):
    code = _DEBUG.replace("logger.debug(", f"logger.{level}(")
    assert codes(make_project(code, {}, REQUEST_ID, path="app/files.py")) == ["PRP201"]


def test_a_debug_record_of_another_modules_helper_is_not_a_read(make_project):
    helper = _DEBUG.split("\n\n\ndef cleanup")[0] + "\n"
    code = ("import threading\n\nfrom app.files import _cleanup\n\n\n"
            "def cleanup(path):\n    threading.Thread(target=_cleanup, args=(path,)).start()\n")
    assert codes(make_project(code, {}, {**REQUEST_ID, "app/files.py": helper}, path="app/jobs.py")) == []
    loud = {**REQUEST_ID, "app/files.py": helper.replace("logger.debug(", "logger.warning(")}
    assert codes(make_project(code, {}, loud, path="app/jobs.py")) == ["PRP201"]


def test_a_debug_record_that_reads_a_context_var_in_its_arguments_is_still_a_read(make_project):
    code = _DEBUG.replace("import threading\n", "import threading\n\nfrom app.ctx import request_id\n").replace(
        "logger.debug('already deleted: %s', path)", "logger.debug('already deleted: %s', request_id.get())")
    assert codes(make_project(code, {}, REQUEST_ID, path="app/files.py")) == ["PRP201"]


# --- callbacks a library calls with its own event hold no request of the project's ---------------------

_ADDON = ("import asyncio\nimport logging\nimport socket\n\nfrom mitmproxy import http\n\n"
          "logger = logging.getLogger(__name__)\n\n\n"
          "def destination_is_blocked(host: str, port: int) -> bool:\n    try:\n"
          "        socket.getaddrinfo(host, port)\n    except OSError as exc:\n"
          "        logger.warning('resolution failed %s', exc)\n        return True\n    return False\n\n\n"
          "class GateAddon:\n    async def request(self, flow: http.HTTPFlow) -> None:\n"
          "        if await asyncio.get_running_loop().run_in_executor(\n"
          "                None, destination_is_blocked, flow.request.host, flow.request.port):\n"
          "            flow.response = None\n")


def test_work_a_proxy_addon_hook_submits_is_not_reported(make_project):
    assert codes(make_project(_ADDON, {}, REQUEST_ID, path="app/gate.py")) == []


@pytest.mark.parametrize("change", [
    # the same submit from a method the project's requests call (no library event in its signature)
    ("async def request(self, flow: http.HTTPFlow)", "async def request(self, flow)"),
    # the class sets the project's request ContextVar in a hook: later hooks of the connection hold it
    ("class GateAddon:\n", "class GateAddon:\n    def requestheaders(self, flow: http.HTTPFlow) -> None:\n"
                           "        request_id.set(flow.request.headers.get('x-request-id'))\n\n"),
    # the submit runs inside a scope of the project's, which may make a context current around it
    ("        if await asyncio.get_running_loop().run_in_executor(\n"
     "                None, destination_is_blocked, flow.request.host, flow.request.port):\n",
     "        with tenant_scope(flow):\n            if await asyncio.get_running_loop().run_in_executor(\n"
     "                    None, destination_is_blocked, flow.request.host, flow.request.port):\n    "),
])
def test_a_hook_that_holds_the_projects_context_is_reported(make_project, change):
    code = _ADDON.replace(*change).replace(
        "from mitmproxy import http\n",
        "from mitmproxy import http\n\nfrom app.ctx import request_id\nfrom app.scope import tenant_scope\n")
    files = {**REQUEST_ID, "app/scope.py": "def tenant_scope(flow):\n    return open(flow)\n"}
    assert codes(make_project(code, {}, files, path="app/gate.py")) == ["PRP204"]


# --- the project's database helpers in other modules (`core/foreign.py`) --------------------------------

_DB = ("from psycopg import Cursor\nfrom psycopg.rows import DictRow\nfrom psycopg_pool import ConnectionPool\n\n"
       "from app.errors import MigrationError\n\n"
       "pool: ConnectionPool[DictRow] = ConnectionPool('dbname=app', open=False)\n\n\n"
       "def new_conn():\n    if pool.closed:\n        pool.open()\n    return pool.connection()\n\n\n"
       "def indices(curs: Cursor[DictRow] | None) -> list[int]:\n"
       "    if rows := curs.execute('SELECT idx FROM version WHERE state != %s', (State.DONE,)).fetchall():\n"
       "        return [row.get('idx', 0) for row in rows]\n"
       "    raise MigrationError('no index')\n")
_ERRORS = "class AppError(Exception):\n    pass\n\n\nclass MigrationError(AppError):\n    pass\n"
_MIGRATE = ("import threading\n\nfrom app import db\n\n\n"
            "def _migrate() -> None:\n    with db.new_conn() as conn:\n        with conn.cursor() as curs:\n"
            "            db.indices(curs)\n\n\n"
            "def migrate():\n    threading.Thread(target=_migrate).start()\n")


def _db_files(db: str = _DB, errors: str = _ERRORS) -> dict[str, str]:
    return {**OTEL_APP, "app/db.py": "from app.state import State\n" + db, "app/errors.py": errors,
            "app/state.py": "import enum\n\n\nclass State(enum.Enum):\n    DONE = 'done'\n"}


def test_a_thread_running_sql_through_the_projects_uninstrumented_database_helpers_reads_nothing(make_project):
    assert codes(make_project(_MIGRATE, {}, _db_files(), path="app/migrate.py")) == []


@pytest.mark.parametrize("db, errors", [
    # the driver is instrumented in the unit: its spans would lose their parent
    (_DB + "\n\nfrom opentelemetry.instrumentation.psycopg import PsycopgInstrumentor\n\n"
           "PsycopgInstrumentor().instrument()\n", _ERRORS),
    # the module-level pool is the project's own class, which may do anything
    (_DB.replace("pool: ConnectionPool[DictRow] =", "pool: AuditedPool =").replace(
        "from app.errors import MigrationError\n", "from app.errors import AuditedPool, MigrationError\n"),
     _ERRORS + "\n\nclass AuditedPool:\n    closed = True\n"),
    # the exception's base runs the project's code that starts a span
    (_DB, _ERRORS.replace("class AppError(Exception):\n    pass\n",
                          "from app.telemetry import traced\n\n\nclass AppError(Exception):\n"
                          "    def __init__(self, msg):\n        with traced('error'):\n"
                          "            super().__init__(msg)\n")),
])
def test_a_database_helper_that_may_read_is_reported(make_project, db, errors):
    assert codes(make_project(_MIGRATE, {}, _db_files(db, errors), path="app/migrate.py")) == ["PRP201"]


# --- callables an object keeps ----------------------------------------------------------------------------

_SHUTDOWN = ("import logging\nimport threading\n\n_LOGGER = logging.getLogger(__name__)\n\n\nclass Manager:\n"
             "    def __init__(self):\n        self._close_callbacks = []\n        self._pending = []\n\n"
             "    def _shutdown(self, reason=None) -> None:\n        _LOGGER.debug('stopping')\n"
             "        for msg in self._pending:\n            msg.nack()\n"
             "        for callback in self._close_callbacks:\n            callback(self, reason)\n\n"
             "    def close(self, reason=None):\n"
             "        threading.Thread(target=self._shutdown, kwargs={'reason': reason}).start()\n")


def test_a_thread_that_runs_the_callbacks_its_object_keeps_is_reported(make_project):
    assert codes(make_project(_SHUTDOWN, {}, REQUEST_ID, path="app/manager.py")) == ["PRP201"]
    # the twin: only methods of the values it keeps (a library's message objects), and a debug record
    quiet = _SHUTDOWN.replace("        for callback in self._close_callbacks:\n"
                              "            callback(self, reason)\n", "")
    assert codes(make_project(quiet, {}, REQUEST_ID, path="app/manager.py")) == []
