"""Destinations that are not a trace hop (`docs/relevance.md`, "Messages that continue no trace" and "Calls
that leave the system"): a Redis list drained into a table, a local server the service launches itself.
Each class has both sides: the shape real code has (no finding) and its twin that still loses a context."""

from __future__ import annotations

import pytest

PUSH = ("import json\nimport redis\n\nr = redis.Redis()\n\n\n"
        "def store_log(record):\n    r.rpush('logs', json.dumps({'level': record.level, 'text': record.text}))\n")

#: a periodic task that pops records in batches and writes them to a table in one call
DRAIN = ("from app.cache import cache\nfrom app.models import LogEntry\n\n\n"
         "def drain(queue='logs', limit=100):\n    batch = []\n    while len(batch) < limit:\n"
         "        raw = cache.lpop(queue)\n        if not raw:\n            break\n"
         "        entry: LogEntry | None = LogEntry.from_json(raw)\n        if entry:\n            batch.append(entry)\n"
         "    LogEntry.objects.bulk_create(batch)\n")
#: the project's cache helper: a wrapper of the same name (its callers are judged) and a whole read
CACHE = ("import redis\n\n_r = redis.Redis()\n\n\nclass Cache:\n    def lpop(self, key):\n        return _r.lpop(key)\n\n"
         "    def lrange(self, key, start, end):\n        return _r.lrange(key, start, end)\n\n\ncache = Cache()\n")
#: a wait for a wake-up token: the popped item is dropped
WAKE = ("import redis\n\nr = redis.Redis()\n\n\ndef wait_ready(key):\n    r.blpop([key], timeout=5)\n"
        "    return True\n")
FILES = {"app/__init__.py": "", "app/cache.py": CACHE, "app/drain.py": DRAIN, "app/wake.py": WAKE,
         "app/models.py": "class LogEntry:\n    pass\n"}


def prp301(project):
    return [f.line for f in project.check() if f.code == "PRP301"]


def test_a_list_drained_into_a_table_is_storage(make_project):
    assert prp301(make_project(PUSH, {}, FILES, path="app/logs.py")) == []


def test_a_result_list_read_whole_beside_wrappers_and_wake_up_waits_is_storage(make_project):
    files = {**FILES, "app/drain.py": "from app.cache import cache\n\n\ndef results(key):\n"
                                      "    return cache.lrange(key, 0, -1)\n"}
    assert prp301(make_project(PUSH, {}, files, path="app/logs.py")) == []


@pytest.mark.parametrize("drain", [
    # each popped item is processed as it comes: a worker, the pushed record is its unit of work
    DRAIN.replace("            batch.append(entry)\n", "            handle(entry)\n"),
    # collected, but the function writes no table in bulk: the batch may be handled item by item
    DRAIN.replace("    LogEntry.objects.bulk_create(batch)\n", "    for entry in batch:\n        handle(entry)\n"),
    # the pop outside a loop: one message taken
    "from app.cache import cache\n\n\ndef take(queue):\n    return handle(cache.lpop(queue))\n",
])
def test_a_list_a_worker_takes_messages_off_is_a_queue(make_project, drain):
    assert prp301(make_project(PUSH, {}, {**FILES, "app/drain.py": drain}, path="app/logs.py")) == [8]


def test_a_wrapper_of_another_name_hides_its_callers_so_it_takes_messages(make_project):
    cache = CACHE.replace("def lpop(self, key)", "def dequeue(self, key)")
    assert prp301(make_project(PUSH, {}, {**FILES, "app/cache.py": cache}, path="app/logs.py")) == [8]


def test_a_blocking_pop_whose_item_is_used_takes_messages(make_project):
    wake = WAKE.replace("    r.blpop([key], timeout=5)\n    return True\n", "    return r.blpop([key], timeout=5)\n")
    assert prp301(make_project(PUSH, {}, {**FILES, "app/wake.py": wake}, path="app/logs.py")) == [8]
