"""The catalog roles of the async/ContextVar hygiene family: the typed entries of `rules/hygiene.toml`.

Each role is a frozen dataclass marked with `core.catalog.role(...)`; `FAMILY.roles` lists them.
"""

from __future__ import annotations

from dataclasses import dataclass

from proplint.core.catalog import role


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
