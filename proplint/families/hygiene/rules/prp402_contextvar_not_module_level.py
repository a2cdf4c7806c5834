"""PRP402 contextvar-not-module-level: the rule's declaration, docs and VALID/INVALID examples, its `message`, its
fix (`build_fix`, when it has one) and where it can report (`needs`). What it finds:
`contextvars.ContextVar(...)` is created inside a function, method, lambda or closure.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.needs import Cond, all_of, words
from proplint.core.resolve import dotted
from proplint.core.rule import UNSAFE, Fix, ImportRequest, Invalid, Rule, Valid
from proplint.families.hygiene.needs import contextvar_class
from proplint.families.hygiene.syntax import fresh_name, is_literal, names_in

if TYPE_CHECKING:
    from proplint.core.context import FileContext, NeedsContext


class ContextVarNotModuleLevel(Rule):
    code = "PRP402"
    name = "contextvar-not-module-level"
    summary = "`contextvars.ContextVar(...)` is created inside a function, method, lambda or closure."
    fix = "unsafe"
    what_it_does = """
        Finds `contextvars.ContextVar(...)` (through any alias, `ContextVar[str](...)` included) evaluated
        inside a function, method, lambda or closure: a factory, a request path, a `disconnect`/`reset` method.
    """
    why = """
        Python's documentation: "Context Variables should be created at the top module level and never in
        closures. Context objects hold strong references to context variables which prevents context
        variables from being properly garbage collected." It is also wrong at run time: every call makes a
        new variable, so a value set through one instance is invisible through the next (`unset`), and a
        request id or tenant set by a middleware never reaches the code that reads "the same" variable.
    """
    already_propagated = """
        Variables made once are not findings: at module level, in a class body at module level, in a
        comprehension at module level, in a default argument of a top-level def or method, stored once per
        key in a module-level mapping (`_VARS[key] = ContextVar(key)`, `_VARS.setdefault(key,
        ContextVar(key))`), returned by a function cached with `functools.cache` / `lru_cache`, or assigned
        to a name the function declares `global` (lazy creation). In `__init__`, the variable is reported
        only when the same module creates instances inside a function: a singleton held at module level,
        or a class whose instances proplint cannot see being made, is not reported.
    """
    example = """
        import contextvars


        def handle(request):
            request_id = contextvars.ContextVar("request_id", default=None)
            request_id.set(request.headers.get("x-request-id"))
    """
    use_instead = """
        import contextvars

        request_id = contextvars.ContextVar("request_id", default=None)


        def handle(request):
            request_id.set(request.headers.get("x-request-id"))
    """
    fix_safety = """
        Opt-in (`--unsafe-fixes`): when every argument is a literal (the name string, `default=` a literal),
        the call moves to a module-level `_<name>_var = contextvars.ContextVar(...)` just above the top-level
        statement that contained it, and the call becomes that name. Unsafe because per-instance variables
        may be intentional (each instance of a class now shares one). No fix for non-literal arguments.
    """
    VALID = (
        Valid("import contextvars\n\nrequest_id = contextvars.ContextVar('request_id')\n\n\nclass Holder:\n"
              "    var = contextvars.ContextVar('holder')\n\n\n"
              "VARS = [contextvars.ContextVar(n) for n in ('a', 'b')]\n"),
        Valid("from contextvars import ContextVar\n\n_VARS: dict = {}\n\n\ndef var_for(key):\n"
              "    if key not in _VARS:\n"
              "        _VARS[key] = ContextVar(key)\n    return _VARS[key]\n\n\ndef other(key):\n"
              "    return _VARS.setdefault(key, ContextVar(key))\n"),
        Valid("import functools\nfrom contextvars import ContextVar\n\n\n@functools.lru_cache(maxsize=None)\n"
              "def var_for(key):\n    return ContextVar(key)\n"),
        Valid("from contextvars import ContextVar\n\n_var = None\n\n\ndef init():\n    global _var\n"
              "    if _var is None:\n"
              "        _var = ContextVar('lazy')\n"),
        Valid("from contextvars import ContextVar\n\n\nclass Registry:\n    def __init__(self):\n"
              "        self.current = ContextVar('current', default=None)\n\n\nregistry = Registry()\n"),
        Valid("from contextvars import ContextVar\n\n\nclass Runtime:\n    def __init__(self):\n"
              "        self._current = ContextVar('current_context')\n"),
        # made by the `__init__` of an owner whose instances are made elsewhere (an engine built at start-up)
        Valid("from contextvars import ContextVar\n\n\nclass _Sessions:\n    def __init__(self, db):\n"
              "        self._current = ContextVar('db_session', default=None)\n\n\n"
              "class Database:\n    def __init__(self):\n        self.sessions = _Sessions(self)\n"),
        Valid("from contextvars import ContextVar\n\n\nclass Store:\n    def get(self, var=ContextVar('default')):\n"
              "        return var.get(None)\n"),
    )
    INVALID = (
        Invalid("import contextvars\n\n\ndef handle(request):\n    request_id = contextvars.ContextVar(\"request_id\", "
                "default=None)\n    request_id.set(request.id)\n",
                fixed="import contextvars\n\n\n_request_id_var = contextvars.ContextVar(\"request_id\", default=None)\n"
                      "\n\n"
                      "def handle(request):\n    request_id = _request_id_var\n    request_id.set(request.id)\n",
                unsafe=True),
        Invalid("import os\n\n\ndef factory():\n    from contextvars import ContextVar\n"
                "    return ContextVar('tenant')\n",
                fixed="import contextvars\nimport os\n\n\n_tenant_var = contextvars.ContextVar('tenant')\n\n\n"
                      'def factory():\n    from contextvars import ContextVar\n    return _tenant_var\n',
                unsafe=True),
        Invalid("from contextvars import ContextVar\n\n\nclass Client:\n    def disconnect(self):\n"
                "        self._ctx = ContextVar(f'client-{id(self)}')\n"),
        Invalid("from contextvars import ContextVar\n\n\nclass Session:\n    def __init__(self):\n"
                "        self.user = ContextVar('user')\n\n\ndef handle():\n    return Session()\n",
                fixed="from contextvars import ContextVar\n\n\n_user_var = ContextVar('user')\n\n\nclass Session:\n"
                      "    def __init__(self):\n        self.user = _user_var\n\n\ndef handle():\n"
                      "    return Session()\n",
                unsafe=True),
        Invalid("import contextvars\n\nmake = lambda: contextvars.ContextVar('x')\n"),
        # the owner itself is made on every call: so is the variable
        Invalid("from contextvars import ContextVar\n\n\nclass _Sessions:\n    def __init__(self, db):\n"
                "        self._current = ContextVar('db_session', default=None)\n\n\n"
                "class Database:\n    def __init__(self):\n        self.sessions = _Sessions(self)\n\n\n"
                "def handle():\n    return Database()\n",
                fixed="from contextvars import ContextVar\n\n\n_db_session_var = ContextVar('db_session', "
                      "default=None)\n\n\nclass _Sessions:\n    def __init__(self, db):\n"
                      "        self._current = _db_session_var\n\n\n"
                      "class Database:\n    def __init__(self):\n        self.sessions = _Sessions(self)\n\n\n"
                      "def handle():\n    return Database()\n",
                unsafe=True),
    )

    @staticmethod
    def message(function: str | None) -> str:
        """`function`: the def it is created in (None: a lambda)."""
        where = f"`{function}()`" if function is not None else "a lambda"
        return (f"ContextVar created inside {where}: every call makes a new variable (a value set through one "
                f"is invisible through the next) and each Context keeps them alive; create it once at module "
                f"level")

    @staticmethod
    def build_fix(ctx: "FileContext", node: cst.Call) -> Fix | None:
        """Hoist a call with literal arguments and a string name to a module-level `_<name>_var` before the
        top-level statement holding it."""
        args = node.args
        if not args or any(a.star or not is_literal(a.value) or (a.keyword and a.keyword.value != "default")
                           for a in args):
            return None
        first = args[0].value
        if not isinstance(first, cst.SimpleString) or args[0].keyword is not None:
            return None
        top = ctx.ancestors[1] if len(ctx.ancestors) > 1 else None
        if not isinstance(top, cst.BaseCompoundStatement):
            return None
        raw = str(first.evaluated_value)
        base = "_" + (re.sub(r"\W+", "_", raw).strip("_").lower() or "context") + "_var"
        if not base[1].isalpha():
            base = "_var" + base
        # fresh in the module and among the names this check's other PRP402 fixes of the file took
        taken = ctx.__dict__.setdefault("_prp402_names", set())
        name = fresh_name(base, names_in(ctx.module) | taken)
        taken.add(name)
        imports = []
        func = node.func
        root = dotted(func.value if isinstance(func, cst.Subscript) else func)
        if root is None or root.split(".")[0] not in ctx.resolver.module_scope.imports():
            func = cst.parse_expression("contextvars.ContextVar")
            imports.append(ImportRequest("contextvars"))
        code = cst.Module(body=[]).code_for_node(node.with_changes(func=func))
        assign = cst.parse_statement(f"{name} = {code}\n", config=ctx.module.config_for_parsing)
        lead = list(top.leading_lines)
        split = next((i for i, ln in enumerate(lead) if ln.comment is not None), len(lead))
        assign = assign.with_changes(leading_lines=lead[:split])
        new_top = top.deep_replace(node, cst.Name(name)).with_changes(
            leading_lines=[cst.EmptyLine(), cst.EmptyLine(), *lead[split:]])
        return Fix(UNSAFE, f"Create the ContextVar once at module level as `{name}`",
                   replacements=[(top, cst.FlattenSentinel([assign, new_top]))], imports=imports)

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """A call resolving to a ContextVar class, in a function or lambda scope."""
        return all_of(contextvar_class(project), words({"def", "lambda"}))
