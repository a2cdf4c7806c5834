"""PRP406 contextvar-set-without-reset: the rule's declaration, docs and VALID/INVALID examples, its `message`, its
fix (`build_fix`, when it has one) and where it can report (`needs`). What it finds: `ContextVar.set(...)` with
its token discarded, in code that runs on pooled threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.needs import Cond, all_of, any_of, words
from proplint.core.rule import Fix, Invalid, Rule, Valid
from proplint.families.hygiene.edits import rest_in_finally
from proplint.families.hygiene.facts import subclasses
from proplint.families.hygiene.needs import contextvar_class, last, named

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext

_FLASK = ("from contextvars import ContextVar\n\nfrom flask import Flask\n\napp = Flask(__name__)\n"
          "request_user = ContextVar(\"request_user\", default=None)\n\n\n")
_OPT_IN = {"select": ["PRP406"]}


class ContextVarSetWithoutReset(Rule):
    code = "PRP406"
    name = "contextvar-set-without-reset"
    summary = "`ContextVar.set(...)` with its token discarded, in code that runs on pooled threads."
    fix = "sometimes safe"
    default_enabled = False
    what_it_does = """
        Finds `<var>.set(value)` on a known ContextVar (module-level in this file, or found by the project
        index) whose token is discarded (or assigned and never used), in a sync function that runs on a
        pooled thread or a reused worker: a Flask route (`@app.route`, `@bp.get`, ...), a Celery
        (`@app.task`, `@shared_task`) or Dramatiq task, a Django class-based view method, a WSGI
        application `(environ, start_response)`, or a function this module hands to
        `ThreadPoolExecutor.submit` / `map` or `loop.run_in_executor`.
    """
    why = """
        A pooled thread runs every job in the same context, so a value set and never reset is still there
        when the next job starts: measured, the next task on the same pooled thread saw the previous
        request's user (`alice`). Off by default because setter helpers persist values on purpose.
    """
    already_propagated = """
        `var.reset(token)` in a `finally`; a token that is stored, returned or passed on; jobs run through
        `contextvars.copy_context().run` (`submit(ctx.run, fn)`), `asyncio.to_thread`, `anyio.to_thread` or
        Starlette's `run_in_threadpool` (they run in a copy, so nothing leaks); `async def` code.
    """
    example = """
        from contextvars import ContextVar

        from flask import Flask

        app = Flask(__name__)
        request_user = ContextVar("request_user", default=None)


        @app.route("/orders")
        def orders():
            request_user.set(current_user())
            return list_orders()
    """
    use_instead = """
        @app.route("/orders")
        def orders():
            _token = request_user.set(current_user())
            try:
                return list_orders()
            finally:
                request_user.reset(_token)
    """
    fix_safety = """
        Safe where the rest of the block is clear: when the `set` is a statement of the function body itself
        and the rest of the body is not empty and has no `yield`, `attach`, `detach` or `reset`, the token is
        kept (`_token = var.set(...)`) and the rest of the body moves into `try: ... finally:
        var.reset(_token)`. Otherwise no fix.
    """
    VALID = (
        Valid(_FLASK + "@app.route(\"/orders\")\ndef orders():\n    token = request_user.set(current_user())\n"
                       "    try:\n        return list_orders()\n    finally:\n        request_user.reset(token)\n",
              config=_OPT_IN),
        Valid(_FLASK + "def remember(user):\n    request_user.set(user)\n", config=_OPT_IN),
        Valid(_FLASK + "@app.route(\"/orders\")\nasync def orders():\n    request_user.set(1)\n    return []\n",
              config=_OPT_IN),
        Valid("import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
              "tenant = contextvars.ContextVar('tenant')\npool = ThreadPoolExecutor()\n\n\ndef job(t):\n"
              "    tenant.set(t)\n    work()\n\n\ndef submit(t):\n"
              "    pool.submit(contextvars.copy_context().run, job, t)\n",
              config=_OPT_IN),
    )
    INVALID = (
        Invalid(_FLASK + "@app.route(\"/orders\")\ndef orders():\n    request_user.set(current_user())\n"
                         "    return list_orders()\n",
                fixed=_FLASK + "@app.route(\"/orders\")\ndef orders():\n    _token = request_user.set(current_user())\n"
                               "    try:\n        return list_orders()\n    finally:\n"
                               "        request_user.reset(_token)\n",
                config=_OPT_IN),
        Invalid("import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
                "tenant = contextvars.ContextVar('tenant')\npool = ThreadPoolExecutor()\n\n\ndef job(t):\n"
                "    tenant.set(t)\n    work()\n\n\ndef submit(t):\n    pool.submit(job, t)\n",
                fixed="import contextvars\nfrom concurrent.futures import ThreadPoolExecutor\n\n"
                      "tenant = contextvars.ContextVar('tenant')\npool = ThreadPoolExecutor()\n\n\ndef job(t):\n"
                      "    _token = tenant.set(t)\n    try:\n        work()\n    finally:\n"
                      "        tenant.reset(_token)\n\n\n"
                      "def submit(t):\n    pool.submit(job, t)\n",
                config=_OPT_IN),
        Invalid("from celery import shared_task\nfrom app.ctx import tenant\n\n\n@shared_task\ndef rebuild(t):\n"
                "    if t:\n        tenant.set(t)\n    rebuild_index()\n",
                files={"app/__init__.py": "",
                       "app/ctx.py": "import contextvars\ntenant = contextvars.ContextVar('t')\n"},
                config=_OPT_IN, path="app/tasks.py"),
    )

    @staticmethod
    def message(call: str, where: str, receiver: str | None) -> str:
        """`call` (its source) in `where` (which pooled entry point), on the variable `receiver`."""
        return (f"`{call}` in {where} keeps its value after the job: the next job on this pooled "
                f"thread sees it; keep the token and `{receiver or 'var'}.reset(token)` in `finally`")

    @staticmethod
    def build_fix(module: cst.Module, fn: cst.FunctionDef, block: cst.IndentedBlock, line: cst.SimpleStatementLine,
                 node: cst.Call, token: str | None, reset: str) -> Fix | None:
        """Keep the token (`_token` when discarded) and call `reset` (`var.reset`) on it in a `finally`
        around the rest of `fn`."""
        return rest_in_finally(module, fn, block, line, node, token, (reset, []), "_token")

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """`<var>.set(...)` on a ContextVar of this module (made by a ContextVar class) or of the project
        (index), in a `def` that the check's `_pooled_entry` finds runs on pooled threads."""
        index = project.index
        pooled = []
        for e in project.catalog.get("pooled_entry"):
            if e.kind == "decorator":  # decorated by the qualified name
                pooled.append(named(project, e.name))
            elif e.kind == "route":  # `@<receiver>.<name>`, any receiver in a module importing e.module
                receivers = any_of(*(named(project, r) for r in e.receivers),
                                   *([named(project, e.module, prefix=True)] if e.module else []))
                pooled.append(all_of(words({e.name}), receivers))
            elif e.kind == "base":  # a method of a subclass (maybe through project classes)
                bases = subclasses(index, f"hygiene.subclasses.{e.name}", {e.name})
                pooled.append(all_of(words(e.methods), any_of(named(project, e.name), words(last(bases)))))
            elif e.kind == "wsgi":  # the parameters, in order
                pooled.append(words(*({m} for m in e.methods)))
            elif e.kind == "call":  # `<pool>.<name>(fn, ...)` in this module
                pooled.append(words({e.name}))
        pooled.append(words({"task"}))  # `@<x>.task` whose qualified name has a `celery` part (any package)
        cv_classes = project.catalog.get("contextvar_class")
        project_cvs = words(last(index.project_contextvars()))
        return all_of(words({e.set_method for e in cv_classes}), any_of(contextvar_class(project), project_cvs),
                      words({"def"}), any_of(*pooled))
