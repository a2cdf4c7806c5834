"""PRP408 basehttpmiddleware-contextvars: the rule's declaration, docs and VALID/INVALID examples, its `message`
and where it can report (`needs`). What it finds: A `BaseHTTPMiddleware` (or `@app.middleware("http")`) reads a
ContextVar after `await call_next(...)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proplint.core.needs import Cond, all_of, any_of, words
from proplint.core.rule import Invalid, Rule, Valid
from proplint.families.hygiene.facts import cv_setters, subclasses
from proplint.families.hygiene.needs import any_named, last

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext

_STARLETTE = "from starlette.middleware.base import BaseHTTPMiddleware\nfrom app.ctx import user_var\n\n\n"
_CTX = {"app/__init__.py": "", "app/ctx.py": "import contextvars\n\n"
                                             "user_var = contextvars.ContextVar('user', default=None)\n",
        "app/deps.py": "from app.ctx import user_var\n\n\nasync def current_user(request):\n"
                       "    user_var.set(request.headers.get('x-user'))\n"}


class BaseHttpMiddlewareContextVars(Rule):
    code = "PRP408"
    name = "basehttpmiddleware-contextvars"
    summary = "A `BaseHTTPMiddleware` (or `@app.middleware(\"http\")`) reads a ContextVar after `await call_next(...)`."
    fix = "none"
    what_it_does = """
        Finds, in the `dispatch` of a `starlette.middleware.base.BaseHTTPMiddleware` subclass (also through
        project subclasses), a FastAPI/Starlette `@app.middleware("http")` function or a function registered
        with `app.add_middleware(BaseHTTPMiddleware, dispatch=...)`, a `<var>.get()` after
        `await call_next(...)`, where `var` is a ContextVar the project sets somewhere else and the dispatch
        did not set before `call_next`.
    """
    why = """
        `BaseHTTPMiddleware` runs the endpoint in a separate anyio task. Values set in `dispatch` before
        `call_next` reach the endpoint, but values the endpoint sets are not visible after `call_next`
        (measured with Starlette 1.10: `unset`); a pure ASGI middleware sees them (`set-in-endpoint`).
        Starlette's documentation adds that a BaseHTTPMiddleware also breaks propagation to later pure ASGI
        middleware.
    """
    already_propagated = """
        Reads before `call_next`, reads of a variable the dispatch set itself before `call_next`, and
        variables nothing else in the project sets (they can only hold what the middleware or an outer
        layer put there). Pure ASGI middleware (`async def __call__(self, scope, receive, send)`) is correct.
    """
    example = """
        from starlette.middleware.base import BaseHTTPMiddleware

        from app.ctx import user_var


        class AuditMiddleware(BaseHTTPMiddleware):
            async def dispatch(self, request, call_next):
                response = await call_next(request)
                audit(request.url.path, user_var.get())
                return response
    """
    use_instead = """
        from app.ctx import user_var


        class AuditMiddleware:
            def __init__(self, app):
                self.app = app

            async def __call__(self, scope, receive, send):
                await self.app(scope, receive, send)
                if scope["type"] == "http":
                    audit(scope["path"], user_var.get())
    """
    fix_safety = """
        No automatic fix: rewriting a middleware as pure ASGI changes how it sees the request and response.
    """
    VALID = (
        Valid(_STARLETTE + "class M(BaseHTTPMiddleware):\n    async def dispatch(self, request, call_next):\n"
                           "        before = user_var.get()\n        return await call_next(request)\n", files=_CTX,
              path="app/middleware.py"),
        Valid(_STARLETTE + "class M(BaseHTTPMiddleware):\n    async def dispatch(self, request, call_next):\n"
                           "        token = user_var.set('x')\n        response = await call_next(request)\n"
                           "        response.headers['x-user'] = user_var.get()\n        return response\n",
              files=_CTX, path="app/middleware.py"),
        Valid("from app.ctx import user_var\n\n\nclass Pure:\n    def __init__(self, app):\n        self.app = app\n\n"
              "    async def __call__(self, scope, receive, send):\n        await self.app(scope, receive, send)\n"
              "        audit(user_var.get())\n", files=_CTX, path="app/middleware.py"),
    )
    INVALID = (
        Invalid(_STARLETTE + "class AuditMiddleware(BaseHTTPMiddleware):\n"
                             "    async def dispatch(self, request, call_next):\n"
                             "        response = await call_next(request)\n        audit(user_var.get())\n"
                             "        return response\n", files=_CTX, path="app/middleware.py"),
        Invalid("from fastapi import FastAPI\nfrom app.ctx import user_var\n\napp = FastAPI()\n\n\n"
                "@app.middleware('http')\n"
                "async def audit(request, call_next):\n    response = await call_next(request)\n"
                "    response.headers['x-user'] = str(user_var.get())\n    return response\n",
                files=_CTX, path="app/main.py"),
    )

    @staticmethod
    def message(call: str, call_next: str) -> str:
        """`call` (its source) reads a ContextVar after `await <call_next>(...)`."""
        return (f"`{call}` after `await {call_next}(...)` in a BaseHTTPMiddleware: the endpoint "
                f"ran in another task, so the value it set is not visible here; write a pure ASGI middleware")

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """An `async def` middleware (a BaseHTTPMiddleware-like base, maybe through project subclasses, or
        registered with it; or a decorator entry) that reads `<var>.get()` after `await call_next(...)`,
        where var is set elsewhere in the project: a key of the index's `hygiene.cv_sets` (no such key:
        nothing to find)."""
        catalog = project.catalog
        bases = [e for e in catalog.get("http_middleware") if e.kind == "base"]
        subclassed = subclasses(project.index, "hygiene.middleware_subclasses", {e.name for e in bases})
        registered = any_of(any_named(project, (e.name for e in bases)),
                            all_of(words({e.method for e in bases}), words(last(subclassed))),
                            words({e.name for e in catalog.get("http_middleware") if e.kind == "decorator"}))
        return all_of(words({"async"}), words({"await"}),
                      words({e.get_method for e in catalog.get("contextvar_class")}),
                      words(last(cv_setters(project.index))), registered)
