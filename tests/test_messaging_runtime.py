"""Runtime proofs for PRP301/PRP302 and their fixes, against real brokers on 127.0.0.1.

For each broker (Redis list with a JSON payload, written the seed-000 way; an MQTT v5 publish with user
properties on Mosquitto; a NATS publish with headers on nats-server) a producer and a consumer run in
fresh interpreters under the OpenTelemetry SDK:

1. as written (no capture, no restore) they give two disconnected traces;
2. `proplint check` reports the producer (PRP301) and the consumer (PRP302);
3. after the real `python -m proplint fix --unsafe-fixes` on both files, `proplint check` is clean and
   they give one trace: the consumer's CONSUMER span is a child of the producer's span, and the
   consumer's own span is a child of it.

The same for a NATS JetStream stream read by a pull consumer (`nats-server -js`). A Redis stream read by a
consumer group (`xadd`; `XGROUP CREATE ... MKSTREAM`, `xreadgroup`, `xack`, the entry read after the producer
exited) gives two traces and PRP301/PRP302 too; the real fix rewrites the producer only (the carrier merged into
the entry's fields) and leaves the `xreadgroup` consumer, which has no fix, reported: with the consumer's VALID
twin written by hand (`extract` from the entry's fields) the fixed producer gives one trace and no finding.

For the task queues, which no fix rewrites, the INVALID code and its VALID twin written by hand are run
instead: two traces and PRP301/PRP302, then one trace and no finding. huey and rq run on redis-server with
their own workers (huey's `dequeue`/`execute`, rq's `dequeue_any` and `SimpleWorker.execute_job`) in a process
of their own; dramatiq on its own test double, `StubBroker`, with its own `Worker` threads; celery with a real
worker (solo pool); taskiq on taskiq-redis with its worker's own `start_listen` (taskiq's `InMemoryBroker` is
no proof: it runs the task in the sender's event loop, in a copy of the sender's context, so even the INVALID
code gives one trace); arq with its own `run_worker`, in arq's own environment (`tests/arq_env.py`: arq pins
redis<6), its `WorkerSettings` in another module than the jobs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from messaging_support import OTEL_SETUP, span, spans_from, start_mosquitto, start_nats, start_redis
from runtime_support import REPO_ROOT, clean_env, run_python, write_files

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory):
    server = start_mosquitto(tmp_path_factory.mktemp("mosquitto"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory):
    server = start_nats(tmp_path_factory.mktemp("nats"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def jetstream_server(tmp_path_factory):
    server = start_nats(tmp_path_factory.mktemp("jetstream"), jetstream=True)
    yield server
    server.stop()


# --- the programs -------------------------------------------------------------------------------------

REDIS_PRODUCER = '''\
"""API handler: enqueue the request (seed 000), inside the request's span."""

import json
import os
from uuid import uuid4

import otel_setup  # noqa: F401
import redis
from opentelemetry import trace

tracer = trace.get_tracer(__name__)
r = redis.Redis(host="127.0.0.1", port=int(os.environ["BROKER_PORT"]))
queue_key = "requests"


def submit_request(data: dict) -> str:
    with tracer.start_as_current_span("api.submit_request"):
        request_id = str(uuid4())
        r.lpush(queue_key, json.dumps({"request_id": request_id, "data": data}))
        return request_id


if __name__ == "__main__":
    submit_request({"essay_id": "e-1"})
'''

REDIS_CONSUMER = '''\
"""Background worker: take queued requests and process them (seed 000)."""

import json
import os

import otel_setup  # noqa: F401
import redis
from opentelemetry import trace

tracer = trace.get_tracer(__name__)
r = redis.Redis(host="127.0.0.1", port=int(os.environ["BROKER_PORT"]))
queue_key = "requests"


def process_queue(limit: int) -> None:
    handled = 0
    while handled < limit:
        _, request_json = r.brpop(queue_key, timeout=20)
        request = json.loads(request_json)
        with tracer.start_as_current_span("process_request") as span:
            span.set_attribute("request_id", request["request_id"])
            handled += 1


if __name__ == "__main__":
    process_queue(1)
'''

MQTT_PRODUCER = '''\
"""Delivery worker: publish an alert over MQTT v5 with user properties."""

import json
import os

import otel_setup  # noqa: F401
import paho.mqtt.client as mqtt
from opentelemetry import trace
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

tracer = trace.get_tracer(__name__)
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)


def deliver(tenant: str) -> None:
    with tracer.start_as_current_span("deliver_mqtt"):
        props = Properties(PacketTypes.PUBLISH)
        props.UserProperty = [("tenant", tenant)]
        info = client.publish(f"alerts/{tenant}", json.dumps({"level": "high"}), qos=1, properties=props)
        info.wait_for_publish(10)


if __name__ == "__main__":
    client.connect("127.0.0.1", int(os.environ["BROKER_PORT"]))
    client.loop_start()
    deliver("t1")
    client.loop_stop()
    client.disconnect()
'''

MQTT_CONSUMER = '''\
"""Alert subscriber: handle every alert published for a tenant."""

import os
import threading

import otel_setup  # noqa: F401
import paho.mqtt.client as mqtt
from opentelemetry import trace

tracer = trace.get_tracer(__name__)
subscribed = threading.Event()
done = threading.Event()
client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)


def on_message(cl, userdata, msg):
    with tracer.start_as_current_span("handle_alert") as span:
        span.set_attribute("topic", msg.topic)
    done.set()


def on_subscribe(cl, userdata, mid, reason_codes, properties):
    subscribed.set()


client.on_message = on_message
client.on_subscribe = on_subscribe

if __name__ == "__main__":
    client.connect("127.0.0.1", int(os.environ["BROKER_PORT"]))
    client.subscribe("alerts/#", qos=1)
    client.loop_start()
    assert subscribed.wait(20)
    print("READY", flush=True)
    assert done.wait(30)
    client.loop_stop()
    client.disconnect()
'''

NATS_PRODUCER = '''\
"""Order service: announce a created order on NATS, with headers."""

import asyncio
import os

import nats
import otel_setup  # noqa: F401
from opentelemetry import trace

tracer = trace.get_tracer(__name__)


async def main() -> None:
    nc = await nats.connect(f"nats://127.0.0.1:{os.environ['BROKER_PORT']}")
    with tracer.start_as_current_span("create_order"):
        await nc.publish("orders.created", b'{"order_id": 1}', headers={"tenant": "t1"})
    await nc.flush()
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main())
'''

NATS_CONSUMER = '''\
"""Billing: handle created orders."""

import asyncio
import os

import nats
import otel_setup  # noqa: F401
from opentelemetry import trace

tracer = trace.get_tracer(__name__)


async def main() -> None:
    nc = await nats.connect(f"nats://127.0.0.1:{os.environ['BROKER_PORT']}")
    done = asyncio.Event()

    async def on_order(msg):
        with tracer.start_as_current_span("bill_order") as span:
            span.set_attribute("subject", msg.subject)
        done.set()

    await nc.subscribe("orders.created", cb=on_order)
    await nc.flush()
    print("READY", flush=True)
    await asyncio.wait_for(done.wait(), 30)
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main())
'''


JETSTREAM_PRODUCER = '''\
"""Order service: store a created order in a JetStream stream, with headers."""

import asyncio
import os

import nats
import otel_setup  # noqa: F401
from opentelemetry import trace

tracer = trace.get_tracer(__name__)


async def main() -> None:
    nc = await nats.connect(f"nats://127.0.0.1:{os.environ['BROKER_PORT']}")
    js = nc.jetstream()
    await js.add_stream(name="ORDERS", subjects=["orders.*"])
    with tracer.start_as_current_span("store_order"):
        await js.publish("orders.created", b'{"order_id": 1}', headers={"tenant": "t1"})
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main())
'''

JETSTREAM_CONSUMER = '''\
"""Billing: a pull consumer that fetches stored orders in batches."""

import asyncio
import os

import nats
import otel_setup  # noqa: F401
from opentelemetry import trace

tracer = trace.get_tracer(__name__)


async def main() -> None:
    nc = await nats.connect(f"nats://127.0.0.1:{os.environ['BROKER_PORT']}")
    js = nc.jetstream()
    sub = await js.pull_subscribe("orders.created", "billing")
    msgs = await sub.fetch(1, timeout=20)
    for msg in msgs:
        with tracer.start_as_current_span("bill_order") as span:
            span.set_attribute("subject", msg.subject)
        await msg.ack()
    await js.delete_stream("ORDERS")
    await nc.close()


if __name__ == "__main__":
    asyncio.run(main())
'''


# a Redis stream read by a consumer group: the producer appends an entry (`xadd`) and exits; the consumer
# creates its group (`XGROUP CREATE ... MKSTREAM`, from the first entry), reads the stored entry with
# `xreadgroup`, processes it inside a span, acknowledges it and deletes the stream (the next run starts afresh)
STREAM_PRODUCER = '''\
"""Order service: append a created order to a Redis stream, inside the request's span."""

import os

import otel_setup  # noqa: F401
import redis
from opentelemetry import trace

tracer = trace.get_tracer(__name__)
r = redis.Redis(host="127.0.0.1", port=int(os.environ["BROKER_PORT"]), decode_responses=True)
stream = "orders"


def create_order(order_id: str) -> str:
    with tracer.start_as_current_span("create_order"):
        return r.xadd(stream, {"order_id": order_id, "status": "created"})


if __name__ == "__main__":
    create_order("o-1")
'''

STREAM_CONSUMER = '''\
"""Billing: a consumer group that reads created orders from a Redis stream."""

import os

import otel_setup  # noqa: F401
import redis
from opentelemetry import trace

tracer = trace.get_tracer(__name__)
r = redis.Redis(host="127.0.0.1", port=int(os.environ["BROKER_PORT"]), decode_responses=True)
stream, group = "orders", "billing"


def consume(limit: int) -> None:
    r.xgroup_create(stream, group, id="0", mkstream=True)
    handled = 0
    while handled < limit:
        resp = r.xreadgroup(group, "billing-1", {stream: ">"}, count=1, block=20000)
        for _, entries in resp:
            for entry_id, fields in entries:
                with tracer.start_as_current_span("bill_order") as span:
                    span.set_attribute("order_id", fields["order_id"])
                r.xack(stream, group, entry_id)
                handled += 1
    r.delete(stream)


if __name__ == "__main__":
    consume(1)
'''

# the consumer's VALID twin, written by hand: the processing span continues the context whose carrier the
# producer put in the entry's fields (str keys: the client decodes responses)
STREAM_CONSUMER_RESTORED = '''\
"""Billing: a consumer group that reads created orders from a Redis stream; each entry continues the trace
whose carrier its producer put in the entry's fields."""

import os

import otel_setup  # noqa: F401
import redis
from opentelemetry import trace
from opentelemetry.propagate import extract

tracer = trace.get_tracer(__name__)
r = redis.Redis(host="127.0.0.1", port=int(os.environ["BROKER_PORT"]), decode_responses=True)
stream, group = "orders", "billing"


def consume(limit: int) -> None:
    r.xgroup_create(stream, group, id="0", mkstream=True)
    handled = 0
    while handled < limit:
        resp = r.xreadgroup(group, "billing-1", {stream: ">"}, count=1, block=20000)
        for _, entries in resp:
            for entry_id, fields in entries:
                with tracer.start_as_current_span("bill_order", context=extract(fields),
                                                  kind=trace.SpanKind.CONSUMER) as span:
                    span.set_attribute("order_id", fields["order_id"])
                r.xack(stream, group, entry_id)
                handled += 1
    r.delete(stream)


if __name__ == "__main__":
    consume(1)
'''


# --- running them -------------------------------------------------------------------------------------


def make_project(root: Path, producer: str, consumer: str) -> Path:
    write_files(root, {"pyproject.toml": "[tool.proplint]\n", "otel_setup.py": OTEL_SETUP,
                       "producer.py": producer, "consumer.py": consumer})
    return root


def run_pair(project: Path, port: int, consumer_first: bool) -> tuple[list[dict], list[dict]]:
    """Run producer and consumer; returns (producer spans, consumer spans)."""
    env = {"BROKER_PORT": str(port)}
    if not consumer_first:
        producer = run_python(["producer.py"], cwd=project, env=env, timeout=60)
        consumer = run_python(["consumer.py"], cwd=project, env=env, timeout=60)
        return spans_from(producer.stdout), spans_from(consumer.stdout)
    full_env = clean_env()
    full_env.update(env)
    proc = subprocess.Popen([sys.executable, "consumer.py"], cwd=project, env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        ready = proc.stdout.readline()
        assert ready.strip() == "READY", f"consumer did not start: {ready!r}\n{proc.stderr.read()}"
        producer = run_python(["producer.py"], cwd=project, env=env, timeout=60)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, f"consumer exited {proc.returncode}\n{err}"
    return spans_from(producer.stdout), spans_from(out)


def proplint(project: Path, *args: str) -> subprocess.CompletedProcess:
    # this checkout's proplint, in a fresh interpreter, exactly as a user runs it
    return run_python(["-m", "proplint", *args], cwd=project, pythonpath=[REPO_ROOT], check=False, timeout=120)


def findings(project: Path) -> set[tuple[str, str]]:
    proc = proplint(project, "check", "--no-cache", "--output-format", "json", "producer.py", "consumer.py")
    assert proc.returncode in (0, 1), proc.stderr
    return {(Path(d["filename"]).name, d["code"]) for d in json.loads(proc.stdout)}


def prove(project: Path, port: int, producer_span: str, consumer_span: str, consumer_first: bool) -> None:
    # 1. as written: two traces, the consumer's span is a root
    produced, consumed = run_pair(project, port, consumer_first)
    root = span(produced, producer_span)
    handled = span(consumed, consumer_span)
    assert handled["trace_id"] != root["trace_id"], "expected two disconnected traces before the fix"
    assert handled["parent_id"] is None

    # 2. proplint finds both sides
    assert findings(project) == {("producer.py", "PRP301"), ("consumer.py", "PRP302")}

    # 3. the real fix, then one trace
    before = {name: (project / name).read_text() for name in ("producer.py", "consumer.py")}
    fixed = proplint(project, "fix", "--no-cache", "--unsafe-fixes", "producer.py", "consumer.py")
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    for name, text in before.items():
        assert (project / name).read_text() != text, f"{name} was not fixed"
        compile((project / name).read_text(), name, "exec")
    assert findings(project) == set()

    produced, consumed = run_pair(project, port, consumer_first)
    root = span(produced, producer_span)
    handled = span(consumed, consumer_span)
    consumer_spans = [s for s in consumed if s["kind"] == "CONSUMER"]
    assert len(consumer_spans) == 1, consumed
    restored = consumer_spans[0]
    assert restored["trace_id"] == root["trace_id"], "the consumer did not join the producer's trace"
    assert restored["parent_id"] == root["span_id"], "the consumer span's parent is not the producer's span"
    assert handled["trace_id"] == root["trace_id"] and handled["parent_id"] == restored["span_id"]


# --- the proofs -------------------------------------------------------------------------------------


def test_redis_queue_seed000(tmp_path, redis_server):
    project = make_project(tmp_path / "redis", REDIS_PRODUCER, REDIS_CONSUMER)
    prove(project, redis_server.port, "api.submit_request", "process_request", consumer_first=False)
    producer = (project / "producer.py").read_text()
    assert '"trace_context": _carrier' in producer and "inject(_carrier)" in producer
    consumer = (project / "consumer.py").read_text()
    assert 'extract(request.get("trace_context") or {})' in consumer


def test_mqtt_v5_user_properties(tmp_path, mosquitto):
    project = make_project(tmp_path / "mqtt", MQTT_PRODUCER, MQTT_CONSUMER)
    prove(project, mosquitto.port, "deliver_mqtt", "handle_alert", consumer_first=True)
    producer = (project / "producer.py").read_text()
    assert "props.UserProperty = list(_carrier.items())" in producer
    consumer = (project / "consumer.py").read_text()
    assert 'getattr(msg.properties, "UserProperty", None)' in consumer


def test_nats_headers(tmp_path, nats_server):
    project = make_project(tmp_path / "nats", NATS_PRODUCER, NATS_CONSUMER)
    prove(project, nats_server.port, "create_order", "bill_order", consumer_first=True)
    producer = (project / "producer.py").read_text()
    assert 'headers={**({"tenant": "t1"} or {}), **_carrier}' in producer
    consumer = (project / "consumer.py").read_text()
    assert "context=extract(msg.headers or {})" in consumer


def test_nats_jetstream_pull_consumer(tmp_path, jetstream_server):
    # JetStream stores the message with its headers; the pull consumer fetches it after the producer exits
    project = make_project(tmp_path / "jetstream", JETSTREAM_PRODUCER, JETSTREAM_CONSUMER)
    prove(project, jetstream_server.port, "store_order", "bill_order", consumer_first=False)
    producer = (project / "producer.py").read_text()
    assert 'headers={**({"tenant": "t1"} or {}), **_carrier}' in producer
    consumer = (project / "consumer.py").read_text()
    assert "context=extract(msg.headers or {})" in consumer


def test_redis_stream_consumer_group(tmp_path, redis_server):
    # The fix path for the producer, the hand-written twin for the consumer: proplint fixes `xadd` (the carrier
    # merged into the entry's fields, an unsafe fix) but offers no fix for an `xreadgroup` consumer (PRP302
    # reports it for a manual change: the entries come in a response nested by stream, not as one message).
    # So `prove()` does not fit: the real `proplint fix --unsafe-fixes` runs on both files, fixes the
    # producer and leaves the consumer as it was, still reported; then the consumer is replaced by its VALID
    # twin written by hand (the carrier restored with `extract` from the entry's fields), and the real fixed
    # producer and that twin give one trace and no finding. The consumer reads the entry the stream stored
    # after the producer has exited.
    project = make_project(tmp_path / "stream", STREAM_PRODUCER, STREAM_CONSUMER)
    port = redis_server.port

    # 1. as written: two traces, the consumer's span is a root
    produced, consumed = run_pair(project, port, consumer_first=False)
    root, handled = span(produced, "create_order"), span(consumed, "bill_order")
    assert handled["trace_id"] != root["trace_id"], "expected two disconnected traces before the fix"
    assert handled["parent_id"] is None

    # 2. proplint finds both sides
    assert findings(project) == {("producer.py", "PRP301"), ("consumer.py", "PRP302")}

    # 3. the real fix on both files: the producer is fixed, the consumer left to a manual change
    fixed = proplint(project, "fix", "--no-cache", "--unsafe-fixes", "producer.py", "consumer.py")
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "Fixed 1 finding in 1 file; 1 remain (1 needs a manual change)" in fixed.stderr, fixed.stderr
    assert (project / "consumer.py").read_text() == STREAM_CONSUMER
    producer = (project / "producer.py").read_text()
    compile(producer, "producer.py", "exec")
    assert "from opentelemetry.propagate import inject" in producer and "inject(_carrier)" in producer
    assert '{**{"order_id": order_id, "status": "created"}, **_carrier}' in producer
    assert findings(project) == {("consumer.py", "PRP302")}

    # 4. the consumer's VALID twin, written by hand: no finding, and one trace, the consumer's CONSUMER span a
    # child of the producer's span
    (project / "consumer.py").write_text(STREAM_CONSUMER_RESTORED, encoding="utf-8")
    assert findings(project) == set()
    produced, consumed = run_pair(project, port, consumer_first=False)
    root = span(produced, "create_order")
    consumer_spans = [s for s in consumed if s["kind"] == "CONSUMER"]
    assert [s["name"] for s in consumer_spans] == ["bill_order"], consumed
    restored = consumer_spans[0]
    assert restored["trace_id"] == root["trace_id"], "the consumer did not join the producer's trace"
    assert restored["parent_id"] == root["span_id"], "the consumer span's parent is not the producer's span"


# --- task queues: no fix writes these carriers (a task signature changes), so the proof runs the INVALID
# code and its VALID twin written by hand, the rule examples' shapes -------------------------------------

HUEY_TASKS = '''\
"""Billing tasks on a Redis-backed huey."""

import os

from huey import RedisHuey
from opentelemetry import trace

tracer = trace.get_tracer(__name__)
huey = RedisHuey("proof", host="127.0.0.1", port=int(os.environ["BROKER_PORT"]))


@huey.task()
def bill_order(order_id):
    with tracer.start_as_current_span("bill_order") as span:
        span.set_attribute("order_id", order_id)
'''

HUEY_TASKS_RESTORED = '''\
"""Billing tasks on a Redis-backed huey; the task continues the enqueuer's trace."""

import os

from huey import RedisHuey
from opentelemetry import trace
from opentelemetry.propagate import extract

tracer = trace.get_tracer(__name__)
huey = RedisHuey("proof", host="127.0.0.1", port=int(os.environ["BROKER_PORT"]))


@huey.task()
def bill_order(order_id, trace_ctx=None):
    with tracer.start_as_current_span("bill_order", context=extract(trace_ctx or {})) as span:
        span.set_attribute("order_id", order_id)
'''

HUEY_PRODUCER = '''\
"""Order service: enqueue the billing task inside the request's span."""

import otel_setup  # noqa: F401
import tasks
from opentelemetry import trace

tracer = trace.get_tracer(__name__)


def create_order(order_id):
    with tracer.start_as_current_span("create_order"):
        tasks.bill_order(order_id)


if __name__ == "__main__":
    create_order(1)
'''

HUEY_PRODUCER_INJECTED = '''\
"""Order service: enqueue the billing task with a carrier of the request's span."""

import otel_setup  # noqa: F401
import tasks
from opentelemetry import trace
from opentelemetry.propagate import inject

tracer = trace.get_tracer(__name__)


def create_order(order_id):
    with tracer.start_as_current_span("create_order"):
        carrier = {}
        inject(carrier)
        tasks.bill_order(order_id, trace_ctx=carrier)


if __name__ == "__main__":
    create_order(1)
'''

# the worker: huey's own dequeue/execute, as its consumer loop runs them, in a separate process
HUEY_WORKER = '''\
import time

import otel_setup  # noqa: F401
from tasks import huey

deadline = time.monotonic() + 30
task = None
while task is None and time.monotonic() < deadline:
    task = huey.dequeue()
assert task is not None, "no task was enqueued"
huey.execute(task)
'''


def _task_findings(project: Path) -> set[tuple[str, str]]:
    proc = proplint(project, "check", "--no-cache", "--output-format", "json", "producer.py", "tasks.py")
    assert proc.returncode in (0, 1), proc.stderr
    return {(Path(d["filename"]).name, d["code"]) for d in json.loads(proc.stdout)}


def prove_twins(root: Path, env: dict, invalid: dict, valid: dict, reported: set[tuple[str, str]],
                python: Path | None = None) -> None:
    """The INVALID project (files by name) gives two traces and the `reported` findings; its hand-written
    VALID twin one trace (the task's span a child of the producer's) and no finding. `consumer.py`, when
    given, is the worker, run after the producer in a process of its own; both run with `python` when given
    (the library's own environment), proplint with this one."""
    for is_valid, files in enumerate([invalid, valid]):
        project = root / ("valid" if is_valid else "invalid")
        write_files(project, {"pyproject.toml": "[tool.proplint]\n", "otel_setup.py": OTEL_SETUP, **files})
        assert _task_findings(project) == (set() if is_valid else reported)
        spans = spans_from(run_python(["producer.py"], cwd=project, env=env, timeout=60, executable=python).stdout)
        if "consumer.py" in files:
            spans += spans_from(run_python(["consumer.py"], cwd=project, env=env, timeout=60,
                                           executable=python).stdout)
        root_span, handled = span(spans, "create_order"), span(spans, "bill_order")
        if is_valid:
            assert handled["trace_id"] == root_span["trace_id"] and handled["parent_id"] == root_span["span_id"]
        else:
            assert handled["trace_id"] != root_span["trace_id"] and handled["parent_id"] is None


def test_huey_task_queue(tmp_path, redis_server):
    prove_twins(tmp_path, {"BROKER_PORT": str(redis_server.port)},
                {"tasks.py": HUEY_TASKS, "producer.py": HUEY_PRODUCER, "consumer.py": HUEY_WORKER},
                {"tasks.py": HUEY_TASKS_RESTORED, "producer.py": HUEY_PRODUCER_INJECTED, "consumer.py": HUEY_WORKER},
                {("producer.py", "PRP301"), ("tasks.py", "PRP302")})


# rq on the real redis-server; the worker is rq's own SimpleWorker (the job runs in the worker's process,
# not a fork of it), in a process of its own. The job is enqueued from its module (the worker
# imports it by that name).
RQ_TASKS = '''\
"""Billing jobs on rq."""

import os

from opentelemetry import trace
from redis import Redis
from rq import Queue

tracer = trace.get_tracer(__name__)
q = Queue("proof", connection=Redis(host="127.0.0.1", port=int(os.environ["BROKER_PORT"])))


def bill_order(order_id):
    with tracer.start_as_current_span("bill_order") as span:
        span.set_attribute("order_id", order_id)


def create_order(order_id):
    with tracer.start_as_current_span("create_order"):
        q.enqueue(bill_order, order_id)
'''

RQ_TASKS_CARRIED = '''\
"""Billing jobs on rq; the job continues the enqueuer's trace (a carrier in the job's meta)."""

import os

from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from redis import Redis
from rq import Queue, get_current_job

tracer = trace.get_tracer(__name__)
q = Queue("proof", connection=Redis(host="127.0.0.1", port=int(os.environ["BROKER_PORT"])))


def bill_order(order_id):
    carrier = get_current_job().meta.get("trace_context") or {}
    with tracer.start_as_current_span("bill_order", context=extract(carrier)) as span:
        span.set_attribute("order_id", order_id)


def create_order(order_id):
    with tracer.start_as_current_span("create_order"):
        carrier = {}
        inject(carrier)
        q.enqueue(bill_order, order_id, meta={"trace_context": carrier})
'''

TASKS_PRODUCER = '''\
import otel_setup  # noqa: F401
import tasks

tasks.create_order(1)
'''

# rq's own dequeue and the SimpleWorker's execute_job, the calls its work loop makes per job (work() itself
# hangs in its pub/sub teardown with rq 3.0 and redis-py 8)
RQ_WORKER = '''\
import otel_setup  # noqa: F401
from rq import Queue, SimpleWorker

from tasks import q

job, queue = Queue.dequeue_any([q], 30, connection=q.connection)
SimpleWorker([q], connection=q.connection).execute_job(job, queue)
assert job.get_status() == "finished", job.get_status()
'''


def test_rq_task_queue(tmp_path, redis_server):
    prove_twins(tmp_path, {"BROKER_PORT": str(redis_server.port)},
                {"tasks.py": RQ_TASKS, "producer.py": TASKS_PRODUCER, "consumer.py": RQ_WORKER},
                {"tasks.py": RQ_TASKS_CARRIED, "producer.py": TASKS_PRODUCER, "consumer.py": RQ_WORKER},
                {("tasks.py", "PRP301"), ("tasks.py", "PRP302")})


# dramatiq with its own test double, StubBroker, and its own Worker, in the producer's process: the worker's
# threads start with an empty context, as a worker process would.
DRAMATIQ_TASKS = '''\
"""Billing actors on dramatiq."""

import dramatiq
from dramatiq.brokers.stub import StubBroker
from opentelemetry import trace

tracer = trace.get_tracer(__name__)
broker = StubBroker()
dramatiq.set_broker(broker)


@dramatiq.actor
def bill_order(order_id):
    with tracer.start_as_current_span("bill_order") as span:
        span.set_attribute("order_id", order_id)


def create_order(order_id):
    with tracer.start_as_current_span("create_order"):
        bill_order.send(order_id)
'''

DRAMATIQ_TASKS_CARRIED = '''\
"""Billing actors on dramatiq; the actor continues the sender's trace (a carrier in the message options)."""

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.middleware import CurrentMessage
from opentelemetry import trace
from opentelemetry.propagate import extract, inject

tracer = trace.get_tracer(__name__)
broker = StubBroker()
broker.add_middleware(CurrentMessage())
dramatiq.set_broker(broker)


@dramatiq.actor
def bill_order(order_id):
    message = CurrentMessage.get_current_message()
    with tracer.start_as_current_span("bill_order", context=extract(message.options.get("trace_ctx") or {})) as span:
        span.set_attribute("order_id", order_id)


def create_order(order_id):
    with tracer.start_as_current_span("create_order"):
        carrier = {}
        inject(carrier)
        bill_order.send_with_options(args=(order_id,), trace_ctx=carrier)
'''

DRAMATIQ_PRODUCER = '''\
import otel_setup  # noqa: F401
from dramatiq import Worker

import tasks

tasks.create_order(1)
worker = Worker(tasks.broker, worker_timeout=50)
worker.start()
tasks.broker.join(tasks.bill_order.queue_name, fail_fast=True)
worker.join()
worker.stop()
'''


def test_dramatiq_task_queue(tmp_path):
    prove_twins(tmp_path, {},
                {"tasks.py": DRAMATIQ_TASKS, "producer.py": DRAMATIQ_PRODUCER},
                {"tasks.py": DRAMATIQ_TASKS_CARRIED, "producer.py": DRAMATIQ_PRODUCER},
                {("tasks.py", "PRP301"), ("tasks.py", "PRP302")})


# celery on the real redis-server, with a real worker (`celery worker`, solo pool) in a process of its own: the
# driver stops it with SIGTERM (a warm shutdown, so the worker prints its spans at exit) once it has logged the
# task as done. The carrier travels in the message's headers and comes back in `self.request`.
CELERY_TASKS = '''\
"""Billing tasks on celery."""

import os

from celery import Celery
from opentelemetry import trace

tracer = trace.get_tracer(__name__)
app = Celery("tasks", broker=f"redis://127.0.0.1:{os.environ['BROKER_PORT']}/0")


@app.task
def bill_order(order_id):
    with tracer.start_as_current_span("bill_order") as span:
        span.set_attribute("order_id", order_id)


def create_order(order_id):
    with tracer.start_as_current_span("create_order"):
        bill_order.delay(order_id)
'''

CELERY_TASKS_CARRIED = '''\
"""Billing tasks on celery; the task continues the caller's trace (a carrier in the message's headers)."""

import os

from celery import Celery
from opentelemetry import trace
from opentelemetry.propagate import extract, inject

tracer = trace.get_tracer(__name__)
app = Celery("tasks", broker=f"redis://127.0.0.1:{os.environ['BROKER_PORT']}/0")


@app.task(bind=True)
def bill_order(self, order_id):
    carrier = self.request.get("trace_context") or {}
    with tracer.start_as_current_span("bill_order", context=extract(carrier)) as span:
        span.set_attribute("order_id", order_id)


def create_order(order_id):
    with tracer.start_as_current_span("create_order"):
        carrier = {}
        inject(carrier)
        bill_order.apply_async((order_id,), headers={"trace_context": carrier})
'''

CELERY_WORKER_APP = '''\
import otel_setup  # noqa: F401
from tasks import app

app.conf.worker_redirect_stdouts = False  # the spans are printed on stdout at exit
'''

CELERY_WORKER = '''\
"""A real celery worker (solo pool) in a process of its own, stopped with SIGTERM once it logged the task."""

import signal
import subprocess
import sys

worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "worker_app", "worker", "--pool=solo", "-c", "1",
                           "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
for line in worker.stderr:
    if "succeeded in" in line or "raised unexpected" in line:
        break
worker.send_signal(signal.SIGTERM)
out, _ = worker.communicate(timeout=30)
print(out, end="")
'''


def test_celery_task_queue(tmp_path, redis_server):
    worker = {"producer.py": TASKS_PRODUCER, "consumer.py": CELERY_WORKER, "worker_app.py": CELERY_WORKER_APP}
    prove_twins(tmp_path, {"BROKER_PORT": str(redis_server.port)},
                {"tasks.py": CELERY_TASKS, **worker}, {"tasks.py": CELERY_TASKS_CARRIED, **worker},
                {("tasks.py", "PRP301"), ("tasks.py", "PRP302")})


# taskiq on the real redis-server (taskiq-redis's ListQueueBroker): the worker is taskiq's own `start_listen`,
# the function each process of `taskiq worker` runs (its Receiver fetches the message and runs the task in
# the worker's event loop), in a process of its own, told to stop after one task. (The in-memory broker is no
# proof: it runs the task in the sender's loop, in a copy of its context.) The VALID twin sends the carrier
# as the message's labels and restores it from `Context.message.labels`.
TASKIQ_TASKS = '''\
"""Billing tasks on taskiq with a Redis list broker."""

import os

from opentelemetry import trace
from taskiq_redis import ListQueueBroker

tracer = trace.get_tracer(__name__)
broker = ListQueueBroker(f"redis://127.0.0.1:{os.environ['BROKER_PORT']}", queue_name="proof")


@broker.task
async def bill_order(order_id):
    with tracer.start_as_current_span("bill_order") as span:
        span.set_attribute("order_id", order_id)


async def create_order(order_id):
    with tracer.start_as_current_span("create_order"):
        await bill_order.kiq(order_id)
'''

TASKIQ_TASKS_CARRIED = '''\
"""Billing tasks on taskiq; the task continues the sender's trace (a carrier in the message's labels)."""

import os

from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from taskiq import Context, TaskiqDepends
from taskiq_redis import ListQueueBroker

tracer = trace.get_tracer(__name__)
broker = ListQueueBroker(f"redis://127.0.0.1:{os.environ['BROKER_PORT']}", queue_name="proof")


@broker.task
async def bill_order(order_id, context: Context = TaskiqDepends()):
    with tracer.start_as_current_span("bill_order", context=extract(context.message.labels)) as span:
        span.set_attribute("order_id", order_id)


async def create_order(order_id):
    with tracer.start_as_current_span("create_order"):
        carrier = {}
        inject(carrier)
        await bill_order.kicker().with_labels(**carrier).kiq(order_id)
'''

TASKIQ_PRODUCER = '''\
import asyncio

import otel_setup  # noqa: F401
import tasks


async def main():
    await tasks.broker.startup()
    await tasks.create_order(1)
    await tasks.broker.shutdown()


asyncio.run(main())
'''

TASKIQ_WORKER = '''\
import otel_setup  # noqa: F401
from taskiq.cli.worker.args import WorkerArgs
from taskiq.cli.worker.run import start_listen

start_listen(WorkerArgs.from_cli(["tasks:broker", "--max-tasks-per-child", "1", "--no-configure-logging"]))
'''


def test_taskiq_task_queue(tmp_path, redis_server):
    prove_twins(tmp_path, {"BROKER_PORT": str(redis_server.port)},
                {"tasks.py": TASKIQ_TASKS, "producer.py": TASKIQ_PRODUCER, "consumer.py": TASKIQ_WORKER},
                {"tasks.py": TASKIQ_TASKS_CARRIED, "producer.py": TASKIQ_PRODUCER, "consumer.py": TASKIQ_WORKER},
                {("tasks.py", "PRP301"), ("tasks.py", "PRP302")})


# arq on the real redis-server, in arq's own environment (`tests/arq_env.py`: every arq release pins redis<6,
# the test extra has redis-py 8). The worker is arq's own (`run_worker`, what the `arq` command runs, in burst
# mode: it runs the queued job and stops), in a process of its own; its `WorkerSettings` live in another module
# than the jobs they list, so PRP302 is found through the project index. The VALID twin passes the carrier as
# a job keyword and restores it in the job.
ARQ_TASKS = '''\
"""Billing jobs on arq."""

import os

from arq import create_pool
from arq.connections import RedisSettings
from opentelemetry import trace

tracer = trace.get_tracer(__name__)
REDIS = RedisSettings(host="127.0.0.1", port=int(os.environ["BROKER_PORT"]))


async def bill_order(ctx, order_id):
    with tracer.start_as_current_span("bill_order") as span:
        span.set_attribute("order_id", order_id)


async def create_order(order_id):
    with tracer.start_as_current_span("create_order"):
        redis = await create_pool(REDIS)
        await redis.enqueue_job("bill_order", order_id)
        await redis.aclose()
'''

ARQ_TASKS_CARRIED = '''\
"""Billing jobs on arq; the job continues the enqueuer's trace (a carrier passed as a job keyword)."""

import os

from arq import create_pool
from arq.connections import RedisSettings
from opentelemetry import trace
from opentelemetry.propagate import extract, inject

tracer = trace.get_tracer(__name__)
REDIS = RedisSettings(host="127.0.0.1", port=int(os.environ["BROKER_PORT"]))


async def bill_order(ctx, order_id, trace_ctx=None):
    with tracer.start_as_current_span("bill_order", context=extract(trace_ctx or {})) as span:
        span.set_attribute("order_id", order_id)


async def create_order(order_id):
    with tracer.start_as_current_span("create_order"):
        carrier = {}
        inject(carrier)
        redis = await create_pool(REDIS)
        await redis.enqueue_job("bill_order", order_id, trace_ctx=carrier)
        await redis.aclose()
'''

ARQ_WORKER_SETTINGS = '''\
"""The worker's settings (`arq worker.WorkerSettings`): the jobs are another module's."""

from tasks import REDIS, bill_order


class WorkerSettings:
    functions = [bill_order]
    redis_settings = REDIS
'''

ARQ_PRODUCER = '''\
import asyncio

import otel_setup  # noqa: F401
import tasks

asyncio.run(tasks.create_order(1))
'''

ARQ_WORKER = '''\
import otel_setup  # noqa: F401
from arq import run_worker

from worker import WorkerSettings

worker = run_worker(WorkerSettings, burst=True, handle_signals=False)
assert worker.jobs_complete == 1 and worker.jobs_failed == 0, (worker.jobs_complete, worker.jobs_failed)
'''


@pytest.fixture(scope="module")
def arq_python():
    import arq_env
    from messaging_support import in_ci

    try:
        return arq_env.ensure()
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        if in_ci():
            pytest.fail(f"arq's environment could not be built: {exc}")
        pytest.skip(f"arq's environment could not be built (no package index?): {exc}")


def test_arq_task_queue(tmp_path, redis_server, arq_python):
    worker = {"worker.py": ARQ_WORKER_SETTINGS, "producer.py": ARQ_PRODUCER, "consumer.py": ARQ_WORKER}
    prove_twins(tmp_path, {"BROKER_PORT": str(redis_server.port)},
                {"tasks.py": ARQ_TASKS, **worker}, {"tasks.py": ARQ_TASKS_CARRIED, **worker},
                {("tasks.py", "PRP301"), ("tasks.py", "PRP302")}, python=arq_python)
