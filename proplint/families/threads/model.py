"""The catalog roles of the thread family: the typed entries of `rules/threads.toml`.

Each frozen dataclass is one `[[role]]` of the catalog (`core.catalog.role`), listed in `FAMILY.roles`;
`docs/catalog.md` ("Thread, executor and process roles") documents every key.
"""

from __future__ import annotations

from dataclasses import dataclass

from proplint.core.catalog import role

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


@role("long_lived_target")
@dataclass(frozen=True)
class LongLivedTarget:
    """A callable whose run outlives any request, or reads no context at all: an event loop or a server
    hosted on the thread (`asyncio.AbstractEventLoop.run_forever`, `socketserver.BaseServer.serve_forever`,
    `uvicorn.Server.run`), or a process exit (`os._exit`). A thread, timer or executor task running it is
    not a propagation mistake. `method`: matched by the attribute name on any receiver (`loop.run_forever`);
    else by the qualified name; either as the target itself or called in the target function's body."""

    name: str
    method: bool = False


@role("library_callback")
@dataclass(frozen=True)
class LibraryCallback:
    """A callback a library calls from its own thread or event loop, with an event of its own: a metrics
    collector's `collect()` on a scrape, a proxy addon's `request(flow)` hook. It runs with the context the
    library gives it, which holds no request of the project's, so what it submits to a thread or an executor
    has none to lose. `name`: a class the callback's class derives from (`base = true`), or the type of one of
    its parameters (`flow: http.HTTPFlow`); a name ending with `.` matches every name of that package.
    `methods`: the callbacks' names (empty: any method or function)."""

    name: str
    base: bool = False
    methods: tuple[str, ...] = ()


@role("executor")
@dataclass(frozen=True)
class ExecutorClass:
    name: str
    kind: str  # "thread" | "process"
    submit: tuple[str, ...] = ()
    map: tuple[str, ...] = ()
    other: tuple[str, ...] = ()
    instrumented_by: str = ""
    #: the keyword the methods also take the callable by (`ThreadPool.apply_async(func=work)`); "" when it
    #: is positional-only (`ThreadPoolExecutor.submit(fn, /, ...)`)
    func_keyword: str = ""


@role("executor_call")
@dataclass(frozen=True)
class ExecutorCall:
    name: str  # method name, any receiver
    code: str
    executor_index: int = 0
    func_index: int = 1
    #: the keywords the executor and the callable may be passed by (`run_in_executor(executor=None, func=f)`)
    executor_keyword: str = ""
    func_keyword: str = ""
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


#: the keyword through which `threading.Thread` takes a Context on 3.14+ (`context=None`: PRP207)
CONTEXT_KEYWORD = "context"
