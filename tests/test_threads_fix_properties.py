"""Property tests for the PRP201-PRP205 fixes over generated argument shapes.

Each example is a spawn call (`Thread`, `Timer`, `submit`, `map`, `run_in_executor`, or a shared-Context
spawn in a loop) whose arguments vary: the callable positional or by keyword, `args` absent, a literal
tuple or list (with or without a trailing comma) or any other expression, `kwargs=`, other keywords,
star arguments, comments and line breaks between the arguments. The generator also describes the call's
*meaning*, from which the expected fixed call is built independently of the fixer. For every example:
the fix applies and compiles; the fixed call means exactly the expected call (compared as ASTs, so
layout does not matter, while every original argument must be there, in order); nothing outside the
call changes except the added `import contextvars` / `import functools` (and the blank line LibCST's
`AddImportsVisitor` may put after it); comments inside the call survive; and a second fix changes nothing.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proplint.config import load_config
from proplint.settings import make_settings
from proplint.fixes import fix_source

from runtime_support import write_files

SPAWN = "contextvars.copy_context().run"
PER_ITEM = "functools.partial(lambda _c, _f, *_a: _c.copy().run(_f, *_a), contextvars.copy_context(), {fn})"
COMMENTS = ["# note", "# keep me: (", "# TODO tune", "# target=x, args=(y,)"]


@pytest.fixture(scope="module")
def projects(tmp_path_factory):
    out = {}
    for version in ("py310", "py314"):
        root = tmp_path_factory.mktemp(version)
        write_files(root, {"pyproject.toml": f'[tool.proplint]\ntarget-version = "{version}"\nselect = ["PRP2"]\n'})
        out[version] = (make_settings(load_config(root), use_cache=False), root)
    return out


# --- a call = its arguments (source text of each) plus how the fixed call must look ----------------------


@dataclass
class Call:
    kind: str  # thread | timer | submit | map | executor | shared
    func: str  # the called expression
    positional: list[str]
    keywords: list[tuple[str | None, str]]  # (name or None for `**x`, value)
    expected: str  # the fixed call, canonical text
    statement: str = "r = {call}"  # how the call sits in the function body
    imports: set[str] = field(default_factory=lambda: {"contextvars"})

    def args(self) -> list[str]:
        return [*self.positional, *(f"{k}={v}" if k else f"**{v}" for k, v in self.keywords)]


FUNCS = st.sampled_from(["work", "obj.job", "functools.partial(work, 1)", "lambda: work(a)", "jobs[0]"])
ARGS = st.sampled_from(["absent", "()", "(a,)", "(a, b)", "(a, b,)", "[a]", "extra", "tuple(extra)", "None"])


def _prepend(fn: str, args: str) -> str:
    """The `args` value after the fix, per the rules: literal tuples/lists gain `fn` first; None is `(fn,)`."""
    if args in ("absent", "None"):
        return f"({fn},)"
    if args.startswith("("):
        inner = args[1:-1].rstrip(",").strip()
        return f"({fn}, {inner})" if inner else f"({fn},)"
    if args.startswith("["):
        return f"[{fn}, {args[1:-1]}]"
    return f"({fn}, *{args})"


@st.composite
def thread_calls(draw, py314: bool) -> Call:
    fn = draw(FUNCS)
    args = draw(ARGS.filter(lambda a: a != "None"))
    ctor = draw(st.sampled_from(["threading.Thread", "T"]))
    extra_kw = draw(st.lists(st.sampled_from([("daemon", "True"), ("kwargs", "{'x': 1}"), ("kwargs", "kw")]),
                             max_size=2, unique_by=lambda kv: kv[0]))
    if draw(st.booleans()):  # positional target: Thread(group, target, name, args)
        positional = ["None", fn]
        if args != "absent":
            positional += ['"worker"', args]
        keywords = list(extra_kw)
        if py314:
            expected_pos, expected_kw = positional, [*keywords, ("context", "contextvars.copy_context()")]
        else:
            expected_pos = ["None", SPAWN, *(['"worker"', _prepend(fn, args)] if args != "absent" else [])]
            expected_kw = keywords + ([("args", _prepend(fn, args))] if args == "absent" else [])
    else:
        keywords = [("target", fn)] + ([("args", args)] if args != "absent" else []) + list(extra_kw)
        positional = []
        if draw(st.booleans()):
            keywords = keywords[1:] + keywords[:1]  # target= last
        if py314:
            expected_pos, expected_kw = [], [*keywords, ("context", "contextvars.copy_context()")]
        else:
            expected_pos = []
            expected_kw = []
            for k, v in keywords:
                if k == "target":
                    expected_kw.append(("target", SPAWN))
                    if args == "absent":
                        expected_kw.append(("args", _prepend(fn, args)))
                elif k == "args":
                    expected_kw.append(("args", _prepend(fn, args)))
                else:
                    expected_kw.append((k, v))
    expected = f"{ctor}({', '.join([*expected_pos, *(f'{k}={v}' for k, v in expected_kw)])})"
    return Call("thread", ctor, positional, keywords, expected, statement="t = {call}\n    t.start()")


@st.composite
def timer_calls(draw) -> Call:
    fn = draw(FUNCS)
    args = draw(ARGS)
    kwargs = draw(st.sampled_from([None, "{'x': 1}", "kw"]))
    if draw(st.booleans()):
        positional = ["0.5", fn] + ([args] if args != "absent" else [])
        keywords = [("kwargs", kwargs)] if kwargs else []
        expected_pos = ["0.5", SPAWN] + ([_prepend(fn, args)] if args != "absent" else [])
        expected_kw = list(keywords) + ([("args", _prepend(fn, args))] if args == "absent" else [])
    else:
        positional = []
        keywords = [("interval", "0.5"), ("function", fn)] + ([("args", args)] if args != "absent" else [])
        keywords += [("kwargs", kwargs)] if kwargs else []
        expected_pos = []
        expected_kw = []
        for k, v in keywords:
            if k == "function":
                expected_kw.append(("function", SPAWN))
                if args == "absent":
                    expected_kw.append(("args", _prepend(fn, args)))
            elif k == "args":
                expected_kw.append(("args", _prepend(fn, args)))
            else:
                expected_kw.append((k, v))
    expected = f"threading.Timer({', '.join([*expected_pos, *(f'{k}={v}' for k, v in expected_kw)])})"
    return Call("timer", "threading.Timer", positional, keywords, expected, statement="t = {call}\n    t.start()")


REST = st.lists(st.sampled_from(["a", "b", "*extra", "[1, 2]"]), max_size=3)
KWS = st.lists(st.sampled_from([("key", "1"), ("timeout", "5"), (None, "kw")]), max_size=2, unique_by=lambda kv: kv[0])


@st.composite
def submit_calls(draw) -> Call:
    fn = draw(FUNCS)
    rest, kws = draw(REST), draw(KWS)
    positional = [fn, *rest]
    kw_text = [f"{k}={v}" if k else f"**{v}" for k, v in kws]
    expected = f"pool.submit({', '.join([SPAWN, *positional, *kw_text])})"
    return Call("submit", "pool.submit", positional, kws, expected,
                statement="with ThreadPoolExecutor() as pool:\n        r = {call}")


@st.composite
def map_calls(draw) -> Call:
    fn = draw(FUNCS)
    iterables = draw(st.lists(st.sampled_from(["items", "range(3)", "[a, b]"]), min_size=1, max_size=2))
    kws = draw(st.lists(st.sampled_from([("timeout", "5"), ("chunksize", "2")]), max_size=2,
                        unique_by=lambda kv: kv[0]))
    positional = [fn, *iterables]
    kw_text = [f"{k}={v}" for k, v in kws]
    expected = f"pool.map({', '.join([PER_ITEM.format(fn=fn), *iterables, *kw_text])})"
    return Call("map", "pool.map", positional, kws, expected,
                statement="with ThreadPoolExecutor() as pool:\n        r = list({call})",
                imports={"contextvars", "functools"})


@st.composite
def executor_calls(draw) -> Call:
    fn = draw(FUNCS)
    rest = draw(st.lists(st.sampled_from(["a", "b", "*extra"]), max_size=2))
    positional = ["None", fn, *rest]
    expected = f"loop.run_in_executor({', '.join(['None', SPAWN, fn, *rest])})"
    return Call("executor", "loop.run_in_executor", positional, [], expected,
                statement="loop = asyncio.get_event_loop()\n    r = {call}")


@st.composite
def shared_calls(draw) -> Call:
    """A Context made once and entered by every worker of a loop: `ctx.run` -> `ctx.copy().run`."""
    spawn = draw(st.sampled_from(["submit", "thread"]))
    rest = draw(REST)
    if spawn == "submit":
        positional = ["ctx.run", "work", *rest]
        expected = f"pool.submit({', '.join(['ctx.copy().run', 'work', *rest])})"
        return Call("shared", "pool.submit", positional, [], expected, imports=set(),
                    statement="ctx = contextvars.copy_context()\n    with ThreadPoolExecutor() as pool:\n"
                              "        for item in items:\n            r = {call}")
    keywords = [("target", "ctx.run"), ("args", "(work, item)")]
    expected = "threading.Thread(target=ctx.copy().run, args=(work, item))"
    return Call("shared", "threading.Thread", [], keywords, expected, imports=set(),
                statement="ctx = contextvars.copy_context()\n    for item in items:\n        t = {call}")


# --- layout -----------------------------------------------------------------------------------------------


@st.composite
def layout(draw, call: Call, indent: str) -> str:
    """The call's source with random separators, comments and line breaks between its arguments."""
    inner = indent + "    "
    args = call.args()

    def sep() -> str:
        kind = draw(st.sampled_from(["space", "space", "newline", "comment"]))
        return {"space": " ", "newline": "\n" + inner}.get(kind) or f"  {draw(st.sampled_from(COMMENTS))}\n{inner}"

    if not args:
        return f"{call.func}()"
    text = f"{call.func}(" + draw(st.sampled_from(["", "\n" + inner]))
    for i, arg in enumerate(args):
        text += arg + ("," + sep() if i < len(args) - 1 else "")
    text += draw(st.sampled_from(["", ",", "\n" + indent, ",\n" + indent,
                                  f",  {draw(st.sampled_from(COMMENTS))}\n{indent}"]))
    return text + ")"


HEADER = """\
import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from threading import Thread as T
{extra_import}
CONSTANT = {{"a": [1, 2]}}  # untouched


def handle(work, a, b, extra, kw, items, obj, jobs):
    before = (a, b)  # before the call
"""
FOOTER = """
    after = (before, CONSTANT)  # after the call
    return after


def unrelated():
    return threading.Event()
"""


@dataclass
class Example:
    version: str
    call: Call
    head: str
    call_text: str
    tail: str
    had: set[str]  # of contextvars / functools, the modules the file imports already

    @property
    def source(self) -> str:
        return self.head + self.call_text + self.tail


@st.composite
def examples(draw) -> Example:
    version = draw(st.sampled_from(["py310", "py314"]))
    call = draw(st.one_of(thread_calls(version == "py314"), timer_calls(), submit_calls(), map_calls(),
                          executor_calls(), shared_calls()))
    had = {m for m in ("contextvars", "functools") if draw(st.booleans())}
    if call.kind == "shared":
        had.add("contextvars")
    header = HEADER.format(extra_import="".join(f"import {m}\n" for m in sorted(had)))
    statement = "    " + call.statement
    before, after = statement.split("{call}")
    indent = " " * (len(before) - len(before.lstrip(" "))) if "\n" not in before else \
        " " * (len(before.rsplit("\n", 1)[1]) - len(before.rsplit("\n", 1)[1].lstrip(" ")))
    text = draw(layout(call, indent))
    return Example(version, call, header + before, text, after + FOOTER, had)


def _filtered(lines: list[str]) -> list[str]:
    return [x for x in lines if x.strip() and x not in ("import contextvars", "import functools")]


def _fixed_call(tree: ast.Module, func: str) -> ast.Call:
    found = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == func]
    assert len(found) == 1, f"{len(found)} calls to {func}"
    return found[0]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(ex=examples())
def test_fix_is_exact_local_and_idempotent(projects, ex):
    settings_, root = projects[ex.version]
    source = ex.source
    compile(source, "example.py", "exec")
    result = fix_source(source.encode(), str(root / "example.py"), "example.py", settings_, unsafe=False)
    assert result.error is None, f"{result.error}\n{source}"
    assert result.fixed is not None, f"nothing fixed:\n{source}\n{[f.message for f in result.remaining]}"
    out = result.fixed.decode()
    compile(out, "example.py", "exec")

    # the fixed call means exactly the expected call
    actual = _fixed_call(ast.parse(out), ex.call.func)
    expected = ast.parse(ex.call.expected, mode="eval").body
    assert ast.dump(actual) == ast.dump(expected), f"\n{ast.unparse(actual)}\n!=\n{ex.call.expected}\n{out}"

    # nothing outside the call changes, except the import lines (and blank lines AddImportsVisitor adds)
    assert out.endswith(ex.tail), out
    head_lines = _filtered(ex.head.splitlines()[:-1])  # the last head line holds the start of the call
    assert _filtered(out.splitlines())[: len(head_lines)] == head_lines
    added = {x for x in out.splitlines() if x.startswith("import ")} - set(source.splitlines())
    wanted = ex.call.imports - ex.had
    assert added == {f"import {m}" for m in wanted}, added
    for comment in COMMENTS:
        assert ex.call_text.count(comment) == out.count(comment) - source.replace(ex.call_text, "").count(comment)

    # idempotent, and nothing left to report
    again = fix_source(result.fixed, str(root / "example.py"), "example.py", settings_, unsafe=True)
    assert again.error is None and again.fixed is None and again.applied == 0
    assert [f.code for f in again.remaining] == []
