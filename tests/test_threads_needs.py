"""The threads family's prefilter needs (each rule's `needs`, in `proplint/families/threads/rules/`): per
rule, a file the rule reports passes `possible()`, and a realistic near-miss without the words (or the import) the rule needs is ruled
out for that code. Every case is also run with the prefilter off, so a ruled-out file is one the rule
really does not report on (the need is sound there) and a kept file one it does."""

from __future__ import annotations

import re

import pytest

from proplint.engine import analyse
from proplint.settings import make_settings
from proplint.exactness import unfiltered

_WORKER = {"svc/__init__.py": "", "svc/threads.py": "import threading\n\nclass Worker(threading.Thread):\n"
                                                    "    daemon = True\n"}
_POOL = {"svc/__init__.py": "", "svc/pools.py": "from concurrent.futures import ThreadPoolExecutor\n\n"
                                                "class Pool(ThreadPoolExecutor):\n    pass\n"}
_FLAG = {"app/flags.py": "import sys\n\nINHERITS = sys.flags.thread_inherit_context\n"}

# (code, source, extra files, config, path): the rule reports this file, and the prefilter keeps it
REPORTED = [
    ("PRP201", "import threading\n\ndef handle(work):\n    threading.Thread(target=work).start()\n", {}, {}, None),
    # a project subclass: no `Thread` word and no `threading` import in the file
    ("PRP201", "from svc.threads import Worker\n\ndef handle(work):\n    Worker(target=work).start()\n",
     _WORKER, {}, None),
    # inside a package called `threading`, a relative import reaches `threading.Thread` with no import of it
    ("PRP201", "from . import Thread\n\ndef handle(work):\n    Thread(target=work).start()\n",
     {"threading/__init__.py": ""}, {}, "threading/helpers.py"),
    ("PRP202", "from threading import Timer\n\ndef later(fn):\n    Timer(5, fn).start()\n", {}, {}, None),
    ("PRP203", "from concurrent.futures import ThreadPoolExecutor\n\ndef fan_out(fn, a):\n"
               "    with ThreadPoolExecutor() as ex:\n        return ex.submit(fn, a)\n", {}, {}, None),
    ("PRP203", "from svc.pools import Pool\n\ndef fan_out(fn, a):\n    with Pool() as p:\n"
               "        return p.submit(fn, a)\n", _POOL, {}, None),
    ("PRP204", "async def render(loop, fn):\n    return await loop.run_in_executor(None, fn)\n", {}, {}, None),
    ("PRP205", "import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
               "def f(pool: ThreadPoolExecutor, fns):\n    ctx = contextvars.copy_context()\n"
               "    return list(pool.map(ctx.run, fns))\n", {}, {}, None),
    ("PRP206", "import multiprocessing\n\ndef spawn(fn):\n    multiprocessing.Process(target=fn).start()\n",
     {}, {}, None),
    ("PRP206", "from concurrent.futures import ProcessPoolExecutor\n\nasync def crunch(loop, fn):\n"
               "    return await loop.run_in_executor(ProcessPoolExecutor(), fn)\n", {}, {}, None),
    ("PRP207", "import threading\n\ndef handle(job):\n    threading.Thread(target=job, context=None).start()\n",
     {}, {"target-version": "py314"}, None),
    # the project relies on thread_inherit_context: any thread spawn is PRP207, `context` or not
    ("PRP207", "import threading\n\ndef handle(job):\n    threading.Timer(1, job).start()\n", _FLAG,
     {"target-version": "py314"}, None),
    ("PRP208", "import threading\n\ndef watch(loop, cb):\n    loop.call_soon_threadsafe(cb)\n\n"
               "def start(loop, cb):\n    threading.Thread(target=watch, args=(loop, cb)).start()\n", {}, {}, None),
]

# (code, source, extra files, config, a word the old single word list matched): not reported, ruled out
NEAR_MISSES = [
    # a `Thread` that is not threading's (a compat module re-exporting it is not followed either)
    ("PRP201", "from .compat import Thread\n\ndef handle(work):\n    Thread(target=work).start()\n",
     {}, {}, "Thread"),
    ("PRP201", "# Thread-safe: guarded by _lock\nimport asyncio\n\nasync def handle(work):\n"
               "    await asyncio.to_thread(work)\n", {}, {}, "Thread"),
    ("PRP202", "import time\n\nclass Timer:\n    def __init__(self, fn):\n        self.fn = fn\n\n"
               "def timed(fn):\n    return Timer(fn)\n", {}, {}, "Timer"),
    # `submit` on something that is not an executor (a Dask/Celery-like client)
    ("PRP203", "def fan_out(client, fn, a):\n    return client.submit(fn, a)\n", {}, {}, "submit"),
    # a thread pool, but none of its methods
    ("PRP203", "from concurrent.futures import ThreadPoolExecutor\n\nPOOL = ThreadPoolExecutor(4)\n\n"
               "def stop():\n    POOL.shutdown(wait=False)\n", {}, {}, "ThreadPoolExecutor"),
    ("PRP204", "import asyncio\n\nasync def render(fn):\n    return await asyncio.to_thread(fn)\n", {}, {},
     "to_thread"),
    # a spawn, and a ContextVar, but no Context object whose `.run` is handed over
    ("PRP205", "import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
               "request_id = contextvars.ContextVar('request_id')\n\ndef f(pool: ThreadPoolExecutor, fns):\n"
               "    return list(pool.map(lambda fn: fn(), fns))\n", {}, {}, "ThreadPoolExecutor"),
    ("PRP206", "from psutil import Process\n\ndef rss(pid):\n    return Process(pid).memory_info().rss\n",
     {}, {}, "Process"),
    ("PRP206", "from sqlalchemy.pool import Pool\n\ndef size(pool: Pool):\n    return pool.size()\n", {}, {}, "Pool"),
    # a thread without `context=None`, in a project that does not rely on thread_inherit_context
    ("PRP207", "import threading\n\ndef handle(job):\n    threading.Thread(target=job, daemon=True).start()\n",
     {}, {"target-version": "py314"}, "Thread"),
    # a callback from a signal handler: no thread is started in this module
    ("PRP208", "import signal\n\ndef install(loop, cb):\n"
               "    signal.signal(signal.SIGTERM, lambda *_: loop.call_soon_threadsafe(cb))\n", {}, {},
     "call_soon_threadsafe"),
]


def _run(make_project, source, files, config, path):
    project = make_project(source, config, files, path or "example.py")
    settings = make_settings(project.config(), select=["PRP2"], use_cache=False, include_default_off=True)
    data = project.main.read_bytes()
    rel = project.main.relative_to(project.root).as_posix()
    found = {f.code for f in analyse(data, str(project.main), rel, unfiltered(settings)).findings}
    return settings.possible(data), found, data


@pytest.mark.parametrize(("code", "source", "files", "config", "path"), REPORTED,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(REPORTED)])
def test_a_reported_file_passes_the_prefilter(make_project, code, source, files, config, path):
    possible, found, _ = _run(make_project, source, files, config, path)
    assert code in found, f"the example should be a {code} finding (found {sorted(found)})"
    assert code in possible


@pytest.mark.parametrize(("code", "source", "files", "config", "word"), NEAR_MISSES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(NEAR_MISSES)])
def test_a_near_miss_is_ruled_out(make_project, code, source, files, config, word):
    possible, found, data = _run(make_project, source, files, config, None)
    assert re.search(rb"\b%s\b" % word.encode(), data), "a near miss has a word the old word list matched"
    assert code not in found
    assert code not in possible


def test_no_rule_relies_on_the_flag_when_it_is_on_everywhere(make_project):
    """thread_inherit_context on in the launcher, on 3.14+: PRP207 has nothing to report, anywhere."""
    source = "import threading\n\ndef handle(job):\n    threading.Thread(target=job, context=None).start()\n"
    files = {"Dockerfile": 'ENV PYTHON_THREAD_INHERIT_CONTEXT=1\nCMD ["python", "-m", "app"]\n',
             "requirements.txt": "opentelemetry-sdk\n"}  # a deployed service with a context to lose
    possible, found, _ = _run(make_project, source, files, {"target-version": "py314"}, None)
    assert "PRP207" not in found and "PRP207" not in possible
    assert "PRP201" in possible
