"""Property tests for the PRP101 fixes, and a robustness test on grammar-generated programs.

The generated files vary the `httpx.AsyncClient(...)` call sites (arguments, comments and line breaks
inside and after the call, how the client is bound, how httpx is imported, unrelated code around them)
in both profiles. For every example the fix must compile, be idempotent, remove the finding, and change
nothing but the call (factory profile) or insert nothing but the `instrument_client` line (OpenTelemetry
profile), plus the import (and the blank line LibCST's `AddImportsVisitor` may put after it).
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from proplint.config import load_config
from proplint.engine import analyse
from proplint.settings import Settings, make_settings
from proplint.fixes import fix_source

from runtime_support import write_files

# --- projects (built once) ------------------------------------------------------------------------------

ASYNC_CM_FACTORY = '''\
import contextlib

import httpx


@contextlib.asynccontextmanager
async def traced_client(timeout=10.0, **kwargs):
    async with httpx.AsyncClient(timeout=timeout, **kwargs) as client:
        yield client
'''

CLIENT_FACTORY = '''\
import httpx


def make_client(**kwargs):
    return httpx.AsyncClient(**kwargs)
'''


@dataclass(frozen=True)
class Profile:
    name: str
    files: dict
    #: factory function name (factory profiles) or None (OpenTelemetry)
    factory: str | None = None
    factory_kind: str | None = None  # "async_cm" | "client"
    #: whether the fix is safe for every generated site (so it is applied without --unsafe-fixes)
    safe: bool = False

    @property
    def import_line(self) -> str:
        if self.factory:
            return f"from svc.http import {self.factory}"
        return "from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor"


PROFILES = {
    "otel-dep": Profile("otel-dep", {
        "pyproject.toml": '[project]\nname = "p"\nversion = "0"\n\n[tool.proplint]\n',
        "requirements.txt": "httpx\nopentelemetry-instrumentation-httpx\n",
    }, safe=True),
    # uses OpenTelemetry, and no dependency file names any of its distributions: nothing says whether the
    # httpx instrumentation is installed, so the fix is offered, unsafe (dependency files naming OpenTelemetry
    # but not the instrumentation would withhold it: tests/test_scheme.py)
    "otel-nodep": Profile("otel-nodep", {
        "pyproject.toml": '[project]\nname = "p"\nversion = "0"\ndependencies = ["httpx"]\n\n[tool.proplint]\n',
        "svc/__init__.py": "",
        "svc/telemetry.py": "from opentelemetry import trace\n\ntracer = trace.get_tracer(__name__)\n",
    }),
    "factory-cm": Profile("factory-cm", {
        "pyproject.toml": '[tool.proplint]\nhttp-client-factory = "svc.http:traced_client"\n',
        "svc/__init__.py": "",
        "svc/http.py": ASYNC_CM_FACTORY,
    }, factory="traced_client", factory_kind="async_cm"),
    "factory-client": Profile("factory-client", {
        "pyproject.toml": '[tool.proplint]\nhttp-client-factory = "svc.http:make_client"\n',
        "svc/__init__.py": "",
        "svc/http.py": CLIENT_FACTORY,
    }, factory="make_client", factory_kind="client"),
}


@pytest.fixture(scope="module")
def projects(tmp_path_factory) -> dict[str, tuple[Settings, Path]]:
    out = {}
    for name, profile in PROFILES.items():
        root = tmp_path_factory.mktemp(name)
        write_files(root, profile.files)
        settings = make_settings(load_config(root), use_cache=False)
        out[name] = (settings, root)
    return out


# --- generating call sites ------------------------------------------------------------------------------

IMPORT_STYLES = {
    "import httpx": "httpx.AsyncClient",
    "import httpx as hx": "hx.AsyncClient",
    "from httpx import AsyncClient as C": "C",
    "from httpx import AsyncClient": "AsyncClient",
}

COMMENTS = st.sampled_from(["# note", "# keep me", "# TODO: tune this", "# httpx.AsyncClient( in a comment",
                            "# (unbalanced", "# C D E"])
NAMES = st.sampled_from(["c", "client", "http", "session", "api_client"])


@st.composite
def separator(draw, indent: str) -> str:
    """What follows a comma (or the opening parenthesis) inside the call."""
    kind = draw(st.sampled_from(["space", "newline", "comment"]))
    if kind == "space":
        return " "
    if kind == "newline":
        return "\n" + indent
    return f"  {draw(COMMENTS)}\n{indent}"


@st.composite
def headers_value(draw, indent: str) -> str:
    kind = draw(st.sampled_from(["empty", "one", "multiline"]))
    if kind == "empty":
        return "{}"
    if kind == "one":
        return '{"X-Request-Source": "svc"}'
    return (f'{{\n{indent}    "X-A": "1",  {draw(COMMENTS)}\n{indent}    "X-B": "2",\n{indent}}}')


@st.composite
def call_text(draw, ctor: str, indent: str) -> str:
    inner = indent + "        "
    positional = draw(st.lists(st.sampled_from(['"http://api.invalid"', "auth", "None"]), max_size=2))
    keywords = draw(st.lists(st.sampled_from(["timeout", "headers", "base_url", "follow_redirects", "verify",
                                              "http2", "params", "cookies"]), unique=True, max_size=3))
    values = {
        "timeout": draw(st.sampled_from(["5.0", "None", "(1, 2)", "TIMEOUT"])),
        "headers": draw(headers_value(inner)),
        "base_url": '"http://api.invalid/v1"',
        "follow_redirects": "True",
        "verify": "False",
        "http2": "True",
        "params": '{"q": 1}',
        "cookies": "None",
    }
    args = [*positional, *(f"{k}={values[k]}" for k in keywords)]
    if draw(st.booleans()):
        args.append(draw(st.sampled_from(["**kw", "**options"])))
    if not args:
        close = draw(st.sampled_from(["", "\n" + indent, f"  {draw(COMMENTS)}\n{indent}"]))
        return f"{ctor}({close})"
    text = f"{ctor}(" + draw(st.sampled_from(["", "\n" + inner, f"  {draw(COMMENTS)}\n{inner}"]))
    for i, arg in enumerate(args):
        text += arg
        if i < len(args) - 1:
            text += "," + draw(separator(inner))
    ending = draw(st.sampled_from(["none", "comma", "newline", "comma-newline", "comment"]))
    text += {
        "none": "",
        "comma": ",",
        "newline": "\n" + indent,
        "comma-newline": ",\n" + indent,
        "comment": f",  {draw(COMMENTS)}\n{indent}",
    }[ending]
    return text + ")"


@dataclass
class Site:
    shape: str  # with | assign | annassign | self | module
    name: str
    indent: str  # the indentation of the statement holding the call

    @property
    def bound(self) -> str:
        return f"self.{self.name}" if self.shape == "self" else self.name


INNER_STATEMENTS = [
    'data = {"k": [1, 2]}',
    "# prepare the request",
    "retries = 3  # a comment",
    "if url is None:\n<i>    return None",
    "",
]

TOP_CHUNKS = [
    'CONSTANT = {"a": [1, 2, 3]}  # a constant',
    "TIMEOUT = 5.0",
    "# a standalone comment",
    "def helper(a, b):\n    # add them\n    return a + b",
    "class Plain:\n    x = 1\n\n    def method(self):\n        return self.x",
    'DOC = "httpx.AsyncClient() is only text here"',
    "async def other(url):\n    return url",
    'if __name__ == "__main__":\n    print(helper(1, 2))',
]


@st.composite
def site_block(draw, number: int, ctor: str, shape: str) -> tuple[str, Site]:
    name = draw(NAMES)
    trailing = draw(st.sampled_from(["", f"  {draw(COMMENTS)}"]))
    pre = draw(st.lists(st.sampled_from(INNER_STATEMENTS), max_size=2))

    def body_lines(indent: str, lines: list[str]) -> str:
        return "".join(indent + line.replace('<i>', indent) + "\n" if line else "\n" for line in lines)

    if shape == "module":
        site = Site(shape, name, "")
        return f"{name} = {draw(call_text(ctor, ''))}{trailing}\n", site
    if shape == "self":
        ind = "        "
        site = Site(shape, name, ind)
        text = (f"class Service{number}:\n    def __init__(self, url=None):\n" + body_lines(ind, pre)
                + f"{ind}self.{name} = {draw(call_text(ctor, ind))}{trailing}\n")
        if draw(st.booleans()):
            text += f"\n    async def get(self, url):\n        return await self.{name}.get(url)\n"
        return text, site
    ind = "    "
    site = Site(shape, name, ind)
    text = f"async def fetch{number}(url):\n" + body_lines(ind, pre)
    call = draw(call_text(ctor, ind))
    if shape == "with":
        text += f"{ind}async with {call} as {name}:{trailing}\n"
        if draw(st.booleans()):
            text += f"{ind}    # first, the request\n"
        text += f"{ind}    response = await {name}.get(url)\n"
        if draw(st.booleans()):
            text += f"{ind}return response\n"
    elif shape == "assign":
        text += f"{ind}{name} = {call}{trailing}\n"
        if draw(st.booleans()):
            text += f"{ind}return {name}\n"
    else:  # annassign
        text += f"{ind}{name}: object = {call}{trailing}\n"
        text += f"{ind}return {name}\n"
    return text, site


@dataclass
class Generated:
    profile: str
    source: str
    ctor: str
    sites: list[Site]


@st.composite
def programs(draw) -> Generated:
    profile_name = draw(st.sampled_from(sorted(PROFILES)))
    profile = PROFILES[profile_name]
    import_line = draw(st.sampled_from(sorted(IMPORT_STYLES)))
    ctor = IMPORT_STYLES[import_line]
    if profile.factory_kind == "async_cm":
        shapes = ["with"]  # an async context manager factory only replaces `async with` constructions
    else:
        shapes = ["with", "assign", "annassign", "self", "module"]
    chosen = draw(st.lists(st.sampled_from(shapes), min_size=1, max_size=2))
    if chosen.count("module") > 1:
        chosen = [s for s in chosen if s != "module"] + ["module"]

    header = []
    if draw(st.booleans()):
        header.append('"""A generated module."""')
    if draw(st.booleans()):
        header.append("from __future__ import annotations")
    imports = [import_line, *draw(st.lists(st.sampled_from(["import os", "from typing import Any",
                                                            "import json  # used below"]),
                                           unique=True, max_size=2))]
    header += draw(st.permutations(imports))

    parts = ["\n".join(header) + "\n"]
    sites = []
    for number, shape in enumerate(chosen):
        for chunk in draw(st.lists(st.sampled_from(TOP_CHUNKS), max_size=2)):
            parts.append(chunk + "\n")
        text, site = draw(site_block(number, ctor, shape))
        parts.append(text)
        sites.append(site)
    for chunk in draw(st.lists(st.sampled_from(TOP_CHUNKS), max_size=2)):
        parts.append(chunk + "\n")
    blank = draw(st.sampled_from(["\n", "\n\n", "\n\n\n"]))
    return Generated(profile_name, blank.join(parts), ctor, sites)


# --- what the fix must produce -----------------------------------------------------------------------------


def _site_calls(source: str, ctor: str) -> list[ast.Call]:
    calls = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Call)
             and ast.get_source_segment(source, n.func) == ctor]
    return sorted(calls, key=lambda n: (n.lineno, n.col_offset))


def expected_without_imports(gen: Generated) -> list[str]:
    """The original lines with each site's edit applied (computed independently of proplint)."""
    profile = PROFILES[gen.profile]
    lines = gen.source.splitlines(keepends=True)
    calls = _site_calls(gen.source, gen.ctor)
    assert len(calls) == len(gen.sites), "the generator should produce exactly one call per site"
    for call, site in sorted(zip(calls, gen.sites), key=lambda p: -p[0].lineno):
        if profile.factory:
            func = call.func
            assert func.lineno == func.end_lineno
            line = lines[func.lineno - 1]
            lines[func.lineno - 1] = line[:func.col_offset] + profile.factory + line[func.end_col_offset:]
        else:
            indent = site.indent + ("    " if site.shape == "with" else "")
            lines.insert(call.end_lineno, f"{indent}HTTPXClientInstrumentor.instrument_client({site.bound})\n")
    return lines


def assert_only_expected_changes(gen: Generated, fixed: str) -> None:
    """`fixed` is the expected text plus exactly one import line (and at most one blank line next to it: the
    import may start an isort section of its own)."""
    profile = PROFILES[gen.profile]
    expected = expected_without_imports(gen)
    got = fixed.splitlines(keepends=True)
    extras: list[tuple[int, str]] = []
    i = 0
    for j, line in enumerate(got):
        if i < len(expected) and line == expected[i]:
            i += 1
        else:
            extras.append((j, line))
    assert i == len(expected), (
        f"line {i + 1} of the expected text is missing or changed: {expected[i]!r}\n--- fixed:\n{fixed}"
    )
    imports = [(j, line) for j, line in extras if line.rstrip("\n") == profile.import_line]
    assert len(imports) == 1, f"expected one added `{profile.import_line}`, got extras {extras}\n{fixed}"
    import_at = imports[0][0]
    for j, line in extras:
        if (j, line) in imports:
            continue
        # a blank line in the run of blank lines right before or after the import (greedy matching may
        # attribute any line of that run to the fix)
        near = range(import_at - 1, j, -1) if j < import_at else range(import_at + 1, j)
        assert line.strip() == "" and all(got[k].strip() == "" for k in near), \
            f"unexpected added line {line!r}\n--- fixed:\n{fixed}"
    assert len(extras) <= 2, f"more than the import and one blank line added: {extras}\n{fixed}"


PRP101_SETTINGS = settings(max_examples=110, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PRP101_SETTINGS
@given(gen=programs())
def test_prp101_fix_properties(projects, gen: Generated):
    profile = PROFILES[gen.profile]
    settings_, root = projects[gen.profile]
    path = str(root / "example.py")
    source = gen.source.encode("utf-8")
    compile(source, path, "exec", dont_inherit=True)  # the generator makes valid code

    before = [f for f in analyse(source, path, "example.py", settings_).findings if f.code == "PRP101"]
    assert len(before) == len(gen.sites), [f.message for f in before]
    assert all(f.fix is not None for f in before), [f.message for f in before]

    if not profile.safe and not profile.factory:
        # Without the instrumentation among the dependencies, the fix is unsafe: not applied by default.
        safe_only = fix_source(source, path, "example.py", settings_, unsafe=False)
        assert safe_only.error is None and safe_only.fixed is None
        assert all(f.fix is not None and f.fix.applicability == "unsafe"
                   for f in safe_only.remaining if f.code == "PRP101")

    result = fix_source(source, path, "example.py", settings_, unsafe=not profile.safe)
    assert result.error is None, result.error
    assert result.fixed is not None
    assert result.applied == len(gen.sites)
    fixed = result.fixed.decode("utf-8")

    compile(result.fixed, path, "exec", dont_inherit=True)
    assert not [f for f in analyse(result.fixed, path, "example.py", settings_).findings if f.code == "PRP101"]
    assert not [f for f in result.remaining if f.code == "PRP101"]
    assert_only_expected_changes(gen, fixed)

    again = fix_source(result.fixed, path, "example.py", settings_, unsafe=True)
    assert again.error is None, again.error
    assert again.fixed is None and again.applied == 0


# A couple of fixed examples pin the oracle itself (so a broken oracle cannot pass vacuously).


def test_oracle_rejects_an_extra_change():
    gen = Generated("otel-dep", "import httpx\nasync def f(url):\n    c = httpx.AsyncClient()\n    return c\n",
                    "httpx.AsyncClient", [Site("assign", "c", "    ")])
    good = ("import httpx\nfrom opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n"
            "async def f(url):\n    c = httpx.AsyncClient()\n    HTTPXClientInstrumentor.instrument_client(c)\n"
            "    return c\n")
    assert_only_expected_changes(gen, good)
    with pytest.raises(AssertionError):
        assert_only_expected_changes(gen, good.replace("return c", "return  c"))
    with pytest.raises(AssertionError):
        assert_only_expected_changes(gen, good + "x = 1\n")


# --- hypothesmith: arbitrary programs ------------------------------------------------------------------------

SNIPPET = (
    "\nimport httpx\nimport requests\nimport aiohttp\n"
    "client = httpx.AsyncClient()\nasync def _proplint_f(url):\n"
    "    async with httpx.Client(timeout=1) as c:\n        return c.get(url)\n"
    "session = aiohttp.ClientSession()\nrequests.get('http://x')\n"
)


@pytest.fixture(scope="module")
def all_rules_settings(tmp_path_factory) -> tuple[Settings, Path]:
    root = tmp_path_factory.mktemp("grammar")
    write_files(root, {"pyproject.toml": "[tool.proplint]\n"})
    return make_settings(load_config(root), use_cache=False, include_default_off=True), root


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles code like `1()` while generating
@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
@given(program=hypothesmith.from_grammar(), mode=st.sampled_from(["append-clients", "prepend-import"]))
def test_generated_programs_do_not_crash(all_rules_settings, program: str, mode: str):
    """No exception on arbitrary valid programs; any fix produced compiles and is idempotent.

    `prepend-import` makes the prefilter pass so the whole program is walked by every check;
    `append-clients` adds HTTP client constructions after it so that fixes are produced too.
    """
    settings_, root = all_rules_settings
    source = program + SNIPPET if mode == "append-clients" else "import httpx\n" + program
    path = str(root / "generated.py")
    raw = source.encode("utf-8", "surrogatepass")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # generated code like `1()` warns when compiled
        analysis = analyse(raw, path, "generated.py", settings_)
        assert all(f.code.startswith("PRP") for f in analysis.findings)
        event(f"{mode}: parsed={analysis.parsed}")
        result = fix_source(raw, path, "generated.py", settings_, unsafe=True)
        event(f"{mode}: fixed={result.fixed is not None}")
        if result.fixed is not None:
            assert result.error is None
            compile(result.fixed, path, "exec", dont_inherit=True)
            assert not [f for f in result.remaining if f.fix is not None and f.fix.replacements], \
                "a fixable finding was left although the fix verified"
            again = fix_source(result.fixed, path, "generated.py", settings_, unsafe=True)
            assert again.error is None, again.error
            assert again.fixed is None, "a second fix changed the file again"
