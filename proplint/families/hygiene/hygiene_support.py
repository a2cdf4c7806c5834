"""Catalog roles, version pins, project facts and CST helpers for the async/ContextVar hygiene family.

Nothing here depends on the visiting order: the typed entries of `rules/hygiene.toml`, the reading of
version constraints the project index found in dependency and lock files (PRP410), the project-index
collectors for modules, thread-locals and ContextVar writes, and the pure CST builders of the
try/finally fixes (PRP404, PRP406).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import libcst as cst

from proplint.core.catalog import role
from proplint.index import ast_qualname
from proplint.core.walk import visit

# --- catalog roles ------------------------------------------------------------------------------------


@role("span_opener")
@dataclass(frozen=True)
class SpanOpener:
    """An API that opens a span or makes a context current.

    kind "current": a context manager that makes a span current (`start_as_current_span`, `use_span`);
    "span": a context manager / call returning a span that is not current (`start_span`; `closer` ends it);
    "attach": returns a token that `closer` (qualified) detaches.
    """

    name: str
    kind: str
    method: bool = False
    closer: str = ""
    decorator: bool = False
    async_decorator_since: str = ""
    dist: tuple[str, ...] = ()


@role("contextvar_class")
@dataclass(frozen=True)
class ContextVarClass:
    name: str
    set_method: str = "set"
    reset_method: str = "reset"
    get_method: str = "get"


@role("task_creator")
@dataclass(frozen=True)
class TaskCreator:
    """Starts a task that runs in a copy of the current context. style "coroutine": the first argument
    is a coroutine object; "function": a coroutine function followed by its arguments (anyio)."""

    name: str
    method: bool = False
    style: str = "coroutine"


@role("thread_local_class")
@dataclass(frozen=True)
class ThreadLocalClass:
    name: str


@role("event_loop_module")
@dataclass(frozen=True)
class EventLoopModule:
    name: str


@role("coroutine_check")
@dataclass(frozen=True)
class CoroutineCheck:
    """A call by which a decorator tells what it wraps; `kinds` it makes the decorator handle."""

    name: str
    kinds: tuple[str, ...]


@role("kind_changing_decorator")
@dataclass(frozen=True)
class KindChangingDecorator:
    """A decorator whose result is not the function's kind (a context manager factory, a property...).
    `yield_protocol`: a generator decorated by it yields on purpose inside its scope (PRP407)."""

    name: str
    yield_protocol: bool = False


@role("awaitable_type")
@dataclass(frozen=True)
class AwaitableType:
    name: str


@role("current_span_getter")
@dataclass(frozen=True)
class CurrentSpanGetter:
    name: str


@role("http_middleware")
@dataclass(frozen=True)
class HttpMiddleware:
    """kind "base": a class whose `method` runs around the endpoint in another task; "decorator": a
    method `name` on an app whose first argument is `arg` registers such a function; "register": a
    method `name` that takes the base class and `keyword=` the function."""

    name: str
    kind: str
    method: str = "dispatch"
    arg: str = ""
    keyword: str = ""


@role("pooled_entry")
@dataclass(frozen=True)
class PooledEntry:
    """Code that runs on a pooled thread or a reused worker (PRP406).

    kind "decorator": functions decorated by `name` (qualified); "route": decorated by method `name` of
    one of `receivers` (or of any receiver in a module importing `module`); "call": the callable at
    `func_index` of method `name` (on `receivers` when given); "base": `methods` of subclasses of `name`;
    "wsgi": functions whose parameters are `methods`.
    """

    name: str
    kind: str
    receivers: tuple[str, ...] = ()
    module: str = ""
    func_index: int = 0
    methods: tuple[str, ...] = ()


@role("startup_hook")
@dataclass(frozen=True)
class StartupHook:
    """Where long-lived work is started once (PRP411). kind "event_decorator": `@app.<name>("<arg>")`;
    "keyword": a function passed as `<name>=` (or in a list there); "register": `app.<name>("<arg>", fn)`;
    "append": `app.<name>.append(fn)`; "function": a function called `<name>`."""

    name: str
    kind: str
    arg: str = ""


@role("finish_marker")
@dataclass(frozen=True)
class FinishMarker:
    """The last name of a call that, made after `fn(...)` returns, assumes the call has finished."""

    name: str
    kind: str = "log"


# --- version constraints (PRP410) ----------------------------------------------------------------------

_PART = re.compile(r"^(===|==|!=|<=|>=|~=|<|>|\^|~)?\s*(.+)$")


def release(text: str) -> tuple[int, ...] | None:
    """`1.24.0` -> (1, 24, 0); `1.23.*` -> (1, 23); pre/post-release suffixes are dropped."""
    nums = []
    for piece in text.strip().split("."):
        m = re.match(r"^(\d+)", piece)
        if not m:
            break
        nums.append(int(m.group(1)))
        if m.group(1) != piece:
            break
    return tuple(nums) or None


def _cmp(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    n = max(len(a), len(b))
    a, b = a + (0,) * (n - len(a)), b + (0,) * (n - len(b))
    return (a > b) - (a < b)


def _bump(v: tuple[int, ...], at: int) -> tuple[int, ...]:
    return (*v[:at], v[at] + 1)


def forbids_at_least(spec: str, threshold: str) -> bool:
    """Whether a constraint like `>=1.15,<1.24` (all parts must hold) excludes every version >= threshold."""
    t = release(threshold)
    if t is None:
        return False
    for part in spec.split(","):
        m = _PART.match(part.strip())
        if not m:
            continue
        op, text = m.group(1) or "==", m.group(2)
        v = release(text)
        if v is None:
            continue
        if op in ("==", "===") and text.endswith("*"):
            if _cmp(_bump(v, len(v) - 1), t) <= 0:
                return True
        elif op in ("==", "==="):
            if _cmp(v, t) < 0:
                return True
        elif op == "<" and _cmp(v, t) <= 0:
            return True
        elif op == "<=" and _cmp(v, t) < 0:
            return True
        elif op in ("~=", "~", "^"):
            if op == "~=":
                upper = _bump(v, max(len(v) - 2, 0))
            elif op == "~":
                upper = _bump(v, 1 if len(v) > 1 else 0)
            else:
                upper = _bump(v, next((i for i, x in enumerate(v) if x), len(v) - 1))
            if _cmp(upper, t) <= 0:
                return True
    return False


def pinned_below(pins: dict[str, list[str]], dists: Iterable[str], threshold: str) -> tuple[str, str] | None:
    """(dist, constraint) of the first pin that keeps one of `dists` below `threshold`, if any."""
    for dist in dists:
        for spec in pins.get(dist, ()):
            if forbids_at_least(spec, threshold):
                return dist, spec
    return None


# --- project-index collectors ----------------------------------------------------------------------------

_LAST_TREE: list = [None, []]


def all_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of a tree, listed once and reused by the collectors that run on the same tree."""
    if _LAST_TREE[0] is not tree:
        _LAST_TREE[:] = [tree, list(ast.walk(tree))]
    return _LAST_TREE[1]


def loop_module(tree: ast.Module, imports: dict, catalog) -> bool:
    """A module whose code runs on an event loop: an `async def`, or an asyncio/anyio/starlette... import."""
    modules = {e.name for e in catalog.get("event_loop_module")}
    if any(q.split(".", 1)[0] in modules or q in modules for q in imports.values()):
        return True
    return any(isinstance(n, (ast.AsyncFunctionDef, ast.Await, ast.AsyncWith, ast.AsyncFor)) for n in all_nodes(tree))


def collect_thread_locals(tree, imports, module, config, catalog) -> dict[str, Any]:
    """Module-level names bound to `threading.local()` (or a local subclass), and whether the module is
    itself event-loop code (then the definition is reported there, not each use elsewhere)."""
    if not module:
        return {}
    bases = {e.name for e in catalog.get("thread_local_class")}
    local_classes = {n.name for n in tree.body if isinstance(n, ast.ClassDef)
                     and any(ast_qualname(b, imports) in bases for b in n.bases)}
    names = []
    for node in tree.body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Call):
            func = node.value.func
            if ast_qualname(func, imports) in bases or (isinstance(func, ast.Name) and func.id in local_classes):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names += [f"{module}.{t.id}" for t in targets if isinstance(t, ast.Name)]
    if not names:
        return {}
    return {"names": names, "loop": loop_module(tree, imports, catalog)}


def collect_cv_sets(tree, imports, module, config, catalog) -> dict[str, list[str]]:
    """Qualified receiver of every `<name>.set(...)` in a function -> the functions (`mod.Class.fn`) doing it."""
    if not module:
        return {}
    set_methods = {e.set_method for e in catalog.get("contextvar_class")} or {"set"}
    if not any(isinstance(n, ast.Attribute) and n.attr in set_methods for n in all_nodes(tree)):
        return {}
    local = {t.id for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
             for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
    out: dict[str, set[str]] = {}

    def walk(body, path):
        for node in body:
            if isinstance(node, ast.ClassDef):
                walk(node.body, f"{path}.{node.name}")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                here = f"{path}.{node.name}"
                for n in ast.walk(node):
                    if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in set_methods:
                        q = ast_qualname(n.func.value, imports, module, local)
                        if q:
                            out.setdefault(q, set()).add(here)

    walk(tree.body, module)
    return {k: sorted(v) for k, v in out.items()}


# --- CST helpers -------------------------------------------------------------------------------------


class _YieldFinder(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_Yield(self, node: cst.Yield) -> None:
        self.found = True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


def contains_yield(nodes: Sequence[cst.CSTNode] | cst.CSTNode) -> bool:
    """A `yield` in these nodes, outside nested functions, lambdas and classes."""
    finder = _YieldFinder()
    for node in (nodes if isinstance(nodes, (list, tuple)) else [nodes]):
        visit(node, finder)
        if finder.found:
            return True
    return False


def is_generator(fn: cst.FunctionDef) -> bool:
    return contains_yield(fn.body)


def target_kind(fn: cst.FunctionDef, returns_awaitable: bool = False) -> str | None:
    """coroutine / asyncgen / generator / awaitable (a plain def annotated to return one), else None."""
    gen = is_generator(fn)
    if fn.asynchronous is not None:
        return "asyncgen" if gen else "coroutine"
    if gen:
        return "generator"
    return "awaitable" if returns_awaitable else None


def last_name(expr: cst.BaseExpression | None) -> str | None:
    """`c` for `a.b.c`, `c` for `c`, else None."""
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    if isinstance(expr, cst.Name):
        return expr.value
    return None


def single_name_target(node: cst.CSTNode | None) -> cst.Name | None:
    """`x` for the statement `x = <value>` (one target, a plain name), else None."""
    if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
        return node.targets[0].target
    return None


def is_literal(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, (cst.SimpleString, cst.Integer, cst.Float, cst.Imaginary)):
        return True
    if isinstance(expr, cst.ConcatenatedString):
        return is_literal(expr.left) and is_literal(expr.right)
    if isinstance(expr, cst.Name):
        return expr.value in ("None", "True", "False")
    if isinstance(expr, cst.UnaryOperation) and isinstance(expr.operator, cst.Minus):
        return isinstance(expr.expression, (cst.Integer, cst.Float))
    if isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
        return all(not isinstance(e, cst.StarredElement) and is_literal(e.value) for e in expr.elements)
    if isinstance(expr, cst.Dict):
        return all(isinstance(e, cst.DictElement) and is_literal(e.key) and is_literal(e.value)
                   for e in expr.elements)
    return False


def names_in(node: cst.CSTNode) -> set[str]:
    """Every Name in a subtree (a cheap over-approximation of the names a new binding must avoid)."""
    names: set[str] = set()

    class _Names(cst.CSTVisitor):
        def visit_Name(self, n: cst.Name) -> None:
            names.add(n.value)

    visit(node, _Names())
    return names


def fresh_name(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    i = 2
    while f"{base}{i}" in taken:
        i += 1
    return f"{base}{i}"


def wrap_rest_in_finally(block: cst.IndentedBlock, index: int, opener: cst.BaseStatement,
                         closer: cst.BaseStatement, stop: int | None = None) -> cst.IndentedBlock:
    """`block` with statement `index` replaced by `opener`, and the statements after it (up to `stop`,
    exclusive; the end of the block by default) moved into `try: ... finally: <closer>`. When `stop`
    is given, the statement there (the old closer) is dropped and the rest of the block follows the try."""
    body = list(block.body)
    end = len(body) if stop is None else stop
    rest = body[index + 1:end]
    first = rest[0]
    lead = getattr(first, "leading_lines", ())
    if lead:
        rest[0] = first.with_changes(leading_lines=())
    try_stmt = cst.Try(
        body=cst.IndentedBlock(body=rest),
        finalbody=cst.Finally(body=cst.IndentedBlock(body=[closer])),
        leading_lines=lead,
    )
    after = body[end + 1:] if stop is not None else []
    return block.with_changes(body=[*body[:index], opener, try_stmt, *after])
