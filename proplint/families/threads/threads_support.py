"""Catalog roles, project facts and CST edits for the thread family (`threads.py`).

Everything here is independent of the visiting order: the typed catalog entries of `rules/threads.toml`,
the project-index collectors (which project classes are threads or executors, and whether they copy the
context themselves), the "is this a long-running service loop?" predicate, and the pure CST builders
the fixes are made of (they move the original argument nodes, so comments and layout survive).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Iterable, Sequence

import libcst as cst

from proplint.core.catalog import role
from proplint.index import ast_qualname

# --- catalog roles ------------------------------------------------------------------------------------


@role("thread_spawner")
@dataclass(frozen=True)
class ThreadSpawner:
    name: str
    code: str
    target_index: int
    target_keyword: str
    args_index: int
    args_keyword: str = "args"
    context_since: int = 0
    instrumented_by: str = ""
    base: bool = False


@role("executor")
@dataclass(frozen=True)
class ExecutorClass:
    name: str
    kind: str  # "thread" | "process"
    submit: tuple[str, ...] = ()
    map: tuple[str, ...] = ()
    other: tuple[str, ...] = ()
    instrumented_by: str = ""


@role("executor_call")
@dataclass(frozen=True)
class ExecutorCall:
    name: str  # method name, any receiver
    code: str
    executor_index: int = 0
    func_index: int = 1
    instrumented_by: str = ""
    alternative: str = ""


@role("process_spawner")
@dataclass(frozen=True)
class ProcessSpawner:
    name: str
    target_index: int
    target_keyword: str


@role("context_safe")
@dataclass(frozen=True)
class ContextSafe:
    name: str
    func_index: int = 0


@role("context_source")
@dataclass(frozen=True)
class ContextSource:
    name: str
    kind: str = "context"  # "context" | "handle"
    method: bool = False


@role("callable_wrapper")
@dataclass(frozen=True)
class CallableWrapper:
    name: str


@role("cross_thread_callback")
@dataclass(frozen=True)
class CrossThreadCallback:
    name: str
    method: bool = False
    context_keyword: str = ""


@role("launcher_signal")
@dataclass(frozen=True)
class LauncherSignal:
    """A regular expression searched in launcher and environment files (Dockerfile, Procfile, compose,
    `.env`, entry scripts) by the project index; `ProjectIndex.signals` holds the names that matched."""

    name: str
    pattern: str


@role("context_wrapper")
@dataclass(frozen=True)
class ContextWrapper:
    name: str
    template: str
    imports: tuple[str, ...] = ()


# --- project facts ------------------------------------------------------------------------------------

#: Methods of a Thread subclass in which capturing a context means the class propagates by itself.
COPYING_THREAD_METHODS = ("__init__", "start", "run")


def _context_calls(catalog) -> set[str]:
    return {e.name for e in catalog.get("context_source") if e.kind == "context" and not e.method}


def _calls_any(fn: ast.AST, imports: dict, names: set[str]) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Call):
            if ast_qualname(node.func, imports) in names:
                return True
            # super().__init__(..., context=<a Context>) on 3.14
            if any(k.arg == "context" and not _is_none(k.value) for k in node.keywords) and \
                    isinstance(node.func, ast.Attribute) and node.func.attr == "__init__":
                return True
    return False


def _is_none(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _calls_self_start(fn: ast.AST) -> bool:
    for node in ast.walk(fn):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "start" \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "self":
            return True
    return False


def collect_thread_classes(tree, imports, module, config, catalog) -> dict[str, dict[str, bool]]:
    """Per top-level class: does it copy the context (in __init__/start/run, or in submit), override
    run/__init__, start itself, and is its run() a service loop. Bases come from the "classes" facts."""
    if not module:
        return {}
    contexts = _context_calls(catalog)
    out: dict[str, dict[str, bool]] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        methods = {n.name: n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        facts: dict[str, bool] = {}
        if any(_calls_any(methods[m], imports, contexts) for m in COPYING_THREAD_METHODS if m in methods):
            facts["copies"] = True
        if "submit" in methods and _calls_any(methods["submit"], imports, contexts):
            facts["submit_copies"] = True
        if "run" in methods:
            facts["run"] = True
            if is_service_loop_ast(methods["run"]):
                facts["service"] = True
        if "__init__" in methods:
            facts["init"] = True
            if _calls_self_start(methods["__init__"]):
                facts["self_start"] = True
        if facts:
            out[f"{module}.{node.name}"] = facts
    return out


def collect_flag_mentions(tree, imports, module, config, catalog) -> bool:
    """The code relies on Python 3.14's thread_inherit_context: it reads `sys.flags.thread_inherit_context`,
    passes `-X thread_inherit_context=1`, or sets `PYTHON_THREAD_INHERIT_CONTEXT` to "1"."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "thread_inherit_context" and \
                ast_qualname(node.value, imports) == "sys.flags":
            return True
        if isinstance(node, ast.Constant) and node.value in ("thread_inherit_context=1", "-Xthread_inherit_context=1"):
            return True
        pairs: list[tuple[ast.AST | None, ast.AST]] = []
        if isinstance(node, ast.Dict):
            pairs = list(zip(node.keys, node.values))
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            pairs = [(node.targets[0].slice, node.value)]
        for key, value in pairs:
            if isinstance(key, ast.Constant) and key.value == "PYTHON_THREAD_INHERIT_CONTEXT" and \
                    isinstance(value, ast.Constant) and str(value.value) == "1":
                return True
    return False


# --- long-running service loops ------------------------------------------------------------------------
# A worker whose body is a `while` loop (`while True`, `while not self._stop.is_set()`, `while (item :=
# q.get()) is not None`) or drains a queue (`for item in iter(q.get, None)`) is housekeeping: copying its
# creator's context would pin one request's trace to all later work. Bounded loops (`while i < n`) are not.

_BOUNDED = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)


def _long_running_ast(stmt: ast.stmt) -> bool:
    if isinstance(stmt, ast.While):
        test = stmt.test
        return not (isinstance(test, ast.Compare) and any(isinstance(op, _BOUNDED) for op in test.ops))
    if isinstance(stmt, ast.For):
        it = stmt.iter
        return isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "iter" \
            and len(it.args) == 2
    if isinstance(stmt, (ast.Try, ast.With)):
        return any(_long_running_ast(s) for s in stmt.body)
    return False


def is_service_loop_ast(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(_long_running_ast(s) for s in fn.body)


_BOUNDED_CST = (cst.LessThan, cst.LessThanEqual, cst.GreaterThan, cst.GreaterThanEqual)


def _long_running_cst(stmt: cst.CSTNode) -> bool:
    if isinstance(stmt, cst.While):
        test = stmt.test
        return not (isinstance(test, cst.Comparison)
                    and any(isinstance(c.operator, _BOUNDED_CST) for c in test.comparisons))
    if isinstance(stmt, cst.For):
        it = stmt.iter
        return isinstance(it, cst.Call) and isinstance(it.func, cst.Name) and it.func.value == "iter" \
            and len(it.args) == 2
    if isinstance(stmt, (cst.Try, cst.With)):
        return any(_long_running_cst(s) for s in stmt.body.body)
    return False


def is_service_loop(fn: cst.FunctionDef | cst.Lambda) -> bool:
    if not isinstance(fn, cst.FunctionDef) or not isinstance(fn.body, cst.IndentedBlock):
        return False
    return any(_long_running_cst(s) for s in fn.body.body)


# --- CST edits ------------------------------------------------------------------------------------------

SPACE = cst.SimpleWhitespace(" ")
NO_SPACE = cst.SimpleWhitespace("")


def _code(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _plain_comma() -> cst.Comma:
    return cst.Comma(whitespace_after=SPACE)


def _layout_comma(comma) -> cst.Comma:
    """A comma for an inserted item: the neighbour's when it breaks the line (and holds no comment)."""
    if isinstance(comma, cst.Comma):
        text = _code(comma)
        if "\n" in text and "#" not in text:
            return comma
    return _plain_comma()


class _Fill(cst.CSTTransformer):
    def __init__(self, values: dict[str, cst.BaseExpression]) -> None:
        self.values = values

    def leave_Name(self, original_node, updated_node):
        return self.values.get(original_node.value, updated_node)


def render(template: str, **values: cst.BaseExpression) -> cst.BaseExpression:
    """The catalog template as an expression, `{name}` replaced by the given (original) nodes."""
    placeholders = {key: f"__proplint_{key}__" for key in values}
    expr = cst.parse_expression(template.format(**placeholders))
    return expr.visit(_Fill({placeholders[k]: v for k, v in values.items()}))  # type: ignore[return-value]


def has_star(call: cst.Call) -> bool:
    return any(a.star for a in call.args)


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def argument(call: cst.Call, index: int | None, name: str | None) -> cst.Arg | None:
    """The argument at positional `index` or with keyword `name` (positional before any star)."""
    if name:
        found = keyword(call, name)
        if found is not None:
            return found
    if index is None or index < 0:
        return None
    for i, arg in enumerate(call.args):
        if arg.star or arg.keyword is not None:
            return None
        if i == index:
            return arg
    return None


def _new_arg(value: cst.BaseExpression, name: str | None = None, comma=cst.MaybeSentinel.DEFAULT) -> cst.Arg:
    if name is None:
        return cst.Arg(value=value, comma=comma)
    return cst.Arg(value=value, keyword=cst.Name(name),
                   equal=cst.AssignEqual(whitespace_before=NO_SPACE, whitespace_after=NO_SPACE), comma=comma)


def insert_after(args: Sequence[cst.Arg], index: int, new: cst.Arg) -> list[cst.Arg]:
    """`new` placed right after `args[index]`, taking over that argument's comma (and line break)."""
    out = list(args)
    before = out[index]
    new = new.with_changes(comma=before.comma)
    out[index] = before.with_changes(comma=_plain_comma())
    out.insert(index + 1, new)
    return out


def insert_before(args: Sequence[cst.Arg], index: int, value: cst.BaseExpression) -> list[cst.Arg]:
    """A positional argument inserted at `index`, laid out like the argument it precedes."""
    out = list(args)
    comma = _layout_comma(out[index].comma) if index < len(out) else _plain_comma()
    out.insert(index, _new_arg(value, comma=comma))
    return out


def prepend_item(seq: cst.BaseExpression, value: cst.BaseExpression) -> cst.BaseExpression:
    """`(fn, a, b)` from a literal tuple/list `(a, b)`; `(fn, *expr)` from anything else; `(fn,)` from None."""
    if isinstance(seq, (cst.Tuple, cst.List)):
        elements = list(seq.elements)
        if not elements:
            return seq.with_changes(elements=[cst.Element(value, comma=cst.Comma())])
        comma = _layout_comma(elements[0].comma)
        if len(elements) == 1 and isinstance(seq, cst.Tuple) and _code(elements[0].comma) == ",":
            elements[0] = elements[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)  # `(a,)` -> `(fn, a)`
        return seq.with_changes(elements=[cst.Element(value, comma=comma), *elements])
    if isinstance(seq, cst.Name) and seq.value == "None":
        return cst.Tuple([cst.Element(value, comma=cst.Comma())])
    return cst.Tuple([cst.Element(value, comma=_plain_comma()), cst.StarredElement(seq)])


def thread_call_fix(call: cst.Call, spawner, wrapper: cst.BaseExpression) -> cst.Call | None:
    """`Thread(target=fn, args=a)` -> `Thread(target=<wrapper>, args=(fn, *a))`; None if it cannot be done
    safely (a `*`/`**` argument may hold the target or args)."""
    if has_star(call):
        return None
    args = list(call.args)
    t = next((i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == spawner.target_keyword),
             None)
    if t is None:
        t = spawner.target_index if spawner.target_index < len(args) and args[spawner.target_index].keyword is None \
            else None
    if t is None:
        return None
    fn = args[t].value
    args[t] = args[t].with_changes(value=wrapper)
    a = next((i for i, x in enumerate(args) if x.keyword is not None and x.keyword.value == spawner.args_keyword),
             None)
    if a is None and spawner.args_index < len(args) and args[spawner.args_index].keyword is None:
        a = spawner.args_index
    if a is not None:
        args[a] = args[a].with_changes(value=prepend_item(args[a].value, fn))
        return call.with_changes(args=args)
    new = _new_arg(cst.Tuple([cst.Element(fn, comma=cst.Comma())]), spawner.args_keyword)
    # After a keyword target; after the last argument when the target is positional.
    at = t if args[t].keyword is not None else len(args) - 1
    return call.with_changes(args=insert_after(args, at, new))


def append_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call | None:
    if any(a.star == "**" for a in call.args):
        return None
    args = list(call.args)
    new = _new_arg(value, name)
    if not args:
        return call.with_changes(args=[new])
    return call.with_changes(args=insert_after(args, len(args) - 1, new))


def copy_run(attr: cst.Attribute) -> cst.Attribute:
    """`ctx.run` -> `ctx.copy().run`."""
    return attr.with_changes(value=cst.Call(func=cst.Attribute(value=attr.value, attr=cst.Name("copy"))))


def append_args(call: cst.Call, extra: Iterable[cst.Arg]) -> cst.Call:
    """`call` with `extra` arguments added at the end (their own commas dropped except between them)."""
    extra = list(extra)
    if not extra:
        return call
    args = list(call.args)
    last = args[-1].with_changes(comma=_plain_comma())
    tail = [a.with_changes(comma=_plain_comma()) for a in extra[:-1]] + [extra[-1]]
    return call.with_changes(args=[*args[:-1], last, *tail])
