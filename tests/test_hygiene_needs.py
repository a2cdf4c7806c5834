"""The hygiene family's per-rule prefilter needs (each rule's `needs`, `proplint/families/hygiene/rules/`).

For each rule: a minimal file the rule reports gets through the prefilter and is reported (so the need
lets it through), and a realistic near miss without the words the rule needs is ruled out for that code
(and, checked with every rule on and no prefilter, is indeed not reported).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from proplint.config import load_config
from proplint.engine import analyse
from proplint.settings import Settings, make_settings
from proplint.exactness import unfiltered

_TRACED = ("import functools\n\nfrom opentelemetry import trace\n\ntracer = trace.get_tracer(__name__)\n\n\n"
           "def traced(fn):\n    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n"
           "        with tracer.start_as_current_span(fn.__name__):\n            return fn(*args, **kwargs)\n"
           "    return wrapper\n")
_LOGGED = ("import functools\nimport logging\n\nlog = logging.getLogger(__name__)\n\n\n"
           "def logged(fn):\n    @functools.wraps(fn)\n    def wrapper(*args, **kwargs):\n"
           "        result = fn(*args, **kwargs)\n        log.info('done')\n        return result\n"
           "    return wrapper\n")
_CTX = "import contextvars\n\nuser_var = contextvars.ContextVar('user', default=None)\n"
_SETS = "from app.ctx import user_var\n\n\nasync def current_user(request):\n    user_var.set(request.user)\n"
_MIDDLEWARE = ("from starlette.middleware.base import BaseHTTPMiddleware\nfrom app.ctx import {var}\n\n\n"
               "class Audit(BaseHTTPMiddleware):\n    async def dispatch(self, request, call_next):\n"
               "        response = await call_next(request)\n        audit({var}.get())\n        return response\n")
_ASYNC_SPAN = "@tracer.start_as_current_span('checkout')\nasync def checkout(cart):\n    return await charge(cart)\n"
_WORKER = ("import asyncio\n\n\nasync def consume(queue):\n    while True:\n        message = await queue.get()\n"
           "{body}\n\n\nasync def lifespan(app):\n    asyncio.create_task(consume(app.state.q))\n    yield\n")

# code -> (files of a project where `app/x.py` is reported, files of a near miss where it is not)
CASES = {
    "PRP401": ({"app/x.py": _TRACED + "\n\n@traced\nasync def handle():\n    pass\n"},
               # a decorator that only checks its arguments before the call brackets nothing
               {"app/x.py": "def checked(fn):\n    def wrapper(*args):\n        assert args\n        return fn(*args)\n"
                            "    return wrapper\n\n\n@checked\nasync def handle():\n    pass\n"}),
    "PRP402": ({"app/x.py": "import contextvars\n\n\ndef handle():\n    v = contextvars.ContextVar('v')\n"
                            "    v.set(1)\n"},
               {"app/x.py": "import contextvars\n\n\ndef handle(fn):\n"
                            "    return contextvars.copy_context().run(fn)\n"}),
    "PRP403": ({"app/x.py": "import threading\n\n\nasync def handle():\n    state = threading.local()\n"
                            "    state.x = 1\n"},
               {"app/x.py": "import threading\n\n_local = threading.local()\n\n\ndef connection():\n"
                            "    return _local.conn\n"}),
    "PRP404": ({"app/x.py": "from opentelemetry import context\n\n\ndef handle(ctx):\n    context.attach(ctx)\n"
                            "    process()\n"},
               {"app/x.py": "class Signals:\n    def attach(self, handler):\n        self.handlers.append(handler)\n\n"
                            "    def connect(self, handler):\n        self.attach(handler)\n        self.ready()\n"}),
    "PRP405": ({"app/x.py": "import asyncio\nfrom opentelemetry import trace\n\n\nasync def handle():\n"
                            "    span = trace.get_current_span()\n    asyncio.create_task(work(span))\n"},
               {"app/x.py": "import asyncio\n\n\nasync def handle(job):\n    asyncio.create_task(work(job))\n"}),
    "PRP406": ({"app/x.py": "from contextvars import ContextVar\n\nfrom flask import Flask\n\napp = Flask(__name__)\n"
                            "user = ContextVar('user', default=None)\n\n\n@app.route('/orders')\ndef orders():\n"
                            "    user.set(current_user())\n    return list_orders()\n"},
               # a setter helper: nothing marks it as running on pooled threads
               {"app/x.py": "from contextvars import ContextVar\n\nuser = ContextVar('user', default=None)\n\n\n"
                            "def remember(value):\n    user.set(value)\n"}),
    "PRP407": ({"app/x.py": "from opentelemetry import trace\n\n\ndef rows(span):\n    with trace.use_span(span):\n"
                            "        yield 1\n"},
               # a span that is not current, ended in finally: the fix PRP407 asks for
               {"app/x.py": "def rows(tracer):\n    span = tracer.start_span('rows')\n    try:\n        yield 1\n"
                            "    finally:\n        span.end()\n"}),
    "PRP408": ({"app/__init__.py": "", "app/ctx.py": _CTX, "app/deps.py": _SETS,
                "app/x.py": _MIDDLEWARE.format(var="user_var")},
               # nothing in the project sets the variable: the middleware sees all there is
               {"app/__init__.py": "", "app/ctx.py": _CTX, "app/x.py": _MIDDLEWARE.format(var="user_var")}),
    "PRP409": ({"app/x.py": "@tracer.start_as_current_span('rows')\ndef rows():\n    yield 1\n"},
               {"app/x.py": "@tracer.start_as_current_span('rows')\ndef rows():\n    return [1]\n"}),
    "PRP410": ({"requirements.txt": "opentelemetry-api==1.22.0\n", "app/x.py": _ASYNC_SPAN},
               {"requirements.txt": "opentelemetry-api>=1.24.0\n", "app/x.py": _ASYNC_SPAN}),
    "PRP411": ({"app/x.py": _WORKER.format(body="        with tracer.start_as_current_span('consume'):\n"
                                                "            await handle(message)")},
               {"app/x.py": _WORKER.format(body="        await handle(message)")}),
    "PRP412": ({"app/x.py": _LOGGED + "\n\n@logged\nasync def handle():\n    pass\n"},
               # the same decorator in a project without async code, applied to nothing
               {"app/x.py": _LOGGED}),
}


def _settings(root: Path, files: dict[str, str]) -> Settings:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return make_settings(load_config(root), select=["PRP4"], use_cache=False, include_default_off=True)


def _codes(settings: Settings, root: Path, rel: str) -> set[str]:
    return {f.code for f in analyse((root / rel).read_bytes(), str(root / rel), rel, settings).findings}


@pytest.mark.parametrize("code", sorted(CASES))
def test_a_reported_file_passes_the_need_and_a_near_miss_does_not(code, tmp_path):
    hit, near = CASES[code]
    settings = _settings(tmp_path / "hit", hit)
    assert code in settings.possible((tmp_path / "hit/app/x.py").read_bytes())
    assert code in _codes(settings, tmp_path / "hit", "app/x.py")

    settings = _settings(tmp_path / "near", near)
    assert code not in settings.possible((tmp_path / "near/app/x.py").read_bytes())
    assert code not in _codes(unfiltered(settings), tmp_path / "near", "app/x.py")


def test_every_rule_has_a_case():
    assert sorted(CASES) == [f"PRP4{n:02d}" for n in range(1, 13)]


_STREAM = "from . import tracer\n\n\ndef rows():\n    with tracer.trace('rows'):\n        yield 1\n"


def test_a_relative_import_inside_the_package_of_a_catalog_name(tmp_path):
    # `ddtrace/stream.py`: `tracer.trace` is `ddtrace.tracer.trace` without the word `ddtrace` in the file
    settings = _settings(tmp_path / "vendored", {"ddtrace/__init__.py": "", "ddtrace/stream.py": _STREAM})
    assert "PRP407" in _codes(settings, tmp_path / "vendored", "ddtrace/stream.py")
    # elsewhere the same text names some other `tracer`, and the rule is ruled out
    settings = _settings(tmp_path / "app", {"app/__init__.py": "", "app/stream.py": _STREAM})
    assert "PRP407" not in settings.possible(_STREAM.encode())
    assert "PRP407" not in _codes(unfiltered(settings), tmp_path / "app", "app/stream.py")


def test_project_decorators_contextvars_and_thread_locals_come_from_the_index(tmp_path):
    files = {
        "pkg/__init__.py": "from .obs import tracé\n",
        "pkg/obs.py": _TRACED.replace("traced", "tracé"),
        "pkg/state.py": "import threading\n\n_local = threading.local()\n",
        "pkg/handlers.py": "from pkg import tracé\n\n\n@tracé\nasync def handle():\n    pass\n",
        "pkg/views.py": "from pkg.state import _local\n\n\nasync def view():\n    return _local.user\n",
    }
    settings = _settings(tmp_path, files)
    # a re-exported project decorator with a non-ASCII name: the prefilter sees its ASCII run `trac`
    assert "PRP401" in _codes(settings, tmp_path, "pkg/handlers.py")
    # a thread-local of a sync module, used in an `async def` of another
    assert "PRP403" in _codes(settings, tmp_path, "pkg/views.py")
    assert "PRP403" not in settings.possible(b"async def view():\n    return _other.user\n")
    # the same last name imported from another module is not that thread-local
    elsewhere = b"from pkg.cache import _local\n\n\nasync def view():\n    return _local.user\n"
    assert "PRP403" not in settings.possible(elsewhere, "pkg.views")


def test_a_decorator_applied_to_coroutines_elsewhere_lets_only_its_own_module_through(tmp_path):
    # `app/obs.py`'s `logged` is applied to an `async def` of `app/handlers.py`: PRP412 reports its wrapper
    # there; a `logged` of `app/legacy.py`, applied to nothing, is ruled out (only its name is the same)
    settings = _settings(tmp_path, {
        "app/__init__.py": "", "app/obs.py": _LOGGED, "app/legacy.py": _LOGGED,
        "app/handlers.py": "from app.obs import logged\n\n\n@logged\nasync def handle():\n    pass\n"})
    text = _LOGGED.encode()
    assert "PRP412" in settings.possible(text, "app.obs") and "PRP412" in _codes(settings, tmp_path, "app/obs.py")
    assert "PRP412" not in settings.possible(text, "app.legacy")
    assert "PRP412" not in _codes(unfiltered(settings), tmp_path, "app/legacy.py")
    assert "PRP412" in settings.possible(text)  # the module not known: every place is taken as met


def test_rules_the_project_rules_out_have_no_need(tmp_path):
    # no pin below the fixed release, and no ContextVar set anywhere: PRP410 and PRP408 cannot report
    settings = _settings(tmp_path, {"app/x.py": _ASYNC_SPAN})
    codes = {c for n in settings.file_filter().needs for c in n[0]}
    assert {"PRP408", "PRP410"}.isdisjoint(codes) and "PRP409" in codes


_ASYNC_LIBRARY = (
    "import asyncio\n\n\n"
    "class Pool:\n    async def get(self):\n        async with self.lock:\n            return await self.q.get()\n\n"
    "    def close(self):\n        try:\n            self.q.close()\n        finally:\n            self.closed = True\n")
_SYNC_ONLY_WRAPPER = (
    "import functools\nimport time\n\n\n"
    "def timed(fn):\n    @functools.wraps(fn)\n    def wrapper(*a):\n        start = time.perf_counter()\n"
    "        try:\n            return fn(*a)\n        finally:\n            print(time.perf_counter() - start)\n"
    "    return wrapper\n\n\n@timed\nasync def handler():\n    await asyncio.sleep(0)\n")


def test_the_ast_gate_keeps_files_without_a_sync_only_wrapper_from_libcst(tmp_path):
    settings = _settings(tmp_path, {"lib.py": _ASYNC_LIBRARY, "deco.py": _SYNC_ONLY_WRAPPER})
    exact = unfiltered(settings)
    lib = tmp_path / "lib.py"
    # the words of PRP412 are all there (`def`, `finally`, `async`), but no decorator with a wrapper is
    assert "PRP412" in settings.possible(lib.read_bytes())
    gated = analyse(lib.read_bytes(), str(lib), "lib.py", settings)
    assert not gated.parsed and gated.findings == []
    assert analyse(lib.read_bytes(), str(lib), "lib.py", exact).findings == []
    deco = tmp_path / "deco.py"
    found = analyse(deco.read_bytes(), str(deco), "deco.py", settings)
    # the timing bracket (`perf_counter` before, and read again in `finally`) is reported at its definition and
    # at its use on the `async def`
    assert found.parsed and sorted(f.code for f in found.findings) == ["PRP401", "PRP412"]


def test_the_gates_read_the_index_for_the_text_it_parsed_and_parse_any_other(tmp_path):
    from proplint.core.context import AstFile

    settings = _settings(tmp_path, {"lib.py": _ASYNC_LIBRARY, "deco.py": _SYNC_ONLY_WRAPPER})
    gates = settings.gates()
    for name, expected in (("lib.py", False), ("deco.py", True)):
        text = (tmp_path / name).read_bytes()
        indexed = AstFile.of(text, text, name, settings.index)
        assert [g(indexed) for g in gates.values()] == [expected] * len(gates)
        assert indexed._tree is None  # decided from the index's facts of this exact text: never parsed
        assert [g(AstFile.parse(text, name)) for g in gates.values()] == [expected] * len(gates)
    # an editor's unsaved text is not what the index read: parsed, and judged by what it says
    unsaved = _ASYNC_LIBRARY.encode()
    edited = AstFile.of(unsaved, unsaved, "deco.py", settings.index)
    assert not any(g(edited) for g in gates.values()) and edited._tree is not None


def test_checking_prints_no_syntax_warning_for_the_users_code(tmp_path):
    import subprocess
    import sys

    (tmp_path / "pyproject.toml").write_text("[tool.proplint]\n")
    (tmp_path / "deco.py").write_text('import re\nPATTERN = re.compile("\\d+")\n' + _SYNC_ONLY_WRAPPER)
    run = subprocess.run([sys.executable, "-m", "proplint", "check", "--no-cache", "."], cwd=tmp_path,
                         capture_output=True, text=True)
    assert run.returncode == 1 and "PRP412" in run.stdout
    assert "Warning" not in run.stderr, run.stderr


def test_the_prp401_gate_needs_a_scoped_decorator_on_a_coroutine_or_generator(tmp_path):
    deco = ("from opentelemetry import trace\nimport functools\ntracer = trace.get_tracer(__name__)\n\n\n"
            "def traced(fn):\n    @functools.wraps(fn)\n    def wrapper(*a):\n"
            "        with tracer.start_as_current_span(fn.__name__):\n            return fn(*a)\n    return wrapper\n")
    settings = _settings(tmp_path, {
        "app/__init__.py": "", "app/obs.py": deco,
        "app/uses.py": "from app.obs import traced as t\n\n\n@t\nasync def handler():\n    pass\n",
        "app/sync.py": "from app.obs import traced\n\n\n@traced\ndef handler():\n    return 1\n\n\n"
                       "async def undecorated():\n    pass\n",
    })
    exact = unfiltered(settings)
    uses, sync = tmp_path / "app" / "uses.py", tmp_path / "app" / "sync.py"
    assert [f.code for f in analyse(uses.read_bytes(), str(uses), "app/uses.py", settings).findings] == ["PRP401"]
    # the same decorator on a plain function: the gate rules PRP401 out before LibCST, and rightly
    assert "PRP401" in settings.possible(sync.read_bytes())
    gated = analyse(sync.read_bytes(), str(sync), "app/sync.py", settings)
    assert not gated.parsed and gated.findings == []
    assert analyse(sync.read_bytes(), str(sync), "app/sync.py", exact).findings == []
