"""Receivers a dependency_injector container hands out, and arq jobs listed by a worker in another module,
through the real CLI on a project of several modules.

The containers are declared in other modules than their uses (a nested container, a base container whose
providers a subclass inherits, a `Resource` whose initializer lives in a third module), and used in every
shape dependency_injector offers: `Provide[...]` as a parameter default (`@inject`), under `Closing[...]` and
FastAPI's `Depends(...)`, by string id, `Container.producer()` and an instance's `container.producer()`.
Each INVALID send is marked `# PRP301`; its VALID twin (the same shape with a carrier injected) must be
clean, as must uses that are no client (a configuration value, the provider object itself, a provider of a
project class).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from runtime_support import REPO_ROOT, run_python, write_files

PYPROJECT = '[project]\nname = "shop"\nversion = "0"\ndependencies = ["opentelemetry-sdk", "dependency-injector"]\n'

LIBRARY = {
    "pyproject.toml": PYPROJECT,
    "app/__init__.py": "",
    # a Resource's initializer, in a module of its own: it yields the client
    "app/resources.py": '''\
from typing import AsyncIterator

import redis.asyncio as redis


async def init_queue(url: str) -> AsyncIterator[redis.Redis]:
    client = redis.from_url(url)
    yield client
    await client.aclose()


def init_cache(url):
    cache = redis.from_url(url)
    return cache
''',
    "app/kafka.py": '''\
from aiokafka import AIOKafkaProducer
from dependency_injector import containers, providers


class KafkaContainer(containers.DeclarativeContainer):
    config = providers.Configuration()
    producer = providers.Singleton(AIOKafkaProducer, bootstrap_servers=config.servers)
''',
    "app/services.py": "class Mailer:\n    def send(self, to, body):\n        return (to, body)\n",
    "app/containers.py": '''\
import boto3
from dependency_injector import containers, providers

from app import resources, services
from app.kafka import KafkaContainer


class BaseContainer(containers.DeclarativeContainer):
    config = providers.Configuration()
    sqs = providers.Singleton(boto3.client, "sqs", region_name=config.region)


class Container(BaseContainer):
    kafka = providers.Container(KafkaContainer, config=BaseContainer.config.kafka)
    queue = providers.Resource(resources.init_queue, url=BaseContainer.config.redis_url)
    cache = providers.Resource(resources.init_cache, url=BaseContainer.config.redis_url)
    mailer = providers.Factory(services.Mailer)
''',
}

ROUTES = '''\
import json

from dependency_injector.wiring import Closing, Provide, Provider, inject
from fastapi import Depends

from app.containers import Container


@inject
async def create_order(body: dict, producer=Provide[Container.kafka.producer]):
    await producer.send("orders", value=json.dumps(body).encode())  # PRP301


@inject
async def enqueue(body: dict, queue=Depends(Closing[Provide[Container.queue]])):
    await queue.lpush("jobs", json.dumps(body))  # PRP301


@inject
def cache_event(body: dict, cache=Provide[Container.cache]):
    cache.rpush("events", json.dumps(body))  # PRP301


@inject
def forward(body: str, sqs=Provide["sqs"]):
    sqs.send_message(QueueUrl="orders", MessageBody=body)  # PRP301


def direct(body: dict):
    sqs = Container.sqs()
    sqs.send_message(QueueUrl="orders", MessageBody=json.dumps(body))  # PRP301


async def from_instance(body: dict):
    container = Container()
    await container.kafka.producer().send("orders", value=json.dumps(body).encode())  # PRP301


@inject
def not_clients(to, region=Provide[Container.config.region], mailer=Provide[Container.mailer],
                provider=Provider[Container.sqs]):
    mailer.send(to, region)
    provider.send(to, region)
'''

ROUTES_CARRIED = '''\
import json

from dependency_injector.wiring import Closing, Provide, inject
from fastapi import Depends
from opentelemetry.propagate import inject as inject_context

from app.containers import Container


def _carrier() -> dict:
    carrier = {}
    inject_context(carrier)
    return carrier


@inject
async def create_order(body: dict, producer=Provide[Container.kafka.producer]):
    carrier = {}
    inject_context(carrier)
    headers = [(k, v.encode()) for k, v in carrier.items()]
    await producer.send("orders", value=json.dumps(body).encode(), headers=headers)


@inject
async def enqueue(body: dict, queue=Depends(Closing[Provide[Container.queue]])):
    carrier = {}
    inject_context(carrier)
    await queue.lpush("jobs", json.dumps({"body": body, "trace_context": carrier}))


@inject
def forward(body: str, sqs=Provide["sqs"]):
    carrier = {}
    inject_context(carrier)
    attributes = {k: {"DataType": "String", "StringValue": v} for k, v in carrier.items()}
    sqs.send_message(QueueUrl="orders", MessageBody=body, MessageAttributes=attributes)


async def from_instance(body: dict):
    container = Container()
    carrier = {}
    inject_context(carrier)
    headers = [(k, v.encode()) for k, v in carrier.items()]
    await container.kafka.producer().send("orders", value=json.dumps(body).encode(), headers=headers)
'''


def _check(project: Path, *paths: str) -> list[dict]:
    proc = run_python(["-m", "proplint", "check", "--no-cache", "--output-format", "json", *paths], cwd=project,
                      pythonpath=[REPO_ROOT], check=False, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def _marked(text: str, code: str) -> set[int]:
    return {i for i, line in enumerate(text.splitlines(), 1) if re.search(rf"#\s*{code}\b", line)}


def test_container_receivers_across_modules(tmp_path):
    write_files(tmp_path, {**LIBRARY, "app/routes.py": ROUTES, "app/routes_carried.py": ROUTES_CARRIED})
    found = _check(tmp_path, ".")
    by_file: dict[str, set[tuple[int, str]]] = {}
    for d in found:
        by_file.setdefault(Path(d["filename"]).as_posix().split("app/", 1)[-1], set()).add(
            (d["location"]["row"], d["code"]))
    assert by_file.get("routes.py") == {(line, "PRP301") for line in _marked(ROUTES, "PRP301")}
    assert "routes_carried.py" not in by_file, by_file
    # nothing in the container and resource modules is a send
    assert set(by_file) == {"routes.py"}, by_file


def test_the_fix_carries_the_context_of_an_injected_producer(tmp_path):
    write_files(tmp_path, {**LIBRARY, "app/routes.py": ROUTES})
    proc = run_python(["-m", "proplint", "fix", "--no-cache", "app/routes.py"], cwd=tmp_path,
                      pythonpath=[REPO_ROOT], check=False, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    fixed = (tmp_path / "app/routes.py").read_text()
    assert "headers=[(k, v.encode()) for k, v in _carrier.items()]" in fixed
    assert "MessageAttributes=" in fixed
    left = {(d["location"]["row"], d["code"]) for d in _check(tmp_path, "app/routes.py")}
    # what remains has no automatic fix: redis list payloads need the consumer's agreement (unsafe)
    assert left and all(code == "PRP301" for _, code in left)
    assert all("lpush" in fixed.splitlines()[row - 1] or "rpush" in fixed.splitlines()[row - 1] for row, _ in left)


# --- arq: the WorkerSettings in one module, the jobs it lists in others ----------------------------------

ARQ_PROJECT = {
    "pyproject.toml": PYPROJECT.replace('"dependency-injector"', '"arq"'),
    "app/__init__.py": "",
    "app/jobs/__init__.py": "",
    "app/jobs/billing.py": '''\
from opentelemetry import trace

tracer = trace.get_tracer(__name__)


async def charge(ctx, order_id):  # PRP302
    with tracer.start_as_current_span("charge"):
        await ctx["payments"].charge(order_id)


async def refund(ctx, order_id, trace_ctx=None):
    from opentelemetry.propagate import extract

    with tracer.start_as_current_span("refund", context=extract(trace_ctx or {})):
        await ctx["payments"].refund(order_id)


async def not_listed(ctx, order_id):
    await ctx["payments"].void(order_id)
''',
    "app/jobs/mail.py": '''\
from app.mailer import deliver


async def send_receipt(ctx, order_id):  # PRP302
    await deliver(order_id)


async def send_reminder(ctx, order_id):  # PRP302
    await deliver(order_id)
''',
    # a second worker whose settings import nothing of arq (its redis settings come from the first): the class
    # name is arq's own
    "app/reminders.py": "from app.jobs.mail import send_reminder\nfrom app.worker import WorkerSettings as Base\n"
                        "\n\nclass WorkerSettings:\n    functions = [send_reminder]\n"
                        "    redis_settings = Base.redis_settings\n",
    # the jobs' helper starts a span: their processing reads the context (a helper that reads nothing would
    # leave nothing to restore, `core/foreign.py`)
    "app/mailer.py": "from opentelemetry import trace\n\ntracer = trace.get_tracer(__name__)\n\n\n"
                     "async def deliver(order_id):\n    with tracer.start_as_current_span('deliver'):\n"
                     "        return order_id\n",
    "app/worker.py": '''\
from arq import func
from arq.connections import RedisSettings

import app.jobs.mail as mail
from app.jobs.billing import charge, refund


class WorkerSettings:
    functions = [charge, refund, func(mail.send_receipt, max_tries=3)]
    redis_settings = RedisSettings()
''',
    # a worker of the tests: its list says nothing about what production runs
    "tests/test_worker.py": "from arq import Worker\n\nfrom app.jobs.billing import not_listed\n\n"
                            "def test_worker():\n    Worker(functions=[not_listed])\n",
}


def test_arq_jobs_listed_by_a_worker_in_another_module(tmp_path):
    write_files(tmp_path, ARQ_PROJECT)
    found = {(Path(d["filename"]).as_posix().split("app/", 1)[-1], d["location"]["row"], d["code"])
             for d in _check(tmp_path, ".")}
    expected = {(rel.split("app/", 1)[-1], line, "PRP302") for rel, text in ARQ_PROJECT.items()
                for line in _marked(text, "PRP302")}
    assert found == expected
