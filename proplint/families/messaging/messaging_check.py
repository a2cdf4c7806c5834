"""The messaging visitor: producers (PRP301, PRP306, PRP307), consumers (PRP302), extracted or captured
contexts (PRP303), receive options (PRP304) and early imports of swapped classes (PRP305).

Everything about libraries comes from `rules/messaging.toml` (roles in `messaging_catalog.py`); receivers
are inferred by `messaging_types.py`, restoration by `messaging_flow.py`, edits by `messaging_fixes.py`;
PRP303 and PRP305 are the `ContextRules` mixin (`messaging_context.py`); where each rule can report, for the
prefilter, is `messaging_needs.py`.
"""

from __future__ import annotations

import libcst as cst

from proplint.core.context import Check
from proplint.families.messaging.messaging_catalog import Consumer, Producer, instrumentor_packages, project_facts
from proplint.families.messaging.messaging_catalog import instrumented as library_instrumented
from proplint.families.messaging.messaging_context import ContextRules
from proplint.families.messaging.messaging_fixes import Fixes, kwarg, keyword_arg, has_splat, _with_arg
from proplint.families.messaging.messaging_flow import SPAN_METHODS, ExtractFlow
from proplint.families.messaging.messaging_needs import PROPAGATOR_METHODS, last, messaging_needs
from proplint.families.messaging.messaging_types import Receiver, Receivers, small_statements, string_literal
from proplint.core.flow import CarrierFlow
from proplint.core.needs import Need
from proplint.core.resolve import is_name
from proplint.core.rule import SAFE, UNSAFE, Fix
from proplint.core.walk import visit

_GUARDS = (cst.Continue, cst.Break, cst.Return, cst.Raise, cst.Pass)
_LOW_CONFIDENCE = " (receiver not inferred: matched by the method name)"


class MessagingBase(ContextRules, Check):
    @classmethod
    def needs(cls, catalog, config, index) -> list[Need]:
        """Per rule, the words a file must hold for it to report (`messaging_needs.py`)."""
        return messaging_needs(catalog, config, index)

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        cat = ctx.catalog
        self.rule = {r.code: r for r in type(self).rules}
        self.producers: dict[tuple[str, str], Producer] = {}
        self.distinct_producers: dict[str, Producer] = {}
        for e in cat.get("producer"):
            for m in e.methods:
                self.producers[(e.kind, m)] = e
            for m in e.distinctive:
                self.distinct_producers[m] = e
        self.consumers: dict[tuple[str, str], Consumer] = {}
        self.distinct_consumers: dict[str, Consumer] = {}
        self.iterated: dict[str, Consumer] = {}
        for e in cat.get("consumer"):
            if e.form == "iterate":
                self.iterated[e.kind] = e
            for m in e.methods:
                self.consumers[(e.kind, m)] = e
            for m in e.distinctive:
                self.distinct_consumers[m] = e
        self.options = {(e.kind, m): e for e in cat.get("receive_option") for m in e.methods}
        self.early = list(cat.get("early_import"))
        self.packages = instrumentor_packages(cat)
        self.receivers = Receivers(ctx)
        self.flow = CarrierFlow(ctx)
        self.extracts = ExtractFlow(ctx)
        self.fixes = Fixes(ctx)
        self._extracted_names: dict[int, dict[str, bool]] = {}
        self._v3_with_properties: dict[int, bool] = {}
        # What the rules still possible on this file look at (`ctx.enabled` holds only those). A call's receiver
        # is inferred only for a method those rules match, or a client method (`conn.channel()`): inference
        # caches what it meets, with a depth limit, so the links of a chain must be inferred where they are
        # visited, as before, for a later `queue_iter` to get the same kind through them.
        enabled = ctx.enabled
        self.producing = not enabled.isdisjoint(("PRP301", "PRP306", "PRP307"))
        self.consuming = "PRP302" in enabled
        self.checking_options = "PRP304" in enabled
        self.checking_contexts = "PRP303" in enabled
        calls = ("call", "batch", "callback")
        self.call_methods: set[str] = set()
        if self.producing:
            self.call_methods.update(m for _, m in self.producers)
            self.call_methods.update(self.distinct_producers)
        if self.consuming:
            self.call_methods.update(m for (_, m), e in self.consumers.items() if e.form in calls)
            self.call_methods.update(m for m, e in self.distinct_consumers.items() if e.form in calls)
        if self.checking_options:
            self.call_methods.update(m for _, m in self.options)
        if self.call_methods or self.consuming:
            self.call_methods.update(m.method for m in cat.get("client_method"))
        self.assigned_methods = {m for (_, m), e in self.consumers.items() if e.form == "attribute"} \
            if self.consuming else set()
        helpers = [*cat.names("injector"), *cat.names("extractor"), *ctx.config.injectors, *ctx.config.extractors]
        self.carrier_calls = {*PROPAGATOR_METHODS, *map(last, helpers)}
        self._aliases: set[str] | None = None

    # -- shared facts ---------------------------------------------------------------------------------
    def instrumented(self, libraries) -> bool:
        return library_instrumented(self.ctx.index, self.packages, libraries)

    def manual_propagation(self) -> bool:
        return bool(self.ctx.config.injectors) or bool(project_facts(self.ctx.index)["injectors"])

    def bound_values(self) -> dict[str, cst.BaseExpression]:
        """Names of the current function (or module) bound exactly once, to their value."""
        scope = self.ctx.resolver.function_scope() or self.ctx.resolver.module_scope
        out = {}
        for name, ev in scope.collected().evidence.items():
            values = [v for kind, v in ev if kind == "value"]
            if len(values) == 1 and not any(kind == "with" for kind, _ in ev):
                out[name] = values[0]
        return out

    def _lookup(self, table, distinct, receiver: Receiver, method: str):
        if receiver.kind is not None:
            return table.get((receiver.kind, method)), False
        if not receiver.known:
            entry = distinct.get(method)
            return entry, entry is not None
        return None, False

    # -- calls ----------------------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        contexts = self.checking_contexts
        if isinstance(func, cst.Attribute):
            method = func.attr.value
            if contexts and method in SPAN_METHODS:
                self._links_without_context(node)
            if method in self.call_methods:
                self._method_call(node, method)
            named = method in self.carrier_calls
        elif isinstance(func, cst.Name):
            named = contexts and (func.value in self.carrier_calls or func.value in self.import_aliases())
        else:
            named = False  # no qualified name, no `.extract`/`.inject`
        # PRP303 starts from a call of an injector or extractor (the last segment of its qualified name is the
        # attribute, or the called name unless an import aliases it), or of `.extract`/`.inject`
        if contexts and named:
            self._prp303_call(node)

    def _method_call(self, node: cst.Call, method: str) -> None:
        receiver = self.receivers.infer(node.func.value)  # type: ignore[attr-defined]
        if self.producing:
            producer, guessed = self._lookup(self.producers, self.distinct_producers, receiver, method)
            if producer is not None:
                self._producer(node, producer, receiver, guessed)
        if self.consuming:
            consumer, guessed = self._lookup(self.consumers, self.distinct_consumers, receiver, method)
            if consumer is not None and consumer.form in ("call", "batch", "callback"):
                self._consumer_call(node, consumer, receiver, guessed)
        option = self.options.get((receiver.kind, method)) if receiver.kind and self.checking_options else None
        if option is not None:
            self._receive_option(node, option)

    def import_aliases(self) -> set[str]:
        """Names bound by `import a as x` / `from a import b as x` anywhere in the module."""
        if self._aliases is None:
            self._aliases = import_aliases(self.ctx.module)
        return self._aliases

    # -- PRP301 / PRP306 / PRP307 ----------------------------------------------------------------------
    def _producer(self, node: cst.Call, entry: Producer, receiver: Receiver, guessed: bool) -> None:
        if self.instrumented(entry.instrumented_by) or self.receivers.traced(receiver):
            return
        method = node.func.attr.value  # type: ignore[union-attr]
        v5 = self.receivers.meets_requirement(receiver)
        props = keyword_arg(node, entry.keyword, entry.index) if entry.shape == "mqtt_properties" else None
        if props is not None and not is_name(props[1].value, "None") and v5 is False:
            self._report_v3_properties(node, receiver)
        code = entry.manual_code if entry.manual_code and self.manual_propagation() else "PRP301"
        if code not in self.ctx.enabled or any(self.flow.enriched(arg.value) for arg in node.args):
            return
        label = f"{entry.library} {method}()"
        bound = self.bound_values()
        if v5 is False and self._gets_properties(receiver):
            # PRP307 reports this client and its fix makes it MQTTv5: fix as if it were (the fixes stay closed)
            v5 = True
        fix = self.fixes.carrier_fix(node, entry, self.ctx.ancestors, bound, v5)
        if fix is None and entry.payload_fix:
            fix = self.fixes.payload_fix(node, entry, self.ctx.ancestors, bound)
        if code == "PRP306":
            message = (f"{label} cannot carry headers, and this project propagates by hand; use "
                       f"apply_async(..., headers=carrier) with a carrier filled by an injector")
        elif entry.advice:
            message = f"{label} sends a message without a trace carrier; {entry.advice}"
        else:
            where = entry.keyword or "the message"
            message = (f"{label} sends a message without a trace carrier; pass a carrier filled by "
                       f"opentelemetry.propagate.inject in {where}")
        self.report(self.rule[code], node, message + (_LOW_CONFIDENCE if guessed else ""), fix)

    def _gets_properties(self, receiver: Receiver) -> bool:
        """Some call of the module passes carrier properties to the client built by `receiver.origin`."""
        key = id(receiver.origin)
        if key not in self._v3_with_properties:
            finder = _PropertiesPassed(self, receiver.origin)
            visit(self.ctx.module, finder)
            self._v3_with_properties[key] = finder.found
        return self._v3_with_properties[key]

    def _report_v3_properties(self, node: cst.Call, receiver: Receiver) -> None:
        fix = None
        client = self.receivers.clients.get(receiver.kind or "")
        if receiver.origin is not None and client is not None and not has_splat(receiver.origin) \
                and keyword_arg(receiver.origin, client.requires_keyword) is None:
            value, imports = self.fixes.name_for(client.requires_values[0])
            new = _with_arg(receiver.origin, kwarg(client.requires_keyword, self.fixes.expr(value)))
            fix = Fix(UNSAFE, f"Create the client with {client.requires_keyword}={value}",
                      replacements=[(receiver.origin, new)], imports=imports)
        self.report(self.rule["PRP307"], node,
                    "publish(properties=...) on an MQTT client not created with protocol=MQTTv5: paho drops the "
                    "properties (and the trace carrier in them) without an error", fix)

    # -- PRP304 ---------------------------------------------------------------------------------------
    def _receive_option(self, node: cst.Call, option) -> None:
        if self.instrumented(option.instrumented_by):
            return
        found = keyword_arg(node, option.keyword)
        if found is None:
            if has_splat(node):
                return
            value = cst.List([cst.Element(cst.SimpleString(f'"{option.add}"'))])
            new = _with_arg(node, kwarg(option.keyword, value))
        else:
            value = found[1].value
            if not isinstance(value, (cst.List, cst.Tuple)):
                return
            literals = [string_literal(el.value) for el in value.elements if isinstance(el, cst.Element)]
            if any(v is None for v in literals) or len(literals) != len(value.elements):
                return
            if any(v in option.accepted for v in literals):
                return
            elements = list(value.elements)
            if elements and elements[-1].comma is cst.MaybeSentinel.DEFAULT:
                elements[-1] = elements[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            new_value = value.with_changes(elements=[*elements, cst.Element(cst.SimpleString(f'"{option.add}"'))])
            new = node.deep_replace(value, new_value)
        fix = Fix(SAFE, f'Ask for the message attributes: {option.keyword} with "{option.add}"',
                  replacements=[(node, new)])
        self.report(self.rule["PRP304"], node,
                    f"{node.func.attr.value}() without {option.keyword} including "  # type: ignore[union-attr]
                    f"{', '.join(repr(a) for a in option.accepted)}: the trace carrier is not returned", fix)

    # -- PRP302 ---------------------------------------------------------------------------------------
    def _consumer_call(self, node: cst.Call, entry: Consumer, receiver: Receiver, guessed: bool) -> None:
        if self.instrumented(entry.restored_by) or self.receivers.traced(receiver):
            return
        suffix = _LOW_CONFIDENCE if guessed else ""
        if entry.form == "callback":
            found = keyword_arg(node, entry.keyword, entry.index)
            fn = self.extracts.callback(found[1].value) if found is not None else None
            if fn is None or self.extracts.restores([fn.body]):
                return
            self._report_callback(node, entry, fn, suffix)
            return
        line, block, targets = self._assigned_statement(node)
        if line is None:
            return
        body = list(block.body)
        rest = body[body.index(line) + 1:]
        if not rest or all(isinstance(s, cst.SimpleStatementLine) and all(isinstance(x, cst.Return) for x in s.body)
                           for s in rest):
            return
        if self.extracts.restores(rest):
            return
        fix = None
        if entry.form == "batch":
            loop = self._loop_over(rest, targets)
            if loop is not None and isinstance(loop.target, cst.Name):
                fix = self._wrap_block(loop, entry, loop.target.value, list(loop.body.body), [])
        elif isinstance(block, cst.IndentedBlock):
            fix = self._fix_after(block, line, rest, entry, targets)
        self.report(self.rule["PRP302"], node,
                    f"{entry.library} message received by {node.func.attr.value}() is processed without "  # type: ignore[union-attr]
                    f"restoring its trace context (extract the carrier and start the processing span with "
                    f"context=)" + suffix, fix)

    def _assigned_statement(self, node: cst.Call):
        """(statement line, its block, names it binds) for `x = [await] <call>`; (None, None, ()) otherwise."""
        parent = self.ctx.parent()
        if isinstance(parent, cst.Await):
            parent = self.ctx.parent(2)
            level = 3
        else:
            level = 2
        if not isinstance(parent, (cst.Assign, cst.AnnAssign)):
            return None, None, ()
        line, block = self.ctx.parent(level), self.ctx.parent(level + 1)
        if not isinstance(line, cst.SimpleStatementLine) or not isinstance(block, (cst.IndentedBlock, cst.Module)):
            return None, None, ()
        targets = [t.target for t in parent.targets] if isinstance(parent, cst.Assign) else [parent.target]
        names: list[str] = []
        for t in targets:
            if isinstance(t, cst.Name):
                names.append(t.value)
            elif isinstance(t, (cst.Tuple, cst.List)):
                names += [el.value.value for el in t.elements if isinstance(el.value, cst.Name)]
        return line, block, tuple(names)

    def _loop_over(self, statements, names) -> cst.For | None:
        finder = _ForOver(set(names))
        for s in statements:
            visit(s, finder)
            if finder.loop is not None:
                return finder.loop
        return None

    def _fix_after(self, block: cst.IndentedBlock, line, rest, entry: Consumer, targets) -> Fix | None:
        message = targets[0] if len(targets) == 1 else None
        prefix_end = 0
        if entry.decoders:
            message = None
            for i, s in enumerate(rest):
                decoded = self._decoded(s, entry, set(targets))
                if decoded is not None:
                    message, prefix_end = decoded, i + 1
                    break
        if message is None:
            return None
        while prefix_end < len(rest) and _is_guard(rest[prefix_end]):
            prefix_end += 1
        body = list(block.body)
        start = body.index(line) + 1 + prefix_end
        wrapped = self.fixes.wrap(entry, message, body[start:])
        if wrapped is None:
            return None
        with_stmt, imports = wrapped
        new_block = block.with_changes(body=[*body[:start], with_stmt])
        return Fix(UNSAFE, "Process the message in a CONSUMER span whose parent is the extracted context",
                   replacements=[(block, new_block)], imports=imports)

    def _decoded(self, stmt, entry: Consumer, names: set[str]) -> str | None:
        if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign)):
            return None
        assign = stmt.body[0]
        value = assign.value
        if not (isinstance(value, cst.Call) and self.ctx.qualified_name(value.func) in entry.decoders):
            return None
        if len(assign.targets) != 1 or not isinstance(assign.targets[0].target, cst.Name):
            return None
        finder = _NameSet()
        visit(value, finder)
        return assign.targets[0].target.value if finder.names & names else None

    def _wrap_block(self, owner, entry: Consumer, message: str, statements, prefix) -> Fix | None:
        wrapped = self.fixes.wrap(entry, message, statements)
        if wrapped is None:
            return None
        with_stmt, imports = wrapped
        new = owner.with_changes(body=owner.body.with_changes(body=[*prefix, with_stmt]))
        return Fix(UNSAFE, "Process the message in a CONSUMER span whose parent is the extracted context",
                   replacements=[(owner, new)], imports=imports)

    def _report_callback(self, node: cst.CSTNode, entry: Consumer, fn: cst.FunctionDef, suffix: str) -> None:
        params = [p.name.value for p in fn.params.params]
        if params and params[0] in ("self", "cls"):
            params = params[1:]
        fix = None
        if 0 <= entry.message < len(params) and isinstance(fn.body, cst.IndentedBlock):
            statements = list(fn.body.body)
            prefix = statements[:1] if statements and _is_docstring(statements[0]) else []
            fix = self._wrap_block(fn, entry, params[entry.message], statements[len(prefix):], prefix)
        self.report(self.rule["PRP302"], node,
                    f"{entry.library} callback {fn.name.value}() processes messages without restoring their trace "
                    f"context (extract the carrier and start the processing span with context=)" + suffix, fix)

    def visit_For(self, node: cst.For) -> None:
        if not self.consuming or not self.iterated:
            return
        receiver = self.receivers.infer(node.iter)
        entry = self.iterated.get(receiver.kind or "")
        if entry is None or self.instrumented(entry.restored_by):
            return
        if self.extracts.restores([node.body]):
            return
        target = node.target
        message = None
        if entry.message < 0 and isinstance(target, cst.Name):
            message = target.value
        elif entry.message >= 0 and isinstance(target, (cst.Tuple, cst.List)) and entry.message < len(target.elements):
            el = target.elements[entry.message].value
            message = el.value if isinstance(el, cst.Name) else None
        fix = self._wrap_block(node, entry, message, list(node.body.body), []) if message else None
        self.report(self.rule["PRP302"], node,
                    f"{entry.library} messages are processed in this loop without restoring their trace context "
                    f"(extract the carrier and start the processing span with context=)", fix)

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Attribute):
            return
        target = node.targets[0].target
        if target.attr.value not in self.assigned_methods:
            return
        receiver = self.receivers.infer(target.value)
        entry = self.consumers.get((receiver.kind, target.attr.value)) if receiver.kind else None
        if entry is None or entry.form != "attribute" or self.instrumented(entry.restored_by):
            return
        fn = self.extracts.callback(node.value)
        if fn is None or self.extracts.restores([fn.body]):
            return
        self._report_callback(node, entry, fn, "")


def import_aliases(module: cst.Module) -> set[str]:
    """Local names bound by an aliasing import (`import a as x`, `from a import b as x`) in any scope."""
    out: set[str] = set()
    for stmt, _ in small_statements(module):
        if isinstance(stmt, (cst.Import, cst.ImportFrom)) and not isinstance(stmt.names, cst.ImportStar):
            out.update(a.asname.name.value for a in stmt.names
                       if a.asname is not None and isinstance(a.asname.name, cst.Name))
    return out


class _PropertiesPassed(cst.CSTVisitor):
    """Whether a producer call with a statements-shaped carrier (paho `properties=`) on one client passes it."""

    def __init__(self, check: MessagingBase, origin: cst.Call | None) -> None:
        self.check = check
        self.origin = origin
        self.found = False

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self.found or self.origin is None or not isinstance(func, cst.Attribute):
            return
        receiver = self.check.receivers.infer(func.value)
        entry = self.check.producers.get((receiver.kind, func.attr.value)) if receiver.kind else None
        if entry is None or receiver.origin is not self.origin or entry.shape != "mqtt_properties":
            return
        found = keyword_arg(node, entry.keyword, entry.index)
        if found is not None and not is_name(found[1].value, "None"):
            self.found = True


def _is_guard(stmt: cst.CSTNode) -> bool:
    if not isinstance(stmt, cst.If) or stmt.orelse is not None:
        return False
    body = stmt.body.body
    if isinstance(stmt.body, cst.SimpleStatementSuite):
        return all(isinstance(s, _GUARDS) for s in body)
    return all(isinstance(s, cst.SimpleStatementLine) and all(isinstance(x, _GUARDS) for x in s.body) for s in body)


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr) \
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))


class _NameSet(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


class _ForOver(cst.CSTVisitor):
    """The first `for` loop whose iterable mentions one of `names`."""

    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.loop: cst.For | None = None

    def visit_For(self, node: cst.For) -> bool:
        if self.loop is None:
            finder = _NameSet()
            visit(node.iter, finder)
            if finder.names & self.names:
                self.loop = node
                return False
        return self.loop is None
