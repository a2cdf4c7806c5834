"""The messaging family's per-rule prefilter needs (`proplint/checks/messaging_needs.py`).

For each rule: a minimal file the rule reports gets through the prefilter and is reported (so the need
lets it through), and a realistic near miss without the words the rule needs is ruled out for that code
(and, checked with every rule on and no prefilter, is indeed not reported).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import toml_table
from proplint.config import load_config
from proplint.engine import analyse
from proplint.settings import Settings, make_settings
from proplint.exactness import unfiltered

_TELEMETRY = ("from opentelemetry.instrumentation.confluent_kafka import ConfluentKafkaInstrumentor\n\n\n"
              "def setup():\n    ConfluentKafkaInstrumentor().instrument()\n")
_MANUAL = {"injectors": ["app.tracing.inject_context"]}

# code -> (config, files of a project where `app/x.py` is reported, files of a near miss where it is not)
CASES = {
    "PRP301": ({}, {"app/x.py": "import redis\n\nr = redis.Redis()\n\n\ndef notify(msg):\n"
                                "    r.publish('events', msg)\n"},
               # a fake `Redis` of the tests, `redis` only in a comment: never on an import line
               {"app/x.py": "# an in-memory stand-in for redis.Redis\nfrom app.fakes import Redis\n\nr = Redis()\n\n\n"
                            "def notify(msg):\n    r.publish('events', msg)\n"}),
    "PRP302": ({}, {"app/x.py": "from kafka import KafkaConsumer\n\n\ndef drain():\n"
                                "    consumer = KafkaConsumer('orders')\n    for message in consumer:\n"
                                "        handle(message.value)\n"},
               {"app/x.py": "# drains the kafka topic through our own wrapper\nfrom app.queue import consumer\n\n\n"
                            "def drain():\n    for message in consumer:\n        print(message.value)\n"}),
    "PRP303": ({}, {"app/x.py": "from opentelemetry.propagate import extract\n\n\ndef handle(headers):\n"
                                "    extract(headers)\n    print('processing')\n"},
               # `extract` as an ordinary function
               {"app/x.py": "from app.archive import extract\n\n\ndef unpack(path):\n    extract(path)\n"
                            "    print('done')\n"}),
    "PRP304": ({}, {"app/x.py": "import boto3\n\nsqs = boto3.client('sqs')\n\n\ndef poll(url):\n"
                                "    return sqs.receive_message(QueueUrl=url)\n"},
               {"app/x.py": "def poll(queue):\n    # like SQS receive_message, for the in-memory queue of the tests\n"
                            "    return queue.receive_message(timeout=5)\n"}),
    "PRP305": ({}, {"telemetry.py": _TELEMETRY, "app/x.py": "from confluent_kafka import Producer\n\n"
                                                            "producer = Producer({})\n"},
               # `confluent_kafka` only in a comment, never on an import line
               {"telemetry.py": _TELEMETRY,
                "app/x.py": "# confluent_kafka's Producer is swapped by its instrumentor; this is kafka-python's\n"
                            "from kafka import KafkaProducer as Producer\n\nproducer = Producer()\n"}),
    "PRP306": (_MANUAL, {"app/x.py": "from celery import shared_task\n\n\n@shared_task\ndef send_email(to):\n"
                                     "    pass\n\n\ndef signup(user):\n    send_email.delay(user.email)\n"},
               {"app/x.py": "import time\n\n\ndef retry(call, policy):\n    time.sleep(policy.delay(1))\n"
                            "    return call()\n"}),
    # the carrier passed positionally: the word `properties` is not needed
    "PRP307": ({}, {"app/x.py": "import paho.mqtt.client as mqtt\n\nclient = mqtt.Client()\n\n\n"
                                "def deliver(payload, props):\n    client.publish('t', payload, 0, False, props)\n"},
               {"app/x.py": "def deliver(bus, payload, props):\n    # the MQTT-like bus of the simulator\n"
                            "    bus.publish('t', payload, properties=props)\n"}),
}


def _settings(root: Path, files: dict[str, str], config: dict | None = None) -> Settings:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n\n" + toml_table("tool.proplint", config or {}))
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    if "app.tracing.inject_context" in str(config) and "app/tracing.py" not in files:
        # the configured injector is the project's own: it must exist (a configuration error otherwise)
        (root / "app").mkdir(parents=True, exist_ok=True)
        (root / "app/tracing.py").write_text("from opentelemetry.propagate import inject\n\n\n"
                                             "def inject_context(carrier):\n    inject(carrier)\n", encoding="utf-8")
    return make_settings(load_config(root), select=["PRP3"], use_cache=False, include_default_off=True)


def _codes(settings: Settings, root: Path, rel: str) -> set[str]:
    return {f.code for f in analyse((root / rel).read_bytes(), str(root / rel), rel, settings).findings}


@pytest.mark.parametrize("code", sorted(CASES))
def test_a_reported_file_passes_the_need_and_a_near_miss_does_not(code, tmp_path):
    config, hit, near = CASES[code]
    settings = _settings(tmp_path / "hit", hit, config)
    assert code in settings.possible((tmp_path / "hit/app/x.py").read_bytes())
    assert code in _codes(settings, tmp_path / "hit", "app/x.py")

    settings = _settings(tmp_path / "near", near, config)
    assert code not in settings.possible((tmp_path / "near/app/x.py").read_bytes())
    assert code not in _codes(unfiltered(settings), tmp_path / "near", "app/x.py")


def test_every_rule_has_a_case():
    assert sorted(CASES) == [f"PRP30{n}" for n in range(1, 8)]


_WORKER = "from .client import Redis\n\nr = Redis()\n\n\ndef notify(msg):\n    r.publish('events', msg)\n"


def test_a_relative_import_inside_the_package_of_a_catalog_name(tmp_path):
    # `redis/worker.py`: `Redis` is `redis.client.Redis` without the word `redis` in the file
    settings = _settings(tmp_path / "vendored", {"redis/__init__.py": "", "redis/worker.py": _WORKER})
    assert "PRP301" in settings.possible(_WORKER.encode())
    assert "PRP301" in _codes(settings, tmp_path / "vendored", "redis/worker.py")
    # elsewhere the same text names some other `Redis`, and the rule is ruled out
    settings = _settings(tmp_path / "app", {"app/__init__.py": "", "app/worker.py": _WORKER})
    assert "PRP301" not in settings.possible(_WORKER.encode())
    assert "PRP301" not in _codes(unfiltered(settings), tmp_path / "app", "app/worker.py")


def test_project_tasks_and_clients_come_from_the_index(tmp_path):
    files = {
        "app/__init__.py": "",
        "app/tasks.py": "from celery import shared_task\n\n\n@shared_task\ndef send_email(to):\n    pass\n",
        "app/queues.py": "import redis\n\nbus = redis.Redis()\n",
        "app/views.py": "from app.tasks import send_email\n\n\ndef signup(user):\n    send_email.delay(user.email)\n",
        "app/events.py": "from app.queues import bus\n\n\ndef notify(msg):\n    bus.publish('events', msg)\n",
    }
    settings = _settings(tmp_path, files)
    # no word of celery or redis in these files: the task's and the client's names let them through
    assert "PRP301" in _codes(settings, tmp_path, "app/views.py")
    assert "PRP301" in _codes(settings, tmp_path, "app/events.py")
    assert "PRP301" not in settings.possible(b"from app.jobs import notify\n\n\ndef f(x):\n    notify.delay(x)\n")


def test_rules_the_project_rules_out_have_no_need(tmp_path):
    # no instrumentor of confluent_kafka (PRP305), no manual propagation (PRP306), and kafka-python's
    # instrumentor injects for KafkaProducer.send (PRP301)
    files = {"telemetry.py": "from opentelemetry.instrumentation.kafka import KafkaInstrumentor\n\n"
                             "KafkaInstrumentor().instrument()\n",
             "app/x.py": "from confluent_kafka import Producer\nfrom kafka import KafkaProducer\nfrom celery import "
                         "shared_task\n\n\n@shared_task\ndef job():\n    pass\n\n\ndef run():\n    job.delay()\n"
                         "    KafkaProducer().send('t', b'x')\n"}
    settings = _settings(tmp_path, files)
    possible = settings.possible((tmp_path / "app/x.py").read_bytes())
    assert "PRP301" in possible  # for `delay`
    assert not possible & {"PRP305", "PRP306"}
    found = analyse((tmp_path / "app/x.py").read_bytes(), "x", "app/x.py", unfiltered(settings)).findings
    assert [(f.code, f.line) for f in found] == [("PRP301", 12)]


def test_an_extractor_imported_under_an_alias_is_still_seen(tmp_path):
    # the visitor looks at PRP303 only on calls named like an injector or extractor, or by an import alias
    code = ("def handle(headers):\n    from opentelemetry.propagate import extract as otel_extract\n\n"
            "    otel_extract(headers)\n    print('processing')\n")
    settings = _settings(tmp_path, {"app/x.py": code})
    assert _codes(settings, tmp_path, "app/x.py") == {"PRP303"}


def test_a_receiver_derived_through_a_long_chain_when_only_prp302_is_possible(tmp_path):
    # `queue_iter` is seven inference steps from `aio_pika.connect_robust`, more than the depth limit: the
    # links (`connection.channel()`, `channel.declare_queue()`, `queue.iterator()`) are inferred where they are
    # visited, as they were when every call's receiver was, and the loop is reported
    code = ("import aio_pika\n\n\nasync def consume():\n    connection = await aio_pika.connect_robust('amqp://x/')\n"
            "    channel = await connection.channel()\n    queue = await channel.declare_queue('tasks')\n"
            "    async with queue.iterator() as queue_iter:\n        async for message in queue_iter:\n"
            "            await handle(message.body)\n")
    settings = _settings(tmp_path, {"app/x.py": code})
    assert settings.possible(code.encode()) == {"PRP302"}
    assert _codes(settings, tmp_path, "app/x.py") == {"PRP302"}
