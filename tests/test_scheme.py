"""A fix never imports a package the project does not use: in a project without OpenTelemetry, a fix that
would add `from opentelemetry... import ...` is withheld and the message says what to write instead."""

from __future__ import annotations

PRODUCER = ("import json\nimport redis\n\nr = redis.Redis()\n\n\ndef submit(request_id, data):\n"
            "    r.lpush('requests', json.dumps({'id': request_id, 'data': data}))\n")


def test_no_opentelemetry_in_the_project_no_fix_importing_it(make_project):
    project = make_project(PRODUCER, {}, {}, path="app/queue.py")
    [finding] = project.check()
    assert finding.code == "PRP301" and finding.fix is None
    assert "the project does not use OpenTelemetry" in finding.message
    result = project.fix(unsafe=True)
    assert result.fixed is None, "fix --unsafe-fixes must not add an undeclared import"


def test_with_opentelemetry_among_the_dependencies_the_fix_is_offered(make_project):
    project = make_project(PRODUCER, {}, {"requirements.txt": "opentelemetry-api==1.27.0\n"}, path="app/queue.py")
    [finding] = project.check()
    assert finding.fix is not None
    fixed = project.fix(unsafe=True).fixed.decode()
    assert "from opentelemetry.propagate import inject" in fixed


def test_opentelemetry_imported_by_the_application_counts_as_used(make_project):
    files = {"app/__init__.py": "", "app/telemetry.py": "from opentelemetry import trace\n"}
    project = make_project(PRODUCER, {}, files, path="app/queue.py")
    [finding] = project.check()
    assert finding.fix is not None


def test_in_a_monorepo_each_service_s_own_dependencies_decide(make_project):
    """`orders` declares OpenTelemetry, `mailer` does not: only `orders` gets a fix importing it."""
    files = {"services/orders/requirements.txt": "redis==5.2.1\nopentelemetry-api==1.27.0\n",
             "services/orders/queue.py": PRODUCER,
             "services/mailer/requirements.txt": "redis==5.2.1\n",
             "requirements-dev.txt": "pytest\n"}
    orders = make_project(PRODUCER, {}, files, path="services/orders/queue.py")
    [finding] = orders.check()
    assert finding.fix is not None
    mailer = make_project(PRODUCER, {}, files, path="services/mailer/queue.py")
    [finding] = mailer.check()
    assert finding.fix is None and "the project does not use OpenTelemetry" in finding.message
    assert mailer.fix(unsafe=True).fixed is None


AIOHTTP = ("import aiohttp\n\n\nasync def fetch(url):\n    async with aiohttp.ClientSession() as session:\n"
           "        async with session.get(url) as response:\n            return await response.text()\n")


def test_a_fix_importing_an_instrumentation_needs_that_distribution_not_only_the_api(make_project):
    """`create_trace_config` comes from opentelemetry-instrumentation-aiohttp-client: a project that declares
    only the API gets no fix importing it (the service would fail at start-up), and is told why."""
    api_only = {"requirements.txt": "aiohttp==3.10.0\nopentelemetry-api==1.27.0\nopentelemetry-sdk==1.27.0\n"}
    project = make_project(AIOHTTP, {}, api_only, path="app/client.py")
    [finding] = project.check()
    assert finding.code == "PRP104" and finding.fix is None
    assert "opentelemetry-instrumentation-aiohttp-client is not among the dependencies" in finding.message
    assert project.fix(unsafe=True).fixed is None
    declared = {"requirements.txt": api_only["requirements.txt"] + "opentelemetry-instrumentation-aiohttp-client==0.48b0\n"}
    project = make_project(AIOHTTP, {}, declared, path="app/client.py")
    [finding] = project.check()
    assert finding.fix is not None
    assert "from opentelemetry.instrumentation.aiohttp_client import" in project.fix(unsafe=True).fixed.decode()
