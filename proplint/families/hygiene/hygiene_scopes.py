"""PRP404, PRP406, PRP407, PRP408, PRP411: tokens, scopes held across `yield`, middleware and startup tasks.

A mixin of `hygiene_check.HygieneBase` (it uses that class's helpers: `contextvar`, `opener`, `qual`,
`enclosing_function`, `decorator_names`). What runs where is read from the catalog: which entry points
run on pooled threads (`[[pooled_entry]]`), which middleware runs the endpoint in another task
(`[[http_middleware]]`), where long-lived work starts (`[[startup_hook]]`).
"""

from __future__ import annotations

from typing import Any

import libcst as cst

from proplint.families.hygiene.hygiene_support import (
    contains_yield, fresh_name, is_generator, single_name_target, wrap_rest_in_finally,
)
from proplint.families.hygiene.hygiene_walkers import AfterCallNext, ModuleScan, TokenUses, WorkerSpans, merge_sets
from proplint.core.resolve import dotted
from proplint.core.rule import SAFE, Fix, ImportRequest
from proplint.core.walk import visit


class ScopeRules:
    """PRP404, PRP406, PRP407, PRP408, PRP411 (see the module docstring)."""

    ctx: Any
    RULES: dict[str, Any]

    def setup(self) -> None:
        cat = self.ctx.catalog
        self.attach_entries = {e.name: e for e in cat.get("span_opener") if e.kind == "attach" and not e.method}
        self.pooled = cat.get("pooled_entry")
        self.middleware = cat.get("http_middleware")
        self.middleware_bases = {e.name for e in self.middleware if e.kind == "base"}
        self.hooks = cat.get("startup_hook")
        self.hook_keywords = {h.name for h in self.hooks if h.kind == "keyword"}
        self.extractors = cat.names("extractor") | set(self.ctx.config.extractors)
        self.cv_get = {e.get_method for e in cat.get("contextvar_class")}
        self._scan: ModuleScan | None = None
        self._generators: dict[int, bool] = {}

    def module_scan(self) -> ModuleScan:
        if self._scan is None:
            self._scan = ModuleScan(self)
            visit(self.ctx.module, self._scan)
        return self._scan

    def generator(self, fn: cst.FunctionDef | None) -> bool:
        """A generator whose `yield`s are not a context-manager/fixture protocol."""
        if fn is None:
            return False
        key = id(fn)
        if key not in self._generators:
            protocol = any(n in self.changing and self.changing[n].yield_protocol for n in self.decorator_names(fn))
            self._generators[key] = not protocol and is_generator(fn)
        return self._generators[key]

    def scope_call(self, node: cst.Call, q: str | None) -> None:
        if q in self.attach_entries:
            self._attach(node, self.attach_entries[q])
        elif isinstance(node.func, cst.Attribute) and node.func.attr.value in self.cv_set:
            receiver = dotted(node.func.value)
            if receiver and receiver.rsplit(".", 1)[-1] in self.cv_words:
                self._cv_set(node)

    # -- PRP404 (and PRP407 for attach): a token that is not detached on every path ----------------------
    def _attach(self, node: cst.Call, entry) -> None:
        fn = self.enclosing_function()
        if fn is None or not (self.enabled(self.RULES["PRP404"]) or self.enabled(self.RULES["PRP407"])):
            return
        parent, line, block = self.ctx.parent(), self.ctx.parent(2), self.ctx.parent(3)
        single = isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 and line.body[0] is parent
        if self.enabled(self.RULES["PRP407"]) and single and isinstance(block, cst.IndentedBlock) \
                and self.generator(fn):
            i = next((k for k, s in enumerate(block.body) if s is line), None)
            if i is not None and contains_yield(list(block.body[i + 1:])):
                self.report(self.RULES["PRP407"], node,
                            f"`{self.short(node)}` makes a context current across a `yield`: while the generator is "
                            f"suspended the consumer runs inside it, and closing the generator from another context "
                            f"fails to detach; attach only around code that does not yield")
        if not self.enabled(self.RULES["PRP404"]):
            return
        closer = entry.closer.rsplit(".", 1)[-1]
        target = single_name_target(parent)
        if isinstance(parent, cst.Expr):
            token = None
        elif target is not None:
            token = target.value
        else:
            return  # the token is stored, passed or returned: detached elsewhere
        uses = None
        if token is not None:
            uses = TokenUses(token, {closer}, target)
            visit(fn, uses)
            if uses.closed_in_finally or uses.other:
                return
        if (uses is None or not uses.closer_calls) and self._last_action(fn, line):
            return  # a setter helper: the attach is the last thing it does, the context is meant to outlive it
        fix = None
        if uses is not None and uses.closer_calls:
            message = (f"`{self.short(node)}`: `{closer}({token})` is skipped when the code before it raises, and "
                       f"the context stays attached to this thread; detach in a `finally`")
            if single and isinstance(block, cst.IndentedBlock) and len(uses.closer_calls) == 1:
                fix = self._between_fix(block, line, uses.closer_calls[0], closer)
            if fix is False:
                return
        else:
            what = "is discarded" if token is None else "is never detached"
            message = (f"the token of `{self.short(node)}` {what}: the context stays attached after this function, "
                       f"so the next job on this thread runs inside it; keep the token and detach it in `finally`")
            if single and isinstance(block, cst.IndentedBlock) and fn.body is block:
                fix = self._rest_fix(fn, block, line, node, token, self._detach_expr(node, entry), "token")
        self.report(self.RULES["PRP404"], node, message, fix or None)

    def _last_action(self, fn: cst.FunctionDef, line: cst.CSTNode | None) -> bool:
        """Whether nothing in `fn` runs after statement `line` on the normal path."""
        ancestors = self.ctx.ancestors
        stmt: cst.CSTNode | None = line
        for i in range(len(ancestors) - 1, 0, -1):
            if ancestors[i] is not stmt:
                continue
            block, owner = ancestors[i - 1], ancestors[i - 2] if i >= 2 else None
            if not isinstance(block, cst.IndentedBlock) or block.body[-1] is not stmt:
                return False
            if owner is fn:
                return True
            if isinstance(owner, (cst.For, cst.While)):
                return False
            if isinstance(owner, cst.Try) and block is owner.body and (owner.orelse or owner.finalbody):
                return False
            # climb to the statement that holds this block (an if/else/with/try/except)
            for j in range(i - 2, 0, -1):
                if isinstance(ancestors[j], cst.BaseCompoundStatement):
                    stmt = ancestors[j]
                    break
            else:
                return False
        return False

    def _detach_expr(self, node: cst.Call, entry) -> tuple[str, list[ImportRequest]] | None:
        closer_module, _, closer = entry.closer.rpartition(".")
        func = node.func
        if isinstance(func, cst.Attribute):
            base = dotted(func.value)
            return (f"{base}.{closer}", []) if base else None
        imports = self.ctx.resolver.module_scope.imports()
        if imports.get(closer) == entry.closer:
            return closer, []
        if closer in imports or self.ctx.resolver.module_defines(closer):
            return None
        return closer, [ImportRequest(closer_module, closer)]

    def _between_fix(self, block: cst.IndentedBlock, line: cst.CSTNode, closer_call: cst.Call, closer: str):
        body = list(block.body)
        i = next(k for k, s in enumerate(body) if s is line)
        j = next((k for k, s in enumerate(body) if isinstance(s, cst.SimpleStatementLine) and len(s.body) == 1
                  and isinstance(s.body[0], cst.Expr) and s.body[0].value is closer_call), None)
        if j is None or j <= i:
            return None
        if j == i + 1:
            return False  # nothing runs between attach and detach: nothing to report
        if contains_yield(body[i + 1:j]):
            return None
        new = wrap_rest_in_finally(block, i, line, body[j], stop=j)
        return Fix(SAFE, f"Move `{closer}(...)` into a `finally` block", replacements=[(block, new)])

    def _rest_fix(self, fn: cst.FunctionDef, block: cst.IndentedBlock, line: cst.SimpleStatementLine, call: cst.Call,
                  token: str | None, closer: tuple[str, list[ImportRequest]] | None, base: str) -> Fix | None:
        """`token = <call>` and the rest of the function body in `try: ... finally: <closer>(token)`."""
        if closer is None:
            return None
        body = list(block.body)
        i = next(k for k, s in enumerate(body) if s is line)
        rest = body[i + 1:]
        if not rest or contains_yield(rest) or self._mentions_closer(rest, closer[0]):
            return None
        if token is None:
            taken: set[str] = set()

            class _Names(cst.CSTVisitor):
                def visit_Name(self, n: cst.Name) -> None:
                    taken.add(n.value)

            visit(fn, _Names())
            token = fresh_name(base, taken)
            assign = cst.Assign(targets=[cst.AssignTarget(cst.Name(token))], value=call)
            opener = line.with_changes(body=[assign])
        else:
            opener = line
        closer_line = cst.parse_statement(f"{closer[0]}({token})\n", config=self.ctx.module.config_for_parsing)
        new = wrap_rest_in_finally(block, i, opener, closer_line)
        return Fix(SAFE, f"Keep the token and call `{closer[0]}({token})` in a `finally` block",
                   replacements=[(block, new)], imports=closer[1])

    @staticmethod
    def _mentions_closer(stmts: list, closer: str) -> bool:
        last = closer.rsplit(".", 1)[-1]
        found = []

        class _Calls(cst.CSTVisitor):
            def visit_Call(self, n: cst.Call) -> None:
                f = n.func
                name = f.attr.value if isinstance(f, cst.Attribute) else f.value if isinstance(f, cst.Name) else None
                if name in (last, "attach", "detach", "reset"):
                    found.append(n)

        for s in stmts:
            visit(s, _Calls())
        return bool(found)

    def short(self, node: cst.CSTNode) -> str:
        text = " ".join(cst.Module(body=[]).code_for_node(node).split())
        return text if len(text) <= 50 else text[:47] + "..."

    # -- PRP406: ContextVar.set on a pooled thread with the token discarded -------------------------------------
    def _cv_set(self, node: cst.Call) -> None:
        if not self.enabled(self.RULES["PRP406"]) or not node.args:
            return
        func = node.func
        assert isinstance(func, cst.Attribute)
        var = self.contextvar(func.value)
        fn = self.enclosing_function()
        if var is None or fn is None or fn.asynchronous is not None:
            return
        where = self._pooled_entry(fn)
        if where is None:
            return
        parent, line, block = self.ctx.parent(), self.ctx.parent(2), self.ctx.parent(3)
        target = single_name_target(parent)
        if isinstance(parent, cst.Expr):
            token = None
        elif target is not None:
            token = target.value
            uses = TokenUses(token, {self._reset_name()}, target)
            visit(fn, uses)
            if uses.closed_in_finally or uses.other or uses.closer_calls:
                return
        else:
            return
        receiver = dotted(func.value)
        fix = None
        single = isinstance(line, cst.SimpleStatementLine) and len(line.body) == 1 and line.body[0] is parent
        if receiver and single and isinstance(block, cst.IndentedBlock) and fn.body is block:
            fix = self._rest_fix(fn, block, line, node, token, (f"{receiver}.{self._reset_name()}", []), "_token")
        self.report(self.RULES["PRP406"], node,
                    f"`{self.short(node)}` in {where} keeps its value after the job: the next job on this pooled "
                    f"thread sees it; keep the token and `{receiver or 'var'}.reset(token)` in `finally`", fix)

    def _reset_name(self) -> str:
        return next(iter(self.cv_reset), "reset")

    def _pooled_entry(self, fn: cst.FunctionDef) -> str | None:
        imports = self.ctx.resolver.module_scope.imports().values()
        for dec in fn.decorators:
            expr = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
            q = self.qual(expr) or ""
            for entry in self.pooled:
                if entry.kind == "decorator" and q == entry.name:
                    return f"a `{entry.name}` task"
                if entry.kind == "route" and isinstance(expr, cst.Attribute) and expr.attr.value == entry.name:
                    t = self.ctx.resolver.receiver_type(expr.value)
                    if t in entry.receivers or (t is None and any(i.split(".")[0] == entry.module for i in imports)):
                        return f"a `{entry.module}` handler (`@{dotted(expr) or entry.name}`)"
            if q.endswith(".task") and "celery" in q.split("."):
                return "a Celery task"
        cls = self.ctx.ancestors[-3] if len(self.ctx.ancestors) >= 3 else None
        for entry in self.pooled:
            if entry.kind == "base" and isinstance(cls, cst.ClassDef) and fn.name.value in entry.methods:
                for b in cls.bases:
                    q = self.qual(b.value)
                    if q and (q == entry.name or self.ctx.index.is_subclass(q, {entry.name})):
                        return f"a `{entry.name}` handler"
            if entry.kind == "wsgi":
                params = [p.name.value for p in fn.params.params if p.name.value not in ("self", "cls")]
                if params[: len(entry.methods)] == list(entry.methods):
                    return "a WSGI application"
        if fn.name.value in self.module_scan().pooled:
            return "an executor job"
        return None

    # -- PRP407: a current span held across `yield` ------------------------------------------------------------
    def visit_With(self, node: cst.With) -> None:
        if not self.enabled(self.RULES["PRP407"]):
            return
        for item in node.items:
            if isinstance(item.item, cst.Call):
                entry = self.opener(item.item)
                if entry is not None and entry.kind == "current" and contains_yield(node.body) \
                        and self.generator(self.enclosing_function()):
                    self.report(self.RULES["PRP407"], item.item,
                                f"`{self.short(item.item)}` stays current across a `yield`: while the generator is "
                                f"suspended the consumer runs inside this span, and closing the generator from "
                                f"another context fails to detach; start_span() and end it in `finally`, making it "
                                f"current only around code that does not yield")
                    return

    # -- PRP408: BaseHTTPMiddleware reading a ContextVar after call_next ---------------------------------------
    def scope_function(self, node: cst.FunctionDef) -> None:
        if node.asynchronous is None or not self.enabled(self.RULES["PRP408"]):
            return
        index = self._middleware_param(node)
        if index is None:
            return
        params = [p.name.value for p in node.params.params]
        call_next = params[index] if len(params) > index else "call_next"
        walker = AfterCallNext(self, call_next)
        visit(node.body, walker)
        if not walker.reads:
            return
        sets = self.ctx.index.derived("hygiene.cv_sets", lambda ix: merge_sets(ix))
        cls = self.ctx.ancestors[-3] if len(self.ctx.ancestors) >= 3 else None
        here = ".".join(p for p in (self.ctx.module_name, cls.name.value if isinstance(cls, cst.ClassDef) else None,
                                    node.name.value) if p)
        for call, var in walker.reads:
            if var in walker.set_before or not (sets.get(var, set()) - {here}):
                continue
            self.report(self.RULES["PRP408"], call,
                        f"`{self.short(call)}` after `await {call_next}(...)` in a BaseHTTPMiddleware: the endpoint "
                        f"ran in another task, so the value it set is not visible here; write a pure ASGI middleware")

    def _middleware_param(self, node: cst.FunctionDef) -> int | None:
        """The position of `call_next` when `node` is a BaseHTTPMiddleware dispatch, else None."""
        cls = self.ctx.ancestors[-3] if len(self.ctx.ancestors) >= 3 else None
        methods = {e.method for e in self.middleware if e.kind == "base"}
        if isinstance(cls, cst.ClassDef) and node.name.value in methods:
            for b in cls.bases:
                q = self.qual(b.value)
                if q is None and isinstance(b.value, cst.Name) and self.ctx.module_name:
                    q = f"{self.ctx.module_name}.{b.value.value}"
                if q and (q in self.middleware_bases or self.ctx.index.is_subclass(q, self.middleware_bases)):
                    return 2
        for dec in node.decorators:
            d = dec.decorator
            if isinstance(d, cst.Call) and isinstance(d.func, cst.Attribute) and d.args:
                first = d.args[0].value
                for e in self.middleware:
                    if e.kind == "decorator" and d.func.attr.value == e.name and isinstance(first, cst.SimpleString) \
                            and first.evaluated_value == e.arg:
                        return 1
        imports = self.ctx.resolver.module_scope.imports().values()
        if any(q in self.middleware_bases for q in imports) and node.name.value in self.module_scan().dispatch:
            return 1  # app.add_middleware(BaseHTTPMiddleware, dispatch=<this function>)
        return None

    # -- PRP411: a long-lived task started at startup -----------------------------------------------------------
    def task_created(self, node: cst.Call, creator) -> None:
        if not self.enabled(self.RULES["PRP411"]) or not node.args:
            return
        fn = self.enclosing_function()
        if self.ctx.resolver.function_scope() is not None and (fn is None or not self._startup(fn)):
            return
        first = node.args[0].value
        target = first.func if creator.style == "coroutine" and isinstance(first, cst.Call) else first
        worker = self._function_named(target)
        if worker is None:
            return
        finder = WorkerSpans(self)
        visit(worker.body, finder)
        if not finder.unrooted or finder.extracts:
            return
        where = "at module level" if fn is None else f"in startup code `{fn.name.value}`"
        self.report(self.RULES["PRP411"], node,
                    f"long-lived task `{worker.name.value}` started {where} inherits that context forever: every span "
                    f"it makes in its loop joins the startup trace; give each unit of work its own root "
                    f"(`context=Context()`) or an extracted parent")

    def _startup(self, fn: cst.FunctionDef) -> bool:
        for dec in fn.decorators:
            d = dec.decorator
            if isinstance(d, cst.Call) and isinstance(d.func, cst.Attribute) and d.args:
                first = d.args[0].value
                for h in self.hooks:
                    if h.kind == "event_decorator" and d.func.attr.value == h.name \
                            and isinstance(first, cst.SimpleString) and first.evaluated_value == h.arg:
                        return True
        if any(h.kind == "function" and fn.name.value == h.name for h in self.hooks):
            return True
        return fn.name.value in self.module_scan().startup

    def _function_named(self, expr: cst.BaseExpression) -> cst.FunctionDef | None:
        body: Any = self.ctx.module.body
        name = expr.value if isinstance(expr, cst.Name) else None
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self":
            cls = self.ctx.enclosing(cst.ClassDef)
            body = cls.body.body if cls is not None else ()
            name = expr.attr.value
        return next((s for s in body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)
