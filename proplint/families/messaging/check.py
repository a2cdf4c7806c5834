"""The messaging visitor: finds producer calls (PRP301, PRP306, PRP307), consumers (PRP302), receive calls
without the carrier's option (PRP304), extracted or captured contexts never applied (PRP303) and early
imports of classes an instrumentor swaps (PRP305), and reports them through the rule classes, whose
`message()`/`build_fix()` build the finding.

Everything about libraries comes from `rules/messaging.toml` (roles in `model.py`); receivers are inferred
by `receivers.py`, restoration by `flow.py`, the processing region of a received message by
`processing.py`, PRP303's flow facts `flow.py`, the edits are `edits.py`; where each rule can report is each
rule's `needs`. `MessagingCheck` is larger than a class should be (about 330 lines) for a reason: it is one
visitor for seven rules whose shapes share the catalog tables and the cached receiver inference (a call's
receiver must be inferred where it is visited, for the inference's cache to give later calls the same kind).
"""

from __future__ import annotations

import libcst as cst

from proplint.core.context import Check
from proplint.core.cst import has_star, keyword_arg, last_part
from proplint.core.flow import CarrierFlow
from proplint.core.resolve import dotted, is_name
from proplint.core.walk import visit
from proplint.families.messaging.edits import Fixes
from proplint.families.messaging.facts import imported_after, instrumentor_packages, listed_handlers, project_facts
from proplint.families.messaging.facts import instrumented as library_instrumented
from proplint.families.messaging.flow import SPAN_METHODS, ExtractFlow
from proplint.families.messaging.model import CALL, Consumer, Producer
from proplint.families.messaging.needs import PROPAGATOR_METHODS
from proplint.families.messaging.processing import (assigned_statement, is_docstring, loop_over, only_returns,
                                                    processed_after)
from proplint.core.readers import Readers
from proplint.families.messaging.outbox import carries_context, outbox_names, outbox_write
from proplint.families.messaging.outbox import message as outbox_message
from proplint.families.messaging.receivers import Receiver, Receivers, import_aliases, string_literal
from proplint.families.messaging.relevance import Relevance
from proplint.families.messaging.scheme import carries_own_scheme
from proplint.families.messaging.rules.prp301_producer_without_trace_carrier import ProducerWithoutTraceCarrier
from proplint.families.messaging.rules.prp302_consumer_processes_without_extract import ConsumerWithoutExtract
from proplint.families.messaging.rules.prp303_extract_result_unused_or_misparented import ExtractResultUnused
from proplint.families.messaging.rules.prp304_sqs_receive_without_attribute_names import (
    SqsReceiveWithoutAttributeNames)
from proplint.families.messaging.rules.prp305_confluent_kafka_early_import import ConfluentEarlyImport
from proplint.families.messaging.rules.prp306_celery_delay_drops_headers import CeleryDelayDropsHeaders
from proplint.families.messaging.rules.prp307_mqtt_properties_on_v3_client import MqttPropertiesOnV3Client


class MessagingCheck(Check):
    rules = (ProducerWithoutTraceCarrier, ConsumerWithoutExtract, ExtractResultUnused,
             SqsReceiveWithoutAttributeNames, ConfluentEarlyImport, CeleryDelayDropsHeaders,
             MqttPropertiesOnV3Client)

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        cat = ctx.catalog
        #: the rule a producer entry's `manual_code` names (the catalog decides PRP306 for celery `delay`)
        self.by_code = {r.code: r for r in type(self).rules}
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
        #: a producer method `__call__` (CALL) is a call of the object itself: calling a huey task enqueues it
        self.called_producers = {e.kind: e for e in cat.get("producer") if CALL in e.methods}
        #: form "task": the functions a decorator makes of a kind; form "listed": functions named in a list of
        #: one of `methods` (arq's `functions = [...]`)
        self.task_consumers = {e.kind: e for e in cat.get("consumer") if e.form == "task"}
        self._starts: frozenset[str] | None = None
        self.listed_consumers = [e for e in cat.get("consumer") if e.form == "listed"]
        self._listed: dict[str, Consumer] | None = None
        self.options = {(e.kind, m): e for e in cat.get("receive_option") for m in e.methods}
        self.early = list(cat.get("early_import"))
        self.packages = instrumentor_packages(cat)
        self.receivers = Receivers(ctx)
        self.flow = CarrierFlow(ctx)
        self.extracts = ExtractFlow(ctx)
        self.fixes = Fixes(ctx)
        self._v3_with_properties: dict[int, bool] = {}
        # What the rules still possible on this file look at. A call's receiver is inferred only for a method
        # those rules match, or a client method (`conn.channel()`): inference caches what it meets, with a
        # depth limit, so the links of a chain must be inferred where they are visited, as before, for a
        # later `queue_iter` to get the same kind through them.
        producing_rules = [ProducerWithoutTraceCarrier, MqttPropertiesOnV3Client,
                           *(self.by_code.get(e.manual_code) for e in cat.get("producer") if e.manual_code)]
        self.producing = any(self.enabled(r) for r in producing_rules if r is not None)
        self.consuming = self.enabled(ConsumerWithoutExtract)
        self.checking_options = self.enabled(SqsReceiveWithoutAttributeNames)
        self.checking_contexts = self.enabled(ExtractResultUnused)
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
        self.carrier_calls = {*PROPAGATOR_METHODS, *map(last_part, helpers)}
        self._aliases: set[str] | None = None
        self.relevance = Relevance(ctx)
        #: the project's own outbox API (`outbox.py`): writing an entry there is producing a message
        self.outboxes = outbox_names(ctx.index) if self.enabled(ProducerWithoutTraceCarrier) else frozenset()
        self.readers = Readers(ctx, project_facts(ctx.index)["clients"],
                               {e.name: e.library for e in cat.get("message_client")})

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

    def import_aliases(self) -> set[str]:
        """Names bound by `import a as x` / `from a import b as x` anywhere in the module."""
        if self._aliases is None:
            self._aliases = import_aliases(self.ctx.module)
        return self._aliases

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
            self._context_call(node)
        if self.producing and self.outboxes:
            name = outbox_write(node, self.outboxes)
            if name is not None and not carries_context(self, node):
                self.report(ProducerWithoutTraceCarrier, node, outbox_message(name, self.fixes.injector()[0]))
        if self.producing and self.called_producers and isinstance(func, (cst.Name, cst.Attribute)) \
                and (isinstance(func, cst.Name) or self.ctx.qualified_name(func) is not None):
            receiver = self.receivers.infer(func)
            producer = self.called_producers.get(receiver.kind or "")
            if producer is not None:
                name = func.value if isinstance(func, cst.Name) else func.attr.value
                self._producer(node, producer, receiver, False, name)

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

    # -- PRP301 / PRP306 / PRP307 ----------------------------------------------------------------------
    def _producer(self, node: cst.Call, entry: Producer, receiver: Receiver, guessed: bool,
                  method: str | None = None) -> None:
        if self.instrumented(entry.instrumented_by) or self.receivers.traced(receiver):
            return
        if self.relevance.carried_elsewhere(entry) or self.relevance.external_destination(node) \
                or self.relevance.wrapper(node, entry) or self.relevance.library_unused(entry.kind, guessed) \
                or self.relevance.not_a_unit_of_work(node, entry) or self._in_task_without_context() \
                or self._task_reads_nothing(node) \
                or self.relevance.unread_by_own_consumers(node, entry) or carries_own_scheme(self, node):
            return
        v5 = self.receivers.meets_requirement(receiver)
        props = keyword_arg(node, entry.keyword, entry.index) if entry.shape == "mqtt_properties" else None
        if props is not None and not is_name(props[1].value, "None") and v5 is False:
            client = self.receivers.clients.get(receiver.kind or "")
            self.report(MqttPropertiesOnV3Client, node, MqttPropertiesOnV3Client.message(),
                        MqttPropertiesOnV3Client.build_fix(self.fixes, receiver.origin, client))
        rule = self.by_code.get(entry.manual_code) if entry.manual_code and self.manual_propagation() \
            else ProducerWithoutTraceCarrier
        if rule is None or not self.enabled(rule) or any(self.flow.enriched(arg.value) for arg in _chain_args(node)):
            return
        bound = self.bound_values()
        if v5 is False and self._gets_properties(receiver):
            # PRP307 reports this client and its fix makes it MQTTv5: fix as if it were (the fixes stay closed)
            v5 = True
        fix = rule.build_fix(self.fixes, node, entry, self.ctx.ancestors, bound, v5)
        method = method or node.func.attr.value  # type: ignore[union-attr]
        self.report(rule, node, rule.message(entry, method, guessed), fix)

    def _in_task_without_context(self) -> bool:
        """The call is in the body of a task handler that restores no context and starts no span (a celery
        task re-enqueueing itself, a nightly task enqueueing others): the worker runs it in an empty context,
        so there is nothing to carry on. Whether the task should restore one is its own PRP302."""
        fn = next((a for a in self.ctx.ancestors[1:2] if isinstance(a, cst.FunctionDef)), None)
        if fn is None or not fn.decorators or not self.task_consumers:
            return False
        entry = self.task_consumers.get(self.receivers.decorated(fn).kind or "")
        if entry is None or self.instrumented(entry.restored_by) or self.relevance.carried_elsewhere(entry) \
                or self.relevance.restored_downstream() or self.relevance.restored_here():
            return False
        if self.extracts.restores([fn.body]):
            return False
        code = self.ctx.module.code_for_node(fn.body)
        return not any(f".{name}(" in code or f" {name}(" in code for name in self.context_starts())

    def _task_reads_nothing(self, node: cst.Call) -> bool:
        """`cleanup.delay(...)` of a task the project defines whose body reads no context (`core/foreign.py`:
        no span, no log that carries the request context, no project code that may read it, no instrumented
        client): nobody downstream reads a carrier, so none is lost."""
        func = node.func
        if not isinstance(func, cst.Attribute):
            return False
        q = self.ctx.qualified_name(func.value)
        if q is None and isinstance(func.value, cst.Name) and self.ctx.module_name \
                and self.ctx.resolver.module_defines(func.value.value):
            q = f"{self.ctx.module_name}.{func.value.value}"  # a task this module defines
        verdict = self.readers.foreign(q) if q else None
        return verdict is not None and not verdict.maybe

    def context_starts(self) -> frozenset[str]:
        """The last names of the calls that start a trace (the catalog's `[[trace_activity]]` sources)."""
        if self._starts is None:
            self._starts = frozenset(e.name.rsplit(".", 1)[-1] for e in self.ctx.catalog.get("trace_activity")
                                     if e.does == "source")
        return self._starts

    def _gets_properties(self, receiver: Receiver) -> bool:
        """Some call of the module passes carrier properties to the client built by `receiver.origin`."""
        key = id(receiver.origin)
        if key not in self._v3_with_properties:
            finder = _PropertiesPassed(self, receiver.origin)
            visit(self.ctx.module, finder)
            self._v3_with_properties[key] = finder.found
        return self._v3_with_properties[key]

    # -- PRP304 ---------------------------------------------------------------------------------------
    def _receive_option(self, node: cst.Call, option) -> None:
        if self.instrumented(option.instrumented_by) or self.relevance.vendor:
            return
        found = keyword_arg(node, option.keyword)
        if found is None:
            if has_star(node):
                return
        else:
            value = found[1].value
            if not isinstance(value, (cst.List, cst.Tuple)):
                return
            literals = [string_literal(el.value) for el in value.elements if isinstance(el, cst.Element)]
            if any(v is None for v in literals) or len(literals) != len(value.elements):
                return
            if any(v in option.accepted for v in literals):
                return
        rule = SqsReceiveWithoutAttributeNames
        self.report(rule, node, rule.message(node.func.attr.value, option),  # type: ignore[union-attr]
                    rule.build_fix(node, option, found))

    # -- PRP302 ---------------------------------------------------------------------------------------
    def _consumer_call(self, node: cst.Call, entry: Consumer, receiver: Receiver, guessed: bool) -> None:
        if self.instrumented(entry.restored_by) or self.receivers.traced(receiver) \
                or self.relevance.carried_elsewhere(entry) or self.relevance.library_unused(entry.kind, guessed) \
                or self.relevance.restored_downstream():
            return
        rule = ConsumerWithoutExtract
        if entry.form == "callback":
            found = keyword_arg(node, entry.keyword, entry.index)
            fn = self.extracts.callback(found[1].value) if found is not None else None
            if fn is None or self.extracts.restores([fn.body]) or not self._callback_reads(fn):
                return
            self._report_callback(node, entry, fn, guessed)
            return
        line, block, targets = assigned_statement(self.ctx)
        if line is None:
            return
        body = list(block.body)
        rest = body[body.index(line) + 1:]
        if only_returns(rest) or self.extracts.restores(rest) or self.relevance.receiving_wrapper(node, rest):
            return
        fn = self.ctx.enclosing(cst.FunctionDef)
        if not self.readers.reads(rest, set(targets), fn if isinstance(fn, cst.FunctionDef) else None):
            return  # nothing in the processing reads a context: restoring it would continue no trace
        fix = None
        if entry.form == "batch":
            loop = loop_over(rest, targets)
            if loop is not None and isinstance(loop.target, cst.Name):
                fix = rule.build_fix(self.fixes, loop, entry, loop.target.value, list(loop.body.body))
        elif isinstance(block, cst.IndentedBlock):
            processed = processed_after(self.ctx, rest, entry, targets)
            if processed is not None:
                message, prefix_end = processed
                start = body.index(line) + 1 + prefix_end
                fix = rule.build_fix(self.fixes, block, entry, message, body[start:], body[:start])
        self.report(rule, node, rule.message(entry, method=node.func.attr.value, guessed=guessed),  # type: ignore
                    fix)

    def _report_callback(self, node: cst.CSTNode, entry: Consumer, fn: cst.FunctionDef, guessed: bool) -> None:
        params = [p.name.value for p in fn.params.params]
        if params and params[0] in ("self", "cls"):
            params = params[1:]
        rule = ConsumerWithoutExtract
        fix = None
        if 0 <= entry.message < len(params) and isinstance(fn.body, cst.IndentedBlock):
            statements = list(fn.body.body)
            prefix = statements[:1] if statements and is_docstring(statements[0]) else []
            fix = rule.build_fix(self.fixes, fn, entry, params[entry.message], statements[len(prefix):], prefix)
        self.report(rule, node, rule.message(entry, callback=fn.name.value, guessed=guessed), fix)

    def visit_For(self, node: cst.For) -> None:
        if not self.consuming or not self.iterated:
            return
        receiver = self.receivers.infer(node.iter)
        entry = self.iterated.get(receiver.kind or "")
        if entry is None or self.instrumented(entry.restored_by) or self.relevance.carried_elsewhere(entry) \
                or self.relevance.restored_downstream():
            return
        if self.extracts.restores([node.body]):
            return
        fn = self.ctx.enclosing(cst.FunctionDef)
        bound = {n.value for n in _names(node.target)}
        if not self.readers.reads([node.body], bound, fn if isinstance(fn, cst.FunctionDef) else None):
            return  # nothing in the processing reads a context
        target = node.target
        message = None
        if entry.message < 0 and isinstance(target, cst.Name):
            message = target.value
        elif entry.message >= 0 and isinstance(target, (cst.Tuple, cst.List)) and entry.message < len(target.elements):
            el = target.elements[entry.message].value
            message = el.value if isinstance(el, cst.Name) else None
        rule = ConsumerWithoutExtract
        fix = rule.build_fix(self.fixes, node, entry, message, list(node.body.body)) if message else None
        self.report(rule, node, rule.message(entry), fix)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        """A task handler (form "task": a function its decorator makes of a kind; form "listed": a function of the
        module named in a list the library's worker runs) processes a message: its body is the processing."""
        if not self.consuming or not (self.task_consumers or self.listed_consumers):
            return
        entry = None
        if node.decorators and self.task_consumers:
            entry = self.task_consumers.get(self.receivers.decorated(node).kind or "")
        if entry is None and self.listed_consumers and self.ctx.parent() is self.ctx.module:
            entry = self.listed().get(node.name.value)
            if entry is None and self.ctx.module_name:  # listed by a worker in another module
                kind = listed_handlers(self.ctx.index, self.ctx.config.scope == "application").get(
                    f"{self.ctx.module_name}.{node.name.value}")
                entry = next((e for e in self.listed_consumers if e.kind == kind), None)
        if entry is None or self.instrumented(entry.restored_by) or self.relevance.carried_elsewhere(entry) \
                or self.relevance.restored_downstream() or self.relevance.restored_here():
            return
        if self.extracts.restores([node.body]) or not self._callback_reads(node):
            return
        rule = ConsumerWithoutExtract
        self.report(rule, node.name, rule.message(entry, task=node.name.value))

    def listed(self) -> dict[str, Consumer]:
        """Function names listed in this module for a "listed" consumer whose library the module imports (those
        listed by another module are the index's: `facts.listed_handlers`)."""
        if self._listed is None:
            self._listed = {}
            imported = {q.split(".")[0] for q in self.ctx.resolver.module_scope.imports().values()}
            for entry in self.listed_consumers:
                tops = self.relevance.tops.get(entry.kind, set())
                if tops & imported:
                    names = _listed_names(self.ctx.module, set(entry.methods))
                else:  # `class WorkerSettings: functions = [...]` without an import of the library
                    names = [n for stmt in self.ctx.module.body if isinstance(stmt, cst.ClassDef)
                             and stmt.name.value in entry.holders for n in _listed_names(stmt, set(entry.methods))]
                for name in names:
                    self._listed.setdefault(name, entry)
        return self._listed

    def visit_Assign(self, node: cst.Assign) -> None:
        if len(node.targets) != 1 or not isinstance(node.targets[0].target, cst.Attribute):
            return
        target = node.targets[0].target
        if target.attr.value not in self.assigned_methods:
            return
        receiver = self.receivers.infer(target.value)
        entry = self.consumers.get((receiver.kind, target.attr.value)) if receiver.kind else None
        if entry is None or entry.form != "attribute" or self.instrumented(entry.restored_by) \
                or self.relevance.carried_elsewhere(entry) or self.relevance.restored_downstream():
            return
        fn = self.extracts.callback(node.value)
        if fn is None or self.extracts.restores([fn.body]) or not self._callback_reads(fn):
            return
        self._report_callback(node, entry, fn, False)

    def _callback_reads(self, fn: cst.FunctionDef) -> bool:
        """The callback's body may read a context (`readers.py`); its parameters hold the message."""
        params = {p.name.value for p in (*fn.params.posonly_params, *fn.params.params) if p.name.value not in (
            "self", "cls")}
        return self.readers.reads([fn.body], params, fn)

    # -- PRP303 ---------------------------------------------------------------------------------------
    def _context_call(self, node: cst.Call) -> None:
        parent = self.ctx.parent()
        rule = ExtractResultUnused
        if self.extracts.is_extract(node):
            q = self.ctx.qualified_name(node.func)
            if isinstance(parent, cst.Expr) and (q not in self.ctx.config.extractors or q in self.extracts.returning):
                self.report(rule, node, rule.message("discarded"))
                return
            name = _single_target(parent)
            fn = self.extracts.function_node()
            if name is not None and fn is not None:
                applied, links = self.extracts.uses(name, fn)
                if applied == 0 and links == 0:
                    self.report(rule, node, rule.message("never applied", name))
            return
        fn = self.extracts.function_node()
        if fn is None:
            return
        filled = self.flow.filled_argument(node)
        if isinstance(filled, cst.Name) and isinstance(parent, cst.Expr):
            binding = self.extracts.single_binding(filled.value)
            if binding and self.extracts.uses(filled.value, fn, skip=node)[0] == 0:
                self.report(rule, node, rule.message("filled", filled.value))
            return
        if filled is None and self.flow.returns_carrier(node):
            name = _single_target(parent)
            if name is not None and self.extracts.uses(name, fn)[0] == 0:
                self.report(rule, node, rule.message("captured", name))

    def _links_without_context(self, node: cst.Call) -> None:
        links = keyword_arg(node, "links")
        if links is None or keyword_arg(node, "context") is not None or has_star(node):
            return
        if self.extracts.extracted(links[1].value, self.extracts.extracted_names()):
            self.report(ExtractResultUnused, node, ExtractResultUnused.message("links"))

    # -- PRP305 ---------------------------------------------------------------------------------------
    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not self.enabled(ConfluentEarlyImport) or node.relative or node.module is None \
                or isinstance(node.names, cst.ImportStar):
            return
        line = self.ctx.parent()
        if not isinstance(line, cst.SimpleStatementLine) or not isinstance(self.ctx.parent(2), cst.Module):
            return
        module = dotted(node.module)
        for entry in self.early:
            if entry.module != module:
                continue
            names = [a.name.value for a in node.names if isinstance(a.name, cst.Name) and a.name.value in entry.names]
            if not names or not self.ctx.index.instrumented(entry.library) or self._imported_after(entry, line):
                continue
            self.report(ConfluentEarlyImport, node, ConfluentEarlyImport.message(module, names, entry.library))

    def _imported_after(self, entry, line: cst.SimpleStatementLine) -> bool:
        """The import runs after the instrumentation: another module imports this one after instrumenting,
        or this module instruments earlier, at module level."""
        if imported_after(self.ctx.index, self.ctx.module_name, entry.library):
            return True
        for stmt in self.ctx.module.body:
            if stmt is line:
                return False
            finder = _InstrumentCall()
            visit(stmt, finder)
            if finder.found:
                return True
        return False


def _chain_args(call: cst.Call) -> list[cst.Arg]:
    """The arguments of a call and of the calls its receiver is built by (`t.kicker().with_labels(**c).kiq(x)`:
    a carrier given anywhere in the chain travels with the message)."""
    out = list(call.args)
    expr = call.func.value if isinstance(call.func, cst.Attribute) else None
    while expr is not None:
        if isinstance(expr, cst.Await):
            expr = expr.expression
        elif isinstance(expr, cst.Call):
            out += expr.args
            expr = expr.func
        elif isinstance(expr, cst.Attribute):
            expr = expr.value
        else:
            break
    return out


def _listed_names(module: cst.CSTNode, keys: set[str]) -> list[str]:
    """Names in the list or tuple literals assigned to one of `keys` (a module or class attribute) or passed as
    that keyword; an element `func(fn, ...)` names `fn`."""
    finder = _Listed(keys)
    visit(module, finder)
    return finder.names


class _Listed(cst.CSTVisitor):
    def __init__(self, keys: set[str]) -> None:
        self.keys = keys
        self.names: list[str] = []

    def _add(self, value: cst.BaseExpression) -> None:
        if not isinstance(value, (cst.List, cst.Tuple)):
            return
        for el in value.elements:
            item = el.value
            if isinstance(item, cst.Call) and item.args and item.args[0].keyword is None:
                item = item.args[0].value
            if isinstance(item, cst.Name):
                self.names.append(item.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        if any(isinstance(t.target, cst.Name) and t.target.value in self.keys for t in node.targets):
            self._add(node.value)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name) and node.target.value in self.keys and node.value is not None:
            self._add(node.value)

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None and node.keyword.value in self.keys:
            self._add(node.value)


def _names(target: cst.BaseExpression) -> list[cst.Name]:
    if isinstance(target, cst.Name):
        return [target]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in _names(el.value)]
    return []


def _single_target(parent) -> str | None:
    if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
        return parent.targets[0].target.value
    if isinstance(parent, cst.AnnAssign) and isinstance(parent.target, cst.Name):
        return parent.target.value
    return None


class _PropertiesPassed(cst.CSTVisitor):
    """Whether a producer call with a statements-shaped carrier (paho `properties=`) on one client passes it."""

    def __init__(self, check: MessagingCheck, origin: cst.Call | None) -> None:
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


class _InstrumentCall(cst.CSTVisitor):
    """Whether a statement calls `<x>.instrument(...)` outside a function."""

    def __init__(self) -> None:
        self.found = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "instrument":
            self.found = True
