"""The relevance model (`core/relevance.py`): a boundary is reported only where a context can exist on the
caller's side and someone downstream can read it. Each class has both sides: the shape real code has
where nothing can be lost (VALID: no finding) and its twin where the context is really lost."""

from __future__ import annotations

import pytest

from proplint.core.relevance import path_kind

THREAD = "import threading\n\n\ndef handle(job):\n    threading.Thread(target=job).start()\n"
REQUESTS = "import requests\n\n\ndef notify(body):\n    return requests.post(SERVICE_URL, json=body)\n"
OTEL_APP = {"app/__init__.py": "", "app/telemetry.py": ("from opentelemetry import trace\n\ntracer = trace.get_tracer('x')\n\n\n"
                                                       "def traced(name):\n    return tracer.start_as_current_span(name)\n")}
DOCKER = {"Dockerfile": "FROM python:3.12\nCMD [\"python\", \"-m\", \"app\"]\n"}


def codes(project):
    return [f.code for f in project.check()]


# --- where the code runs -----------------------------------------------------------------------------


@pytest.mark.parametrize("relpath, kind", [
    ("tests/test_api.py", "test"), ("app/tests/helpers.py", "test"), ("conftest.py", "test"),
    ("src/app/test_x.py", "test"), ("app/x_test.py", "test"), ("scripts/backfill.py", "script"),
    ("bin/run.py", "script"), ("examples/demo.py", "example"), ("docs/conf.py", "example"),
    ("benchmarks/run.py", "benchmark"), ("setup.py", "script"), ("manage.py", "script"),
    ("svc/cli/auth.py", "cli"), ("app/management/commands/sync.py", "cli"),
    ("svc/circuit_breaker_example.py", "example"),
    ("app/handlers.py", None), ("app/commands/create.py", None), ("app/testing_tools.py", None),
    ("app/contest.py", None), ("svc/latest.py", None),
])
def test_path_kind(relpath, kind):
    assert path_kind(relpath) == kind


def test_test_and_script_files_are_not_reported_by_default(make_project):
    files = {"tests/test_jobs.py": THREAD, "scripts/backfill.py": THREAD, **OTEL_APP}
    project = make_project(THREAD, {}, files, path="app/jobs.py")
    assert [(f.path.split("/")[-2], f.code) for f in project.check_all()] == [("app", "PRP201")]


def test_scope_all_reports_everywhere(make_project):
    files = {"tests/test_jobs.py": THREAD, **OTEL_APP}
    project = make_project(THREAD, {"scope": "all"}, files, path="app/jobs.py")
    assert sorted(f.path.split("/")[-2] for f in project.check_all()) == ["app", "tests"]


def test_main_block_fixture_and_cli_regions_are_not_application_code(make_project):
    code = (
        "import argparse\nimport threading\n\nimport pytest\n\n\n"
        "def handle(job):\n    threading.Thread(target=job).start()  # application code\n\n\n"
        "@pytest.fixture\ndef worker():\n    t = threading.Thread(target=print)\n    t.start()\n    yield t\n\n\n"
        "if __name__ == '__main__':\n    threading.Thread(target=print).start()\n"
    )
    project = make_project(code, {}, OTEL_APP, path="app/jobs.py")
    assert [(f.code, f.line) for f in project.check()] == [("PRP201", 8)]


def test_a_command_line_tool_is_not_application_code_but_a_server_main_is(make_project):
    tool = ("import argparse\nimport threading\n\n\ndef handle(job):\n    threading.Thread(target=job).start()\n\n\n"
            "def main():\n    parser = argparse.ArgumentParser()\n    handle(parser.parse_args().job)\n")
    assert codes(make_project(tool, {}, OTEL_APP, path="app/admin.py")) == []
    server = "import fastapi\n" + tool
    assert codes(make_project(server, {}, OTEL_APP, path="app/main.py")) == ["PRP201"]


def test_sentry_as_the_only_context_carries_threads_but_not_request_vars(make_project):
    sentry = {"requirements.txt": "sentry-sdk==2.40.0\n"}
    assert codes(make_project(THREAD, {}, {**DOCKER, **sentry}, path="app/jobs.py")) == []
    request_id = {"app/__init__.py": "", "app/ctx.py": "import contextvars\n\nrequest_id = contextvars.ContextVar('rid')\n"}
    assert codes(make_project(THREAD, {}, {**DOCKER, **sentry, **request_id}, path="app/jobs.py")) == ["PRP201"]


def test_click_commands_are_cli_regions(make_project):
    code = ("import threading\n\nimport click\n\n\n@click.command()\ndef sync():\n"
            "    threading.Thread(target=print).start()\n\n\n"
            "def handle(job):\n    threading.Thread(target=job).start()\n")
    # a module of click commands is a command-line tool
    assert [f.line for f in make_project(code, {}, OTEL_APP, path="app/ops.py").check()] == []
    # in a module that also serves requests, only the command is
    served = "import fastapi\n" + code
    assert [f.line for f in make_project(served, {}, OTEL_APP, path="app/ops.py").check()] == [13]


# --- is there any context in the project? ----------------------------------------------------------------


def test_a_deployed_service_without_tracing_or_request_context_has_nothing_to_lose(make_project):
    assert codes(make_project(THREAD, {}, DOCKER, path="app/jobs.py")) == []
    # a ContextVar that is not a request's (a service locator) does not change that
    locator = {"app/__init__.py": "", "app/ctx.py": "import contextvars\n\nmanager = contextvars.ContextVar('manager')\n"}
    assert codes(make_project(THREAD, {}, {**DOCKER, **locator}, path="app/jobs.py")) == []


@pytest.mark.parametrize("evidence", [
    OTEL_APP,
    {"app/__init__.py": "", "app/ctx.py": "import contextvars\n\nrequest_id = contextvars.ContextVar('request_id')\n"},
    {"Dockerfile": "FROM python:3.12\nCMD [\"opentelemetry-instrument\", \"python\", \"-m\", \"app\"]\n"},
    {"app/__init__.py": "", "app/log.py": "from structlog.contextvars import bind_contextvars\n"},
    {"app/__init__.py": "", "app/main.py": ("from fastapi import FastAPI\n"
                                            "from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor\n\n"
                                            "app = FastAPI()\nFastAPIInstrumentor.instrument_app(app)\n")},
])
def test_a_deployed_service_with_a_context_keeps_its_findings(make_project, evidence):
    assert codes(make_project(THREAD, {}, {**DOCKER, **evidence}, path="app/jobs.py")) == ["PRP201"]


@pytest.mark.parametrize("setup", [
    # OpenTelemetry among the dependencies, imported, a provider set up: no span is ever started
    {"requirements.txt": "opentelemetry-sdk==1.27.0\n"},
    {"app/__init__.py": "", "app/telemetry.py": ("from opentelemetry import trace\n"
                                                 "from opentelemetry.sdk.trace import TracerProvider\n\n"
                                                 "trace.set_tracer_provider(TracerProvider())\n")},
    # a client interceptor reads a context; it makes none
    {"app/__init__.py": "", "app/rpc.py": ("from opentelemetry.instrumentation.grpc import aio_client_interceptors\n\n"
                                           "INTERCEPTORS = aio_client_interceptors()\n")},
])
def test_a_deployed_service_that_starts_no_span_has_nothing_to_lose(make_project, setup):
    assert codes(make_project(THREAD, {}, {**DOCKER, **setup}, path="app/jobs.py")) == []


def test_each_deploy_unit_of_a_monorepo_has_its_own_context(make_project):
    """`orders/` starts spans; `mailer/` only sets up a provider: only `orders/` can lose a context."""
    files = {"docker-compose.yml": "services: {}\n",
             "orders/Dockerfile": DOCKER["Dockerfile"], "orders/app/__init__.py": "",
             "orders/app/telemetry.py": OTEL_APP["app/telemetry.py"],
             "orders/app/jobs.py": THREAD,
             "mailer/Dockerfile": DOCKER["Dockerfile"], "mailer/app/__init__.py": "",
             "mailer/app/telemetry.py": ("from opentelemetry import trace\nfrom opentelemetry.sdk.trace import TracerProvider\n\n"
                                         "trace.set_tracer_provider(TracerProvider())\n")}
    assert codes(make_project(THREAD, {}, files, path="mailer/app/jobs.py")) == []
    assert codes(make_project(THREAD, {}, files, path="orders/app/jobs2.py")) == ["PRP201"]


def test_a_unit_uses_the_tracing_of_the_shared_code_it_imports(make_project):
    """A service whose tracing is a shared library's helper (`from shared_obs.tracing import traced`)."""
    files = {"docker-compose.yml": "services: {}\n",
             "libs/shared_obs/__init__.py": "", "libs/shared_obs/tracing.py": OTEL_APP["app/telemetry.py"],
             "svc/Dockerfile": DOCKER["Dockerfile"], "svc/app/__init__.py": "",
             "svc/app/main.py": "from shared_obs.tracing import traced\n"}
    assert codes(make_project(THREAD, {}, files, path="svc/app/jobs.py")) == ["PRP201"]
    files["svc/app/main.py"] = "import json\n"
    assert codes(make_project(THREAD, {}, files, path="svc/app/jobs.py")) == []


def test_a_library_can_always_lose_its_callers_context(make_project):
    """No deployment files: the application importing it may hold a context."""
    assert codes(make_project(THREAD, {}, {}, path="lib/jobs.py")) == ["PRP201"]


def test_tracing_imported_only_by_tests_is_no_evidence(make_project):
    tests_only = {"tests/test_t.py": "from opentelemetry import trace\n"}
    assert codes(make_project(THREAD, {}, {**DOCKER, **tests_only}, path="app/jobs.py")) == []


# --- other SDKs carry some boundaries ---------------------------------------------------------------------

SENTRY_APP = {"app/__init__.py": "", "app/monitoring.py": "import sentry_sdk\n\nsentry_sdk.init(dsn='x')\n"}


def test_sentry_as_the_only_tracing_carries_requests(make_project):
    assert codes(make_project(REQUESTS, {}, {**DOCKER, **SENTRY_APP}, path="app/notify.py")) == []


def test_sentry_next_to_opentelemetry_does_not_carry_the_otel_trace(make_project):
    """OpenTelemetry that crosses processes (here: a carrier injected into messages) is not Sentry's."""
    crossing = OTEL_APP["app/telemetry.py"] + ("\n\nfrom opentelemetry.propagate import inject\n\n\n"
                                               "def carrier():\n    c = {}\n    inject(c)\n    return c\n")
    assert codes(make_project(REQUESTS, {}, {**DOCKER, **SENTRY_APP, "app/telemetry.py": crossing},
                              path="app/notify.py")) == ["PRP103"]


def test_opentelemetry_spans_kept_inside_one_process_leave_the_boundary_to_sentry(make_project):
    """Spans around in-process work (no carrier, no instrumentation, no launcher): Sentry is what crosses."""
    assert codes(make_project(REQUESTS, {}, {**DOCKER, **SENTRY_APP, "app/telemetry.py": OTEL_APP["app/telemetry.py"]},
                              path="app/notify.py")) == []


# --- boundaries that leave the system ---------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    "requests.post('https://hooks.slack.com/services/x', json=body)",
    "requests.post(API + '/collect', data=body)",
    "requests.get(f'{API}/user', headers=body)",
])
def test_a_call_to_a_public_host_leaves_the_system(make_project, call):
    code = f"import requests\n\nAPI = 'https://api.github.com'\n\n\ndef notify(body):\n    return {call}\n"
    assert codes(make_project(code, {}, OTEL_APP, path="app/notify.py")) == []


@pytest.mark.parametrize("url", ["http://orders:8000/api", "http://orders.svc.cluster.local/x",
                                 "http://localhost:9000/x", "http://10.0.0.5/x"])
def test_a_call_to_one_of_our_services_is_reported(make_project, url):
    code = f"import requests\n\n\ndef notify(body):\n    return requests.post({url!r}, json=body)\n"
    assert codes(make_project(code, {}, OTEL_APP, path="app/notify.py")) == ["PRP103"]


def test_a_url_constant_of_another_module_is_followed(make_project):
    files = {**OTEL_APP, "app/urls.py": "GITHUB = 'https://api.github.com/'\n"}
    code = "import requests\n\nfrom app.urls import GITHUB\n\n\ndef get(path):\n    return requests.get(GITHUB + path)\n"
    assert codes(make_project(code, {}, files, path="app/gh.py")) == []


def test_vendor_integration_modules_leave_the_system(make_project):
    assert codes(make_project(REQUESTS, {}, OTEL_APP, path="app/integrations/slack.py")) == []
    assert codes(make_project(REQUESTS, {}, OTEL_APP, path="app/billing.py")) == ["PRP103"]


def test_external_hosts_are_declared_once_in_the_config(make_project):
    code = "import requests\n\n\ndef notify(body):\n    return requests.post('http://partner-gw:8080/x', json=body)\n"
    assert codes(make_project(code, {}, OTEL_APP, path="app/notify.py")) == ["PRP103"]
    assert codes(make_project(code, {"external": {"hosts": ["partner-*"]}}, OTEL_APP, path="app/notify.py")) == []


# --- the configuration's place -----------------------------------------------------------------------------


def test_a_pyproject_without_the_table_does_not_hide_the_parents(tmp_path):
    from proplint.config import find_pyproject

    (tmp_path / ".git").mkdir()
    (tmp_path / "pyproject.toml").write_text("[tool.proplint]\nselect = ['PRP2']\n")
    service = tmp_path / "services" / "orders"
    service.mkdir(parents=True)
    (service / "pyproject.toml").write_text("[project]\nname = 'orders'\n")
    assert find_pyproject(service) == tmp_path / "pyproject.toml"
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'mono'\n")
    assert find_pyproject(service) == tmp_path / "pyproject.toml"  # the work tree is the project
    (service / "pyproject.toml").write_text("[tool.proplint]\n")
    assert find_pyproject(service) == service / "pyproject.toml"


def test_a_module_shadowed_by_a_package_of_the_same_name_is_not_checked(make_project):
    """`app/jobs.py` next to a package `app/jobs/`: Python imports the package; the module never runs."""
    files = {**DOCKER, **OTEL_APP, "app/jobs/__init__.py": ""}
    assert codes(make_project(THREAD, {}, files, path="app/jobs.py")) == []
    assert codes(make_project(THREAD, {}, {**DOCKER, **OTEL_APP}, path="app/jobs.py")) == ["PRP201"]


# --- reached code (`core/reach.py`): code nothing in the application refers to never runs with a request ----

_REACH_APP = {**DOCKER, **OTEL_APP}


def test_a_private_helper_nobody_calls_is_not_reported(make_project):
    dead = "import threading\n\n\ndef _old_fanout(job):  # no longer used\n    threading.Thread(target=job).start()\n"
    assert codes(make_project(dead, {}, OTEL_APP, path="app/jobs.py")) == []
    # the twin: the same helper called from the module's request handler
    called = dead + "\n\ndef handle(job):\n    _old_fanout(job)\n"
    assert codes(make_project(called, {}, OTEL_APP, path="app/jobs.py")) == ["PRP201"]


def test_a_private_module_variable_nobody_reads_is_not_reported(make_project):
    code = "import threading\n\n_context = threading.local()\n\n\nasync def handle(request):\n    pass\n"
    assert codes(make_project(code, {}, OTEL_APP, path="app/jobs.py")) == []
    used = code + "\n\nasync def remember(request):\n    _context.user = request.user\n"
    assert codes(make_project(used, {}, OTEL_APP, path="app/jobs.py")) == ["PRP403"]


def test_a_class_only_its_tests_import_is_not_reported_in_a_service(make_project):
    code = ("from concurrent.futures import ThreadPoolExecutor\n\n\nclass Delegator:\n"
            "    def run(self, fn):\n        with ThreadPoolExecutor() as pool:\n            return pool.submit(fn)\n")
    only_tests = {**_REACH_APP, "tests/test_delegator.py": "from app.delegator import Delegator\n"}
    assert codes(make_project(code, {}, only_tests, path="app/delegator.py")) == []
    # the twin: the application imports it
    used = {**only_tests, "app/api.py": "from app.delegator import Delegator\n\nDELEGATOR = Delegator()\n"}
    assert codes(make_project(code, {}, used, path="app/delegator.py")) == ["PRP203"]
    # a module attribute, a dotted string or a `module:attr` entry point reaches it as well
    for caller in ("from app import delegator\n\nd = delegator.Delegator()\n",
                   "SETTINGS = {'delegator': 'app.delegator.Delegator'}\n"):
        reached = {**only_tests, "app/api.py": caller}
        assert codes(make_project(code, {}, reached, path="app/delegator.py")) == ["PRP203"], caller


def test_public_code_of_a_library_or_of_a_module_nothing_imports_is_judged_reached(make_project):
    code = "import threading\n\n\ndef fanout(job):\n    threading.Thread(target=job).start()\n"
    # a library (no deployment files): its public functions are its users' to call
    library = {**OTEL_APP, "tests/test_jobs.py": "from app.jobs import fanout\n"}
    assert codes(make_project(code, {}, library, path="app/jobs.py")) == ["PRP201"]
    # a service module nothing imports may be an entry point run by name (a Lambda handler)
    assert codes(make_project(code, {}, _REACH_APP, path="app/jobs.py")) == ["PRP201"]
    # an entry point named in a deployment file is reached
    named = {**_REACH_APP, "app/api.py": "from app import jobs\n", "serverless.yml": "handler: app.jobs.fanout\n"}
    assert codes(make_project(code, {}, named, path="app/jobs.py")) == ["PRP201"]
    unnamed = {**_REACH_APP, "app/api.py": "from app import jobs\n"}
    assert codes(make_project(code, {}, unnamed, path="app/jobs.py")) == []


def test_decorated_code_is_reached_by_its_decorator(make_project):
    code = ("import threading\n\nfrom fastapi import APIRouter\n\nrouter = APIRouter()\n\n\n"
            "@router.post('/jobs')\ndef _create(job):\n    threading.Thread(target=job).start()\n")
    assert codes(make_project(code, {}, OTEL_APP, path="app/jobs.py")) == ["PRP201"]


# --- reached only by command-line tools, scripts and tests ------------------------------------------------


def test_code_only_a_command_line_tool_reaches_is_not_reported_on_the_callers_side(make_project):
    code = ("import threading\n\n\ndef _start(job):\n    threading.Thread(target=job).start()\n\n\n"
            "def backfill(jobs):\n    for job in jobs:\n        _start(job)\n")
    tool = {**_REACH_APP, "app/api.py": "from app import jobs\n",
            "app/cli/backfill.py": "from app.jobs import backfill\n\nbackfill([])\n"}
    # `backfill` runs in the tool's process, and `_start` only from `backfill`: no request there
    assert codes(make_project(code, {}, tool, path="app/jobs.py")) == []
    # the twin: the application calls it too
    app = {**tool, "app/api.py": "from app.jobs import backfill\n"}
    assert codes(make_project(code, {}, app, path="app/jobs.py")) == ["PRP201"]


def test_a_tool_reached_function_that_starts_a_span_or_registers_routes_is_kept(make_project):
    starts = ("import threading\n\nfrom opentelemetry import trace\n\ntracer = trace.get_tracer('x')\n\n\n"
              "def backfill(job):\n    with tracer.start_as_current_span('backfill'):\n"
              "        threading.Thread(target=job).start()\n")
    tool = {**_REACH_APP, "app/api.py": "from app import jobs\n",
            "scripts/backfill.py": "from app.jobs import backfill\n"}
    assert codes(make_project(starts, {}, tool, path="app/jobs.py")) == ["PRP201"]
    routes = ("import threading\n\nfrom fastapi import FastAPI\n\n\ndef create_app():\n    app = FastAPI()\n\n"
              "    @app.post('/jobs')\n    def create(job):\n        threading.Thread(target=job).start()\n\n"
              "    return app\n")
    served = {**_REACH_APP, "app/api.py": "from app import jobs\n",
              "app/cli/serve.py": "from app.jobs import create_app\n"}
    assert codes(make_project(routes, {}, served, path="app/jobs.py")) == ["PRP201"]


# --- a tracing SDK carries the trace: what else is lost must be read to matter ----------------------------

_SENTRY_WITH_REQUEST_ID = {**DOCKER, "requirements.txt": "sentry-sdk==2.45.0\n", "app/__init__.py": "",
                           "app/ctx.py": "import contextvars\n\nrequest_id = contextvars.ContextVar('rid')\n"}


def test_an_sdk_carried_thread_whose_target_reads_no_request_context_is_not_reported(make_project):
    quiet = ("import threading\nimport hashlib\n\n\ndef _digest(data):\n    return hashlib.sha256(data).hexdigest()\n\n\n"
             "def handle(data):\n    threading.Thread(target=_digest, args=(data,)).start()\n")
    assert codes(make_project(quiet, {}, _SENTRY_WITH_REQUEST_ID, path="app/jobs.py")) == []
    # the twins: the target logs (the project's logs carry its request id), or reads the ContextVar itself
    logs = quiet.replace("    return hashlib", "    logger.info('digest')\n    return hashlib").replace(
        "import hashlib\n", "import hashlib\nimport logging\n\nlogger = logging.getLogger(__name__)\n")
    assert codes(make_project(logs, {}, _SENTRY_WITH_REQUEST_ID, path="app/jobs.py")) == ["PRP201"]
    reads = quiet.replace("import hashlib\n", "import hashlib\n\nfrom app.ctx import request_id\n").replace(
        "    return hashlib", "    print(request_id.get())\n    return hashlib")
    assert codes(make_project(reads, {}, _SENTRY_WITH_REQUEST_ID, path="app/jobs.py")) == ["PRP201"]


def test_an_sdk_carried_executor_running_a_library_function_is_not_reported(make_project):
    code = ("import zlib\nfrom concurrent.futures import ThreadPoolExecutor\n\nexecutor = ThreadPoolExecutor()\n\n\n"
            "def pack(body):\n    return executor.submit(zlib.compress, body)\n")
    assert codes(make_project(code, {}, _SENTRY_WITH_REQUEST_ID, path="app/jobs.py")) == []
    older = {**_SENTRY_WITH_REQUEST_ID, "requirements.txt": "sentry-sdk==2.40.0\n"}  # before executors were wrapped
    assert codes(make_project(code, {}, older, path="app/jobs.py")) == ["PRP203"]


# --- a unit's context comes from the shared modules it loads, not from the whole shared library ---------


def test_a_unit_gets_the_tracing_of_the_shared_modules_it_loads_only(make_project):
    files = {"docker-compose.yml": "services: {}\n",
             "libs/shared_obs/__init__.py": "", "libs/shared_obs/tracing.py": OTEL_APP["app/telemetry.py"],
             "libs/shared_obs/jsonutil.py": "import json\n\n\ndef dumps(x):\n    return json.dumps(x)\n",
             "svc/Dockerfile": DOCKER["Dockerfile"], "svc/app/__init__.py": "",
             "svc/app/main.py": "from shared_obs.jsonutil import dumps\n",
             "other/Dockerfile": DOCKER["Dockerfile"], "other/app/__init__.py": "",
             "other/app/main.py": "from shared_obs.tracing import traced\n"}
    assert codes(make_project(THREAD, {}, files, path="svc/app/jobs.py")) == []
    # the twin: the package's `__init__.py` imports the tracing module, so loading any module of it loads it
    files["libs/shared_obs/__init__.py"] = "from .tracing import traced\n"
    assert codes(make_project(THREAD, {}, files, path="svc/app/jobs.py")) == ["PRP201"]


def test_opentelemetry_spans_kept_inside_one_process_still_need_a_thread_to_carry_them(make_project):
    """Sentry carries the thread, but the project's in-process OpenTelemetry spans (a tool span around a
    language-model call) are lost by a raw thread all the same."""
    traced = ("import threading\n\nfrom app.telemetry import traced\n\n\ndef _work(data):\n"
              "    with traced('work'):\n        return len(data)\n\n\n"
              "def handle(data):\n    threading.Thread(target=_work, args=(data,)).start()\n")
    files = {**_SENTRY_WITH_REQUEST_ID, "app/telemetry.py": OTEL_APP["app/telemetry.py"]}
    assert codes(make_project(traced, {}, files, path="app/jobs.py")) == ["PRP201"]


# --- the project's functions in other modules (`core/foreign.py`) ---------------------------------------

_STATS = ("import statistics\n\n\ndef summary(values: list):\n    mean = statistics.mean(values)\n"
          "    spread = statistics.pstdev(values)\n    return {'mean': round(mean, 3), 'spread': spread}\n")


def test_a_worker_running_project_code_of_another_module_that_reads_nothing_is_not_reported(make_project):
    code = ("import threading\n\nfrom app import stats\nfrom app.stats import summary\n\n\n"
            "def _work(values):\n    return stats.summary(values)\n\n\n"
            "def handle(values):\n    threading.Thread(target=_work, args=(values,)).start()\n"
            "    threading.Thread(target=summary, args=(values,)).start()\n")
    files = {**OTEL_APP, "app/stats.py": _STATS}
    assert codes(make_project(code, {}, files, path="app/jobs.py")) == []
    # the twins: the helper of the other module starts a span, or calls one that does
    traced = {**files, "app/stats.py": "from app.telemetry import traced\n\n\n" + _STATS.replace(
        "    mean =", "    with traced('summary'):\n        pass\n    mean =")}
    assert codes(make_project(code, {}, traced, path="app/jobs.py")) == ["PRP201", "PRP201"]
    deeper = {**files, "app/stats.py": "from app import audit\n\n\n" + _STATS.replace(
        "    mean =", "    audit.record(values)\n    mean ="),
        "app/audit.py": "from app.telemetry import traced\n\n\ndef record(values):\n    with traced('x'):\n        pass\n"}
    assert codes(make_project(code, {}, deeper, path="app/jobs.py")) == ["PRP201", "PRP201"]


def test_a_process_pool_running_a_static_method_of_its_own_class_is_followed(make_project):
    code = ("import multiprocessing\n\nfrom app import stats\n\n\nclass Compare:\n"
            "    @staticmethod\n    def _task(values):\n        return stats.summary(values)\n\n"
            "    def run(self, chunks):\n        with multiprocessing.Pool() as pool:\n"
            "            return pool.map(Compare._task, chunks)\n")
    files = {**_REACH_APP, "app/stats.py": _STATS, "app/api.py": "from app.jobs import Compare\n"}
    assert codes(make_project(code, {}, files, path="app/jobs.py")) == []
    unknown = {**files, "app/stats.py": _STATS.replace("    mean =", "    values.owner.notify()\n    mean =")}
    assert codes(make_project(code, {}, unknown, path="app/jobs.py")) == ["PRP206"]


def test_work_a_metrics_scrape_submits_is_not_reported(make_project):
    code = ("from concurrent.futures import ThreadPoolExecutor\n\nfrom prometheus_client.registry import Collector\n\n"
            "from app.telemetry import traced\n\n\nclass QueueDepth(Collector):\n"
            "    def __init__(self):\n        self._pool = ThreadPoolExecutor(1)\n\n"
            "    def _measure(self):\n        with traced('measure'):\n            return 1\n\n"
            "    def collect(self):\n        yield self._pool.submit(self._measure).result()\n")
    files = {**_REACH_APP, "app/api.py": "from app.jobs import QueueDepth\n"}
    assert codes(make_project(code, {}, files, path="app/jobs.py")) == []
    # the twin: the same submit from a method a request calls
    request = code.replace("    def collect(self):", "    def refresh(self):")
    assert codes(make_project(request, {}, files, path="app/jobs.py")) == ["PRP203"]


def test_a_typed_attribute_s_project_method_is_followed_and_a_protocol_is_not_trusted(make_project):
    code = ("import threading\n\nfrom app.stats import Summariser\n\n\nclass Jobs:\n"
            "    def __init__(self, summariser: Summariser):\n        self.summariser = summariser\n\n"
            "    def _work(self, values):\n        return self.summariser.summary(values)\n\n"
            "    def handle(self, values):\n        threading.Thread(target=self._work, args=(values,)).start()\n")
    quiet = "import statistics\n\n\nclass Summariser:\n    def summary(self, values):\n" \
            "        return statistics.mean(values)\n"
    files = {**_REACH_APP, "app/stats.py": quiet, "app/api.py": "from app.jobs import Jobs\n"}
    assert codes(make_project(code, {}, files, path="app/jobs.py")) == []
    traced = {**files, "app/stats.py": "from app.telemetry import traced\n\n\nclass Summariser:\n"
                                       "    def summary(self, values):\n        with traced('s'):\n            return 1\n"}
    assert codes(make_project(code, {}, traced, path="app/jobs.py")) == ["PRP201"]
    # a protocol's method body (`...`) says nothing of the implementation that runs
    protocol = {**files, "app/stats.py": "from typing import Protocol\n\n\nclass Summariser(Protocol):\n"
                                         "    def summary(self, values):\n        ...\n"}
    assert codes(make_project(code, {}, protocol, path="app/jobs.py")) == ["PRP201"]


def test_a_package_reexport_does_not_make_tool_only_code_reached_by_the_application(make_project):
    code = "import threading\n\n\ndef start_listeners(jobs):\n    for job in jobs:\n        threading.Thread(target=job).start()\n"
    files = {**_REACH_APP, "app/pulse/__init__.py": "from .listeners import start_listeners\n\n__all__ = ['start_listeners']\n",
             "app/api.py": "from app import pulse\n",
             "app/management/commands/listen.py": "from app.pulse import start_listeners\n\nstart_listeners([])\n"}
    assert codes(make_project(code, {}, files, path="app/pulse/listeners.py")) == []
    used = {**files, "app/api.py": "from app.pulse import start_listeners\n"}
    assert codes(make_project(code, {}, used, path="app/pulse/listeners.py")) == ["PRP201"]


def test_an_sdk_carried_executor_running_a_method_of_a_library_typed_parameter_is_not_reported(make_project):
    code = ("from concurrent.futures import ThreadPoolExecutor\n\n"
            "from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool\n\n\n"
            "def send(executor: ThreadPoolExecutor, pool: HTTPConnectionPool | HTTPSConnectionPool, body):\n"
            "    return executor.submit(pool.urlopen, 'POST', '/', body=body)\n")
    assert codes(make_project(code, {}, _SENTRY_WITH_REQUEST_ID, path="app/jobs.py")) == []
    # the twin: a parameter of the project's own class may run the project's code, which may read the context
    own = code.replace("from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool",
                       "from app.pools import HTTPConnectionPool, HTTPSConnectionPool")
    pools = {**_SENTRY_WITH_REQUEST_ID,
             "app/pools.py": "class HTTPConnectionPool:\n    def urlopen(self, *a, **k):\n        pass\n\n\n"
                             "class HTTPSConnectionPool(HTTPConnectionPool):\n    pass\n"}
    assert codes(make_project(own, {}, pools, path="app/jobs.py")) == ["PRP203"]


# --- hidden folders, migrations and tasks nothing with a context enqueues -------------------------------


@pytest.mark.parametrize("relpath, kind", [
    (".semgrep/security/requests/no-use-requests-lib.py", "tooling"), (".github/scripts/notify.py", "tooling"),
    ("app/orders/migrations/0139_fix_totals.py", "migration"), ("app/orders/migrations/tasks/v3_20.py", "migration"),
    ("alembic/versions/0001_init.py", "migration"), ("app/migration_utils.py", None), ("app/.hidden.py", None),
])
def test_hidden_folders_and_migrations_are_not_application_code(relpath, kind):
    assert path_kind(relpath) == kind


CELERY_APP = {"svc/__init__.py": "", "svc/celeryconf.py": "from celery import Celery\n\napp = Celery('svc')\n",
              "svc/tracing.py": "from opentelemetry.propagate import extract, inject\n\n\ndef carrier():\n"
                                "    c = {}\n    inject(c)\n    return c\n",
              "svc/models.py": "def log_event(name):\n    from svc import tracing\n    return tracing.carrier()\n"}
#: a task that reads context (it calls the project's code) and restores none
TASKS = ("from svc.celeryconf import app\nfrom svc.models import log_event\n\n\n"
         "@app.task\ndef cleanup(batch=0):\n    log_event('cleanup')\n    if batch < 3:\n        cleanup.delay(batch + 1)\n\n\n"
         "@app.task\ndef reindex(ids):\n    log_event('reindex')\n\n\n"
         "@app.task\ndef nightly():\n    log_event('nightly')\n    reindex.delay([1, 2])\n")
SCHEDULE = ("CELERY_BEAT_SCHEDULE = {\n    'cleanup': {'task': 'svc.tasks.cleanup', 'schedule': 3600},\n"
            "    'nightly': {\"task\": \"svc.tasks.nightly\", 'schedule': 86400},\n}\n")


def _task_findings(project):
    return sorted((f.line, f.code) for f in project.check() if f.code == "PRP302")


def test_a_task_only_a_schedule_or_itself_enqueues_receives_no_context(make_project):
    """Celery beat starts `cleanup` and `nightly` (their only mention outside their own body is a schedule's
    task path); `cleanup` re-enqueues itself and `reindex` is enqueued only by `nightly`: no caller holds a
    request, so not restoring one loses nothing."""
    project = make_project(TASKS, {}, {**CELERY_APP, "svc/settings.py": SCHEDULE}, path="svc/tasks.py")
    assert _task_findings(project) == []


def test_a_task_a_request_handler_enqueues_is_reported(make_project):
    """The twin: a view enqueues `reindex` (and names `cleanup` in code, not in a schedule): both are reported."""
    view = "from svc.tasks import cleanup, reindex\n\n\ndef on_save(ids):\n    reindex.delay(ids)\n    cleanup.delay()\n"
    project = make_project(TASKS, {}, {**CELERY_APP, "svc/settings.py": SCHEDULE, "svc/views.py": view},
                           path="svc/tasks.py")
    assert _task_findings(project) == [(6, "PRP302"), (13, "PRP302")]


def test_a_task_enqueued_from_a_migration_or_a_test_receives_no_context(make_project):
    mig = "from svc.tasks import reindex\n\n\ndef forwards(apps, schema_editor):\n    reindex.delay([1])\n"
    test = "from svc.tasks import reindex\n\n\ndef test_reindex():\n    reindex.delay([1])\n"
    project = make_project(TASKS.split("\n\n\n@app.task\ndef nightly")[0] + "\n", {},
                           {**CELERY_APP, "svc/migrations/0002_reindex.py": mig, "tests/test_tasks.py": test},
                           path="svc/tasks.py")
    assert _task_findings(project) == []


TRACED = ("import functools\n\nfrom opentelemetry import trace\n\ntracer = trace.get_tracer('x')\n\n\n"
          "def traced(fn):\n    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n"
          "        with tracer.start_as_current_span(fn.__name__):\n            return fn(*args, **kwargs)\n"
          "    return wrapper\n")
ASYNC_ELSEWHERE = {"app/__init__.py": "", "app/stream.py": "async def pump(queue):\n    return await queue.get()\n"}


@pytest.mark.parametrize("resolvers, reported", [
    # the project applies it to sync functions only: the span closes when the function returns, as it should
    ("from app.tracing import traced\n\n\n@traced\ndef resolve_name(root, info):\n    return root.name\n", False),
    # nothing in the project applies it: a generic tracing decorator is its users' to put on a coroutine
    ("def resolve_name(root, info):\n    return root.name\n", True),
    # applied to a coroutine function: the span is closed before the body runs
    ("from app.tracing import traced\n\n\n@traced\nasync def resolve_name(root, info):\n    return root.name\n", True),
])
def test_a_sync_only_tracing_decorator_the_project_applies_only_to_sync_functions(make_project, resolvers, reported):
    files = {**ASYNC_ELSEWHERE, "app/resolvers.py": resolvers}
    project = make_project(TRACED, {}, files, path="app/tracing.py")
    assert ("PRP412" in codes(project)) is reported


def test_a_producer_in_a_task_that_restores_nothing_has_no_context_to_carry(make_project):
    """`nightly` runs in the worker with an empty context (it restores none and starts no span): what it
    enqueues has nothing to carry. The twin starts a span first: that trace is the caller's context."""
    code = TASKS.replace("log_event('cleanup')\n    if batch", "if batch")
    project = make_project(code, {}, {**CELERY_APP, "svc/settings.py": SCHEDULE}, path="svc/tasks.py")
    assert [f.code for f in project.check() if f.code in ("PRP301", "PRP306")] == []
    spans = code.replace("from svc.models import log_event\n",
                         "from svc.models import log_event\nfrom opentelemetry import trace\n\ntracer = trace.get_tracer('t')\n")
    spans = spans.replace("    log_event('nightly')\n    reindex.delay([1, 2])\n",
                          "    with tracer.start_as_current_span('nightly'):\n        reindex.delay([1, 2])\n")
    project = make_project(spans, {}, {**CELERY_APP, "svc/settings.py": SCHEDULE}, path="svc/tasks.py")
    assert [f.code for f in project.check() if f.code in ("PRP301", "PRP306")] == ["PRP306"]


def test_a_model_deriving_from_the_project_s_abstract_models_is_an_uninstrumented_library_call(make_project):
    """`Order` derives from a project mixin that derives from Django's `Model`: `Order(...).save()` in a worker
    thread reads no context. A mixin that defines the method called is the project's code, and may read."""
    models = ("from django.db import models\n\n\nclass WithMetadata(models.Model):\n    pass\n\n\n"
              "class Order(WithMetadata):\n    pass\n")
    code = ("from concurrent.futures import ThreadPoolExecutor\n\nfrom app.models import Order\n\n"
            "pool = ThreadPoolExecutor()\n\n\ndef place(n):\n    pool.submit(lambda: Order.objects.create(n=n))\n")
    ctx = {**OTEL_APP, "app/context.py": "from contextvars import ContextVar\n\nrequest_id = ContextVar('request_id')\n",
           "app/middleware.py": "from app.context import request_id\n\n\ndef mw(req):\n    request_id.set(req.id)\n"}
    silent = make_project(code, {}, {**ctx, "app/models.py": models}, path="app/jobs.py")
    overriding = models.replace("class WithMetadata(models.Model):\n    pass\n",
                                "class WithMetadata(models.Model):\n    objects = None\n")
    kept = make_project(code, {}, {**ctx, "app/models.py": overriding}, path="app/jobs.py")
    assert (codes(silent), codes(kept)) == ([], ["PRP203"])


@pytest.mark.parametrize("target, reported", [
    ("partial(start_webserver, runner=self)", False),   # a server's host function, through functools.partial
    ("partial(process_batch, runner=self)", True),      # the twin: ordinary work through partial
    ("self.healthcheck_server.run", False),             # the run method of an object named for serving
    ("self.report.run", True),                          # the twin: the run method of anything else
])
def test_a_thread_hosting_a_server_through_partial_or_a_server_object_is_long_lived(make_project, target, reported):
    code = ("import threading\nfrom functools import partial\n\nfrom app.server import process_batch, start_webserver\n\n\n"
            "class Runner:\n    def start(self):\n"
            f"        threading.Thread(target={target}, daemon=True).start()\n")
    ctx = {**OTEL_APP, "app/context.py": "from contextvars import ContextVar\n\nrequest_id = ContextVar('request_id')\n",
           "app/middleware.py": "from app.context import request_id\n\n\ndef mw(req):\n    request_id.set(req.id)\n",
           "app/server.py": "def start_webserver(runner):\n    pass\n\n\ndef process_batch(runner):\n    pass\n"}
    assert ("PRP201" in codes(make_project(code, {}, ctx, path="app/runner.py"))) is reported


@pytest.mark.parametrize("body, reported", [
    ("            while not self._stop.is_set():\n                self.poll()\n", False),  # a watch loop, started once
    ("            self.poll()\n", True),                                                    # the twin: one round
])
def test_a_loop_thread_stored_on_the_instance_after_it_is_built_is_long_lived(make_project, body, reported):
    code = ("import threading\n\nfrom app.context import request_id\n\n\nclass Directory:\n"
            "    def poll(self):\n        return request_id.get()\n\n"
            "    def watch_members(self):\n        def run_watch():\n" + body +
            "\n        if self._watch_thread is None:\n            thread = threading.Thread(target=run_watch, daemon=True)\n"
            "            thread.start()\n            self._watch_thread = thread\n")
    ctx = {**OTEL_APP, "app/context.py": "from contextvars import ContextVar\n\nrequest_id = ContextVar('request_id')\n",
           "app/middleware.py": "from app.context import request_id\n\n\ndef mw(req):\n    request_id.set(req.id)\n"}
    found = codes(make_project(code, {}, ctx, path="app/directory.py"))
    assert "PRP001" not in found and ("PRP201" in found) is reported


@pytest.mark.parametrize("queryset, reported", [
    ("", False),  # `Order.objects.filter(...)`: Django's manager, on a model of Django's classes
    ("\n\nclass OrderQuerySet(models.QuerySet):\n    def filter(self, **kw):\n        return audit(super().filter(**kw))\n",
     True),       # the twin: the project overrides `filter` on a Django class: its code may read
])
def test_a_model_manager_method_no_project_class_of_that_library_defines_is_the_library_s(make_project, queryset,
                                                                                            reported):
    models = ("from django.db import models\n\n\nclass WithMetadata(models.Model):\n    pass\n\n\n"
              "class Order(WithMetadata):\n    objects = None\n" + queryset)
    code = ("from concurrent.futures import ThreadPoolExecutor\n\nfrom app.models import Order\n\n"
            "pool = ThreadPoolExecutor()\n\n\ndef place(n):\n    pool.submit(lambda: Order.objects.filter(n=n).update(n=0))\n")
    ctx = {**OTEL_APP, "app/context.py": "from contextvars import ContextVar\n\nrequest_id = ContextVar('request_id')\n",
           "app/middleware.py": "from app.context import request_id\n\n\ndef mw(req):\n    request_id.set(req.id)\n"}
    assert ("PRP203" in codes(make_project(code, {}, {**ctx, "app/models.py": models}, path="app/jobs.py"))) is reported


@pytest.mark.parametrize("task_body, reported", [
    # the task only deletes a file and updates rows of a library model: nobody downstream reads a carrier
    ("    default_storage.delete(path)\n    Image.objects.filter(path=path).update(gone=True)\n", False),
    # the twin: it calls the project's code that may read the context (it builds a carrier)
    ("    default_storage.delete(path)\n    log_event('deleted')\n", True),
])
def test_enqueuing_a_project_task_whose_body_reads_nothing_loses_nothing(make_project, task_body, reported):
    tasks = ("from django.core.files.storage import default_storage\n\nfrom svc.celeryconf import app\n"
             "from svc.images import Image\nfrom svc.models import log_event\n\n\n"
             "@app.task\ndef delete_from_storage(path):\n" + task_body)
    images = "from django.db import models\n\n\nclass Image(models.Model):\n    pass\n"
    view = "from svc.tasks import delete_from_storage\n\n\ndef on_delete(image):\n    delete_from_storage.delay(image.path)\n"
    project = make_project(view, {}, {**CELERY_APP, "svc/tasks.py": tasks, "svc/images.py": images},
                           path="svc/views.py")
    assert ("PRP306" in codes(project)) is reported


def test_a_load_test_s_launcher_says_nothing_about_how_the_application_runs(tmp_path):
    from proplint.project_files import scan_text_files
    from proplint.registry import load_catalog

    script = "#!/bin/sh\nopentelemetry-instrument uvicorn app:api\n"
    for rel, launched in (("load_testing/run-server.sh", False), ("tests/run.sh", False),
                          ("scripts/start.sh", True), ("Dockerfile", True)):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(script if rel != "Dockerfile" else 'CMD ["opentelemetry-instrument", "python", "-m", "app"]\n')
        assert scan_text_files([path], load_catalog(), tmp_path)["launcher"] is launched, rel
        path.unlink()
    assert path_kind("load_testing/locustfile.py") == "benchmark"


@pytest.mark.parametrize("view, reported", [
    ("", False),  # only the recurring task reaches `push_all`, and `push` only through it: no request behind
    ("from app.usage import push_all\n\n\ndef on_request():\n    push_all()\n", True),  # the twin: a view calls it
])
def test_code_only_a_recurring_task_reaches_is_not_reported_on_the_caller_s_side(make_project, view, reported):
    usage = ("import requests\n\n\ndef push(url, body):\n    return requests.post(url, json=body)\n\n\n"
             "def push_all():\n    for body in ({}, {}):\n        push(SERVICE_URL, body)\n")
    tasks = ("from task_processor.decorators import register_recurring_task\n\nfrom app.usage import push_all\n\n\n"
             "@register_recurring_task(run_every=3600)\ndef push_usage():\n    push_all()\n")
    files = {**OTEL_APP, "app/tasks.py": tasks, "app/views.py": view or "x = 1\n",
             "app/context.py": "from contextvars import ContextVar\n\nrequest_id = ContextVar('request_id')\n",
             "app/middleware.py": "from app.context import request_id\n\n\ndef mw(req):\n    request_id.set(req.id)\n"}
    assert ("PRP103" in codes(make_project(usage, {}, files, path="app/usage.py"))) is reported


@pytest.mark.parametrize("order_class, reported", [
    ("class Order(models.Model):\n    pass\n", False),  # `order.save()` is Django's: it reads nothing
    ("class Order(models.Model):\n    def save(self, *a, **kw):\n        audit(self)\n", True),  # the project's save
])
def test_a_helper_s_parameter_typed_with_a_library_model_calls_the_library(make_project, order_class, reported):
    models = "from django.db import models\n\n\n" + order_class
    helpers = ("from app.models import Order\n\n\ndef invalidate(order: Order) -> None:\n"
               "    order.stale = True\n    order.save(update_fields=['stale'])\n")
    code = ("from concurrent.futures import ThreadPoolExecutor\n\nfrom app.helpers import invalidate\n\n"
            "pool = ThreadPoolExecutor()\n\n\ndef place(order):\n    pool.submit(invalidate, order)\n")
    ctx = {**OTEL_APP, "app/context.py": "from contextvars import ContextVar\n\nrequest_id = ContextVar('request_id')\n",
           "app/middleware.py": "from app.context import request_id\n\n\ndef mw(req):\n    request_id.set(req.id)\n"}
    files = {**ctx, "app/models.py": models, "app/helpers.py": helpers}
    assert ("PRP203" in codes(make_project(code, {}, files, path="app/jobs.py"))) is reported


@pytest.mark.parametrize("url, reported", [
    ("f'{base}/health'", False), ("'http://orders:8000/readyz'", False), ("f'{base}/api/ping/'", False),
    ("f'{base}/health/orders'", True), ("f'{base}/healthy-orders'", True), ("'http://orders:8000/api'", True),
])
def test_a_health_or_readiness_probe_is_not_a_trace_hop(make_project, url, reported):
    code = ("import httpx\n\n\ndef wait_until_up(base):\n    with httpx.Client() as client:\n"
            f"        return client.get({url})\n")
    assert ("PRP102" in codes(make_project(code, {}, OTEL_APP, path="app/probe.py"))) is reported


@pytest.mark.parametrize("other_call, reported", [
    ("", False),                                                # every caller passes the public model URL
    ("\n    def refresh(self):\n        self._download(url='http://models:8000/x', fname='m')\n", True),  # one does not
])
def test_a_url_parameter_every_caller_fills_with_a_public_url_leaves_the_system(make_project, other_call, reported):
    code = ("import httpx\n\n\nclass Model:\n    MODEL_URL = 'https://models.s3.amazonaws.com/onnx.tar.gz'\n\n"
            "    def _download(self, url, fname):\n        with httpx.stream('GET', url) as resp:\n"
            "            return resp.read()\n\n    def load(self):\n"
            "        self._download(url=self.MODEL_URL, fname='m')\n" + other_call)
    assert ("PRP102" in codes(make_project(code, {}, OTEL_APP, path="app/model.py"))) is reported


def test_a_schedule_s_task_path_may_be_split_over_adjacent_literals():
    from proplint.core.reach import scheduled_names

    settings = (b'BEAT = {\n    "recalc": {\n        "task": "app.product.tasks"\n'
                b'        ".update_relations_task",\n        "schedule": 60,\n    },\n'
                b'    "cleanup": {"task": "app.tasks.cleanup", "schedule": 3},\n}\n'
                b"x = PeriodicTask(task='app.tasks.nightly')\nrun(cleanup_later)\n")
    assert scheduled_names(settings) == ["cleanup", "nightly", "update_relations_task"]
    # a name the file also imports is not only scheduled
    assert scheduled_names(b"from app.tasks import cleanup\n" + settings) == ["nightly", "update_relations_task"]


@pytest.mark.parametrize("startup, reported", [
    ("", False),  # only a telemetry task calls `init_tracer()`: the web process never traces
    ("from app.telemetry import init_tracer\n\ninit_tracer()\n", True),  # the twin: the app sets it up at start-up
])
def test_tracing_set_up_only_inside_a_task_gives_the_serving_code_no_context(make_project, startup, reported):
    telemetry = ("from opentelemetry import trace\nfrom opentelemetry.instrumentation.django import DjangoInstrumentor\n"
                 "from opentelemetry.sdk.trace import TracerProvider\n\n\ndef init_tracer():\n"
                 "    trace.set_tracer_provider(TracerProvider())\n    DjangoInstrumentor().instrument()\n")
    task = ("from celery import shared_task\nfrom opentelemetry import trace\n\nfrom app.telemetry import init_tracer\n\n\n"
            "@shared_task\ndef instance_traces():\n    init_tracer()\n"
            "    with trace.get_tracer('t').start_as_current_span('instance'):\n        return 1\n")
    view = "import requests\n\n\ndef notify(body):\n    return requests.post('http://orders:8000/x', json=body)\n"
    files = {**DOCKER, "app/__init__.py": "", "app/telemetry.py": telemetry, "app/bgtasks.py": task,
             "app/wsgi.py": startup or "application = None\n"}
    assert ("PRP103" in codes(make_project(view, {}, files, path="app/views.py"))) is reported


@pytest.mark.parametrize("annotation, reported", [
    ("subprocess.Popen[bytes]", False),  # a library generic, subscripted: its methods run no project code
    ("Reaper", True),                    # the twin: a project class, whose `wait` may read
])
def test_a_parameter_annotated_with_a_subscripted_library_generic_reads_nothing(make_project, annotation, reported):
    code = ("import subprocess\nimport threading\nfrom contextlib import suppress\n\nfrom app.reaper import Reaper\n\n\n"
            f"def _wait(process: {annotation}) -> None:\n    with suppress(Exception):\n        process.wait()\n\n\n"
            "def spawn(process):\n    threading.Thread(target=_wait, args=(process,)).start()\n")
    ctx = {**OTEL_APP, "app/context.py": "from contextvars import ContextVar\n\nrequest_id = ContextVar('request_id')\n",
           "app/middleware.py": "from app.context import request_id\n\n\ndef mw(req):\n    request_id.set(req.id)\n",
           "app/reaper.py": "from app.context import request_id\n\n\nclass Reaper:\n    def wait(self):\n"
                            "        return request_id.get()\n"}
    assert ("PRP201" in codes(make_project(code, {}, ctx, path="app/jobs.py"))) is reported


@pytest.mark.parametrize("base, reported", [
    ("https://graph.microsoft.com/v1.0", False),  # the client only goes, through two helpers, to a public API
    ("http://mailer:8000", True),                 # the twin: one of our services
])
def test_a_client_handed_to_the_module_s_helpers_is_judged_by_their_requests(make_project, base, reported):
    code = (f"import httpx\n\nGRAPH_API_BASE = {base!r}\n\n\n"
            "async def _get_json(client, url, token):\n"
            "    return (await client.get(url, headers={'Authorization': token})).json()\n\n\n"
            "async def fetch_email(token):\n    async def _fetch(client_):\n"
            "        return await _get_json(client_, f'{GRAPH_API_BASE}/me', token)\n\n"
            "    async with httpx.AsyncClient(timeout=20.0) as owned_client:\n"
            "        return await _fetch(owned_client)\n")
    assert ("PRP101" in codes(make_project(code, {}, OTEL_APP, path="app/mail.py"))) is reported
