"""Destinations that are not a trace hop (`docs/relevance.md`, "Messages that continue no trace" and "Calls
that leave the system"): a Redis list drained into a table, a local server the service launches itself.
Each class has both sides: the shape real code has (no finding) and its twin that still loses a context."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings, strategies as st

from proplint.families.http.sidecars import launched_ports
from proplint.registry import load_catalog

PUSH = ("import json\nimport redis\n\nr = redis.Redis()\n\n\n"
        "def store_log(record):\n    r.rpush('logs', json.dumps({'level': record.level, 'text': record.text}))\n")

#: a periodic task that pops records in batches and writes them to a table in one call
DRAIN = ("from app.cache import cache\nfrom app.models import LogEntry\n\n\n"
         "def drain(queue='logs', limit=100):\n    batch = []\n    while len(batch) < limit:\n"
         "        raw = cache.lpop(queue)\n        if not raw:\n            break\n"
         "        entry: LogEntry | None = LogEntry.from_json(raw)\n"
         "        if entry:\n            batch.append(entry)\n"
         "    LogEntry.objects.bulk_create(batch)\n")
#: the project's cache helper: a wrapper of the same name (its callers are judged) and a whole read
CACHE = ("import redis\n\n_r = redis.Redis()\n\n\nclass Cache:\n"
         "    def lpop(self, key):\n        return _r.lpop(key)\n\n"
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
    # collected for the bulk write, but each one is also handled as it comes
    DRAIN.replace("            batch.append(entry)\n", "            handle(entry)\n            batch.append(entry)\n"),
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


# --- a local server the service launches itself ----------------------------------------------------------

MANAGER = (
    "import asyncio\n\nimport aiohttp\n\n\nclass ServerManager:\n    def __init__(self, settings):\n"
    "        self.settings = settings\n        self.http_session = None\n"
    "        self.server_url = f\"http://localhost:{settings.CHECKER_PORT}\"\n\n"
    "    async def start(self):\n        cmd = [\n            \"java\",\n            \"-Xmx512m\",\n"
    "            \"-jar\",\n            str(self.settings.CHECKER_JAR),\n            \"--port\",\n"
    "            str(self.settings.CHECKER_PORT),\n        ]\n"
    "        self.process = await asyncio.create_subprocess_exec(*cmd)\n"
    "        if not self.http_session:\n            self.http_session = aiohttp.ClientSession()\n\n"
    "    async def healthy(self):\n"
    "        async with self.http_session.get(f\"{self.server_url}/v2/languages\") as response:\n"
    "            return response.status == 200\n")
#: another class of the service talks to the same server through a session its getter returns
WRAPPER = (
    "import aiohttp\n\n\nclass Checker:\n    def __init__(self, settings, manager):\n        self.manager = manager\n"
    "        self.server_url = f\"http://localhost:{settings.CHECKER_PORT}\"\n        self.http_session = None\n\n"
    "    async def _ensure_session(self):\n        if not self.http_session:\n"
    "            self.http_session = aiohttp.ClientSession()\n        return self.http_session\n\n"
    "    async def check(self, text):\n        session = await self._ensure_session()\n"
    "        async with session.post(f\"{self.server_url}/v2/check\", data={\"text\": text}) as response:\n"
    "            return await response.json()\n")
SERVICE = {"svc/__init__.py": "", "svc/manager.py": MANAGER, "svc/checker.py": WRAPPER}


def http_lines(project):
    return [f.line for f in project.check() if f.code.startswith("PRP1")]


def test_a_session_to_the_server_the_class_launches_is_not_reported(make_project):
    assert http_lines(make_project(MANAGER, {}, SERVICE, path="svc/manager.py")) == []


def test_a_session_to_a_launched_server_from_another_module_is_not_reported(make_project):
    assert http_lines(make_project(WRAPPER, {}, SERVICE, path="svc/checker.py")) == []


@pytest.mark.parametrize("launch", [
    # a Python child may be the project's own traced service
    ("\"java\",\n            \"-Xmx512m\",\n            \"-jar\",", "sys.executable,\n            \"-m\",\n"
                                                                   "            \"svc.worker\","),
    # launched with a tracing agent: the child reads trace headers
    ("\"-Xmx512m\",", "\"-javaagent:/otel/opentelemetry-javaagent.jar\","),
    # a port the launch does not pass: another local process (a sidecar proxy, a Dapr runtime) may read them
    ("str(self.settings.CHECKER_PORT),\n        ]", "str(self.settings.ADMIN_PORT),\n        ]"),
])
def test_a_loopback_server_not_known_to_be_an_untraced_child_is_reported(make_project, launch):
    manager = MANAGER.replace(*launch)
    assert manager != MANAGER
    assert http_lines(make_project(WRAPPER, {}, {**SERVICE, "svc/manager.py": manager}, path="svc/checker.py")) == [12]


def test_an_inline_port_flag_names_the_port(make_project):
    manager = MANAGER.replace("            \"--port\",\n            str(self.settings.CHECKER_PORT),\n",
                              "            f\"--port={self.settings.CHECKER_PORT}\",\n")
    assert manager != MANAGER
    assert http_lines(make_project(WRAPPER, {}, {**SERVICE, "svc/manager.py": manager}, path="svc/checker.py")) == []
    other = manager.replace("f\"--port={self.settings.CHECKER_PORT}\"", "f\"--log={self.settings.CHECKER_LOG}\"")
    assert http_lines(make_project(WRAPPER, {}, {**SERVICE, "svc/manager.py": other}, path="svc/checker.py")) == [12]


@pytest.mark.parametrize("change", [
    # a public getter: other classes make their requests on it
    ("_ensure_session", "ensure_session"),
    # handed to another object, which makes its own requests
    ("        self.http_session = None\n\n", "        self.http_session = None\n\n    def share(self, other):\n"
                                             "        other.use(self.http_session)\n\n"),
    # a request under `async with` on the session, to a service of the system
    ("    async def check(self, text):", "    async def report(self, result):\n"
                                       "        async with self.http_session as s:\n"
                                       "            await s.post(\"http://results:8000/api\", json=result)\n\n"
                                       "    async def check(self, text):"),
])
def test_a_session_that_leaves_the_class_or_calls_a_service_is_reported(make_project, change):
    wrapper = WRAPPER.replace(*change)
    assert wrapper != WRAPPER
    assert http_lines(make_project(wrapper, {}, {**SERVICE, "svc/checker.py": wrapper}, path="svc/checker.py"))


def test_a_session_that_also_calls_a_service_of_the_system_is_reported(make_project):
    wrapper = WRAPPER + ("\n    async def report(self, result):\n"
                         "        session = await self._ensure_session()\n"
                         "        await session.post(\"http://results:8000/api/results\", json=result)\n")
    assert http_lines(make_project(wrapper, {}, {**SERVICE, "svc/checker.py": wrapper}, path="svc/checker.py")) == [12]


def test_a_url_made_from_another_methods_locals_is_not_read_from_the_constructing_one(make_project):
    code = ("import aiohttp\n\n\nclass Client:\n    async def start(self):\n"
            "        url = 'https://api.github.com/meta'\n        self.session = aiohttp.ClientSession()\n"
            "        await self.session.get(url)\n\n    async def report(self, settings):\n"
            "        url = settings.RESULTS_URL\n        await self.session.post(url)\n")
    assert http_lines(make_project(code)) == [7]
    assert http_lines(make_project(code.replace("        await self.session.post(url)\n", ""))) == []


@pytest.mark.parametrize("url", ["\"http://localhost:8010/v2/check\"", "\"http://127.0.0.1:8010/v2/check\""])
def test_a_literal_port_of_a_command_line_launch(make_project, url):
    launcher = ("import subprocess\n\n\ndef start():\n"
                "    return subprocess.Popen(\"node server.js --port 8010\", shell=True)\n")
    code = f"import requests\n\n\ndef check(text):\n    return requests.post({url}, data=text)\n"
    files = {"svc/__init__.py": "", "svc/launch.py": launcher}
    assert http_lines(make_project(code, {}, files, path="svc/check.py")) == []
    assert http_lines(make_project(code.replace("8010", "8011"), {}, files, path="svc/check.py")) == [5]


# --- a URL that is content: the code also takes it as a `data:` URL ---------------------------------------

FETCH = (
    "import base64\n\nimport httpx\n\n\nasync def _fetch_image(url):\n"
    "    async with httpx.AsyncClient(timeout=5) as client:\n"
    "        response = await client.get(url, follow_redirects=True)\n"
    "        return response.content\n\n\n"
    "def _scheme(url):\n    return url.split(':', 1)[0].lower()\n\n\n"
    "async def to_base64(message):\n    for part in message.content:\n        url = part.image_url\n"
    "        if _scheme(url) == 'data':\n            part.data = url.split(',', 1)[1]\n            continue\n"
    "        part.data = base64.b64encode(await _fetch_image(url)).decode()\n")


def test_fetching_a_url_that_may_be_a_data_url_is_not_reported(make_project):
    assert http_lines(make_project(FETCH)) == []
    inline = ("import httpx\n\n\nasync def load(url):\n    if url.startswith('data:'):\n        return url\n"
              "    return httpx.get(url).content\n")
    assert http_lines(make_project(inline)) == []


@pytest.mark.parametrize("change", [
    # no caller treats the URL as content: a URL like any other (maybe a service of the system)
    ("        if _scheme(url) == 'data':\n            part.data = url.split(',', 1)[1]\n            continue\n", ""),
    # a public function: callers in other modules may hand it a service's URL
    ("_fetch_image", "fetch_image"),
    # one caller checks, another hands in a URL from the settings
    ("    for part in message.content:",
     "    await _fetch_image(settings.IMAGES_URL)\n    for part in message.content:"),
])
def test_a_url_not_shown_to_be_content_is_reported(make_project, change):
    assert http_lines(make_project(FETCH.replace(*change))) == [7]


_PROGRAMS = st.sampled_from(["java", "node", "/usr/bin/java", "redis-server", "languagetool", "./bin/renderer"])
_PYTHON = st.sampled_from(["python", "python3.12", "/usr/bin/python3", "uvicorn", "gunicorn", "celery"])


def _launch(program: str, flag: str, port: int, form: str) -> str:
    args = [program, "-jar", "server.jar", *((f"{flag}={port}",) if flag.endswith("port") and form == "inline"
                                             else (flag, str(port)))]
    if form == "line":
        return f"import subprocess\n\nsubprocess.Popen({' '.join(args)!r}, shell=True)\n"
    return f"import asyncio\n\n\nasync def start():\n    await asyncio.create_subprocess_exec(*{args!r})\n"


@settings(max_examples=60, deadline=None)
@given(_PROGRAMS, st.sampled_from(["--port", "-p", "--http-port", "-port"]), st.integers(1, 65535),
       st.sampled_from(["list", "line", "inline"]))
def test_the_port_passed_to_a_launched_program_is_collected(program, flag, port, form):
    source = _launch(program, flag, port, form)
    tree = ast.parse(source)
    assert launched_ports(tree, {"subprocess": "subprocess", "asyncio": "asyncio"}, "svc.x", None,
                          load_catalog()) == [str(port)]


@settings(max_examples=30, deadline=None)
@given(_PYTHON, st.integers(1, 65535), st.sampled_from(["list", "line"]))
def test_a_python_child_or_an_agent_gives_no_port(program, port, form):
    catalog = load_catalog()
    imports = {"subprocess": "subprocess", "asyncio": "asyncio"}
    assert launched_ports(ast.parse(_launch(program, "--port", port, form)), imports, "svc.x", None, catalog) == []
    agent = _launch("java", "--port", port, form).replace("-jar", "-javaagent:otel.jar -jar" if form == "line"
                                                          else "-javaagent:otel.jar")
    assert launched_ports(ast.parse(agent), imports, "svc.x", None, catalog) == []
