"""Whether a producer or consumer the visitor found is one where a trace can be lost and read (the
family's side of `core/relevance.py`):

* the other side is outside the system: the module talks to another vendor's system
  (`core.relevance.vendor_module`: `integrations/`, `plugins/`...), or the call's topic, subject, queue or
  key is a string literal matching `external.topics` of `[tool.proplint]`;
* another tracing SDK that is the project's only tracing carries the library by itself (Sentry's Celery,
  rq and huey integrations; `[[sdk_propagation]]`);
* a consumer whose part of the project restores contexts with the project's own helper somewhere (the
  handler it hands the message to, in another module), or traces nothing (nothing there reads the trace: it
  uses no tracing, or only sets it up and traces its requests, `init_tracing`, `setup_tracing_middleware`);
* the message is not a unit of work that continues a trace: a one-character or numeric payload (a signal:
  `rpush(key, b"1")` wakes the waiter that already holds the trace), a copy to a dead-letter queue (the destination
  or the enclosing function names one: `dlq`, `dead_letter`, `poison`), or a push onto a Redis list that
  the project reads as a whole (`lrange`) or drains into a table (a loop collects the popped items and the
  function writes them in bulk: `bulk_create`, `executemany`...) and never takes a message off as a unit of work
  (no `blpop`, `rpop`... anywhere, but for a pop whose item is dropped, a wake-up wait, and a wrapper of the same
  name: the list is storage, `[[producer]] taken_by`, `stored_by` and `drained_into`, `takers.py`);
* nobody continues a trace from it: the project holds a consumer of the destination (a module named for
  consuming, `*_consumer.py`, `listeners/`, or one holding a consumer client, names the topic constant the
  producer sends to: `STORAGE_TOPIC`, `Topic.ORDERS`; a setting read off `settings`/`config` is a lookup, not
  the topic) and nothing in the project ever continues a trace from a message (no extractor, no
  `continue_trace`, no project helper that restores one, no instrumented library, no zero-code launcher):
  the project's own consumers read no carrier (`unread_by_own_consumers`);
* the call is a generic wrapper: both where it sends (the topic, queue, channel or key: an argument before
  the payload) and what it sends are (derived from) parameters of the enclosing function, so the carrier
  belongs to what the callers build (`async def lpush(self, key, value): await self._client.lpush(key,
  value)`; `KafkaBus.publish(topic, envelope)` sends `envelope.model_dump_json()`). A producer of one
  destination (`def publish(body): channel.basic_publish("", "tasks", body)`) is not a wrapper.
"""

from __future__ import annotations

import re

import libcst as cst

from proplint.core.context import FileContext
from proplint.core.cst import code_of, keyword_arg
from proplint.core.relevance import external_name, path_kind, vendor_module
from proplint.core.walk import visit
from proplint.families.messaging.facts import (continues_no_trace, project_facts, restoring_modules, traced_units,
                                               unit_of)
from proplint.families.messaging.model import Consumer, Producer
from proplint.families.messaging.receivers import string_literal
from proplint.families.messaging.takers import list_uses


#: a destination or function that holds failed messages: what is sent there is a copy, not a unit of work
DEAD_LETTER = re.compile(r"(^|[^a-z])(dlq|dlx|dead_?letters?|deadletters?|poison|parking_?lot)([^a-z]|$)", re.IGNORECASE)


class Relevance:
    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.vendor = vendor_module(ctx.relpath)
        self.tops = {c.name: {ctor.split(".")[0] for ctor in c.constructors} for c in ctx.catalog.get("message_client")}

    def restored_downstream(self) -> bool:
        """A consumer whose module imports a project module that restores received contexts with an extractor
        or the project's own helper (`use_trace_context(envelope.metadata)` in the handler module it hands
        the message to), or, in a deployed service, whose part (a service of a monorepo, `facts.unit_of`)
        traces nothing (`facts.traced_units`: no span started, no carrier injected or restored there, only
        tracing set up and requests traced; no reader of the trace: it follows its own correlation id, or
        writes to a store)."""
        index, catalog, config = self.ctx.index, self.ctx.catalog, self.ctx.config
        restoring = restoring_modules(index, catalog, config) - {self.ctx.module_name}
        if restoring and any(q == m or q.startswith(m + ".") for q in self.ctx.resolver.module_scope.imports().values()
                             for m in restoring):
            return True  # the handler module it imports (and hands the message to) restores the context
        unit = unit_of(self.ctx.relpath)
        # a deployed service whose tracing is all in code (no zero-code launcher, no library instrumented for
        # the whole process): a part of it with no tracing creates no span a restored context could parent
        return (self.ctx.project.deployed and not index.launcher and not index.facts("instrumented")
                and unit not in traced_units(index))

    def restored_here(self) -> bool:
        """This module restores received contexts somewhere (it calls an extractor, or the project's helper):
        a task module whose hook (a celery `task_prerun` handler, a dramatiq or taskiq middleware) restores
        the context around every task."""
        return self.ctx.module_name in restoring_modules(self.ctx.index, self.ctx.catalog, self.ctx.config)

    def library_unused(self, kind: str, guessed: bool) -> bool:
        """A call matched by its method name only (`guessed`) while the project imports the library of that
        kind nowhere: the receiver is something else (rq's `Queue.enqueue_job` is not arq's)."""
        if not guessed:
            return False
        used = project_facts(self.ctx.index)["libraries"]
        tops = self.tops.get(kind, set())
        return bool(tops) and not (tops & used)

    def carried_elsewhere(self, entry: Producer | Consumer) -> bool:
        """Nobody on the other side reads this system's trace, or another SDK carries it."""
        if self.vendor:
            return True
        return self.ctx.project.carried_by_sdk(self.ctx.catalog, entry.library, whole_context=False) is not None

    def not_a_unit_of_work(self, call: cst.Call, entry: Producer) -> bool:
        """A copy to a dead-letter queue, or a push onto a list nothing takes messages off."""
        found = keyword_arg(call, entry.payload_keyword, entry.payload_index) if entry.payload_index >= 0 else None
        if found is not None and _token(found[1].value):
            return True  # a one-character token (`rpush(key, b"1")`): a signal that wakes a waiter, not work
        units, storage = list_uses(self.ctx.index)
        if entry.stored_by and (units & set(entry.stored_by) or storage & set(entry.taken_by)) \
                and not units & set(entry.taken_by):
            return True  # every reader of such lists reads them whole or drains them into a table (`takers.py`)
        fn = self.ctx.enclosing(cst.FunctionDef)
        where = [code_of(a.value) for a in call.args if a.star != "*"][:2]
        if isinstance(fn, cst.FunctionDef):
            where.append(fn.name.value)
        return any(DEAD_LETTER.search(w) for w in where)

    def unread_by_own_consumers(self, call: cst.Call, entry: Producer) -> bool:
        """The topic constant this producer sends to is named by one of the project's consumer modules, and
        nothing in the project continues a trace from a message: the consumers it holds read no carrier."""
        index, catalog = self.ctx.index, self.ctx.catalog
        if index.launcher or index.facts("instrumented") or not continues_no_trace(index, catalog, self.ctx.config):
            return False
        constants = _Constants()
        scope = self.ctx.resolver.function_scope() or self.ctx.resolver.module_scope
        values = {name: [v for kind, v in ev if kind == "value"] for name, ev in scope.collected().evidence.items()}
        for expr in _destination(call, entry):
            constants.follow(expr, values)
        if not constants.names:
            return False
        consumers = _consumer_modules(index, catalog)
        return any(name in consumers.get(rel, ()) for rel in consumers if rel != self.ctx.relpath
                   for name in constants.names)

    def external_destination(self, call: cst.Call) -> bool:
        patterns = self.ctx.config.external_topics
        if not patterns:
            return False
        first = keyword_arg(call, "", 0)
        name = string_literal(first[1].value) if first else None
        return name is not None and external_name(name, patterns)

    def wrapper(self, call: cst.Call, entry: Producer) -> bool:
        """The destination and the message sent are parameters of the enclosing function (or attributes,
        method calls or `json.dumps` of them): the callers choose both."""
        params = self._params()
        keyword, index = entry.payload_keyword, entry.payload_index
        if index < 1 and entry.shape == "redis_fields":
            keyword, index = entry.keyword, entry.index  # a stream entry's fields: the carrier goes in the payload
        if not params or index < 1:
            return False
        found = keyword_arg(call, keyword, index)
        starred = [a for a in call.args if a.star == "*"]
        payload = [found[1].value] if found else [a.value for a in starred]
        if not payload or not any(_rooted(p, params) for p in payload):
            return False
        before = [keyword_arg(call, "", i) for i in range(index)]
        return any(arg is not None and _rooted(arg[1].value, params) for arg in before)

    def receiving_wrapper(self, call: cst.Call, rest: list[cst.BaseStatement]) -> bool:
        """A generic receive method: where it reads from is a parameter, and what it reads is returned to
        the callers (who process it, and are the ones to restore its context)."""
        params = self._params()
        first = keyword_arg(call, "", 0)
        if not params or first is None or not _rooted(first[1].value, params):
            return False
        finder = _Returns()
        for stmt in rest:
            visit(stmt, finder)
        return finder.found

    def _params(self) -> set[str]:
        fn = self.ctx.enclosing(cst.FunctionDef)
        if not isinstance(fn, cst.FunctionDef):
            return set()
        params = {p.name.value for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params)}
        if isinstance(fn.params.star_arg, cst.Param):
            params.add(fn.params.star_arg.name.value)
        return params - {"self", "cls"}


#: keywords that name where a message goes
_DESTINATION_KEYWORDS = frozenset({"topic", "queue", "queue_name", "subject", "channel", "exchange", "routing_key",
                                   "QueueUrl", "TopicArn", "stream", "name"})
#: a module named for consuming messages (`lw_deletions_consumer.py`, `listeners/orders.py`)
_CONSUMING = re.compile(r"(^|[/_.])(consumers?|listeners?|subscribers?)([/_.]|$)", re.IGNORECASE)
#: receivers whose attributes are configuration lookups (`settings.KAFKA_TOPIC_MAP`), not the topic itself
_SETTINGS = frozenset({"settings", "config", "conf", "cfg", "configuration", "env"})


def _destination(call: cst.Call, entry: Producer) -> list[cst.BaseExpression]:
    """The arguments that say where the message goes: positional ones before the payload, and destination
    keywords."""
    out = []
    positional = [a for a in call.args if a.keyword is None and not a.star]
    limit = entry.payload_index if entry.payload_index > 0 else 1
    out += [a.value for a in positional[:limit]]
    out += [a.value for a in call.args if a.keyword is not None and a.keyword.value in _DESTINATION_KEYWORDS]
    return out


class _Constants(cst.CSTVisitor):
    """Upper-case names (`STORAGE_TOPIC`) and attributes (`Topic.QUERYLOG`) in an expression, following the
    names the function binds once (`topic = STORAGE_TOPIC.get(name)`); attributes of a settings object are
    configuration lookups and are skipped."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self._values: dict[str, list[cst.BaseExpression]] = {}
        self._seen: set[str] = set()

    def follow(self, expr: cst.BaseExpression, values: dict[str, list[cst.BaseExpression]]) -> None:
        self._values = values
        visit(expr, self)

    def visit_Name(self, node: cst.Name) -> None:
        name = node.value
        if name.isupper() and len(name) > 3:
            self.names.add(name)
        elif name not in self._seen and len(self._values.get(name, ())) == 1:
            self._seen.add(name)
            visit(self._values[name][0], self)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        if isinstance(node.value, cst.Name) and node.value.value.lower() in _SETTINGS:
            return False
        name = node.attr.value
        if name.isupper() and len(name) > 3:
            self.names.add(name)
        return True


def _consumer_modules(index, catalog) -> dict[str, frozenset[str]]:
    """Relpath -> the upper-case names it refers to, for the project's consumer modules (not tests, examples or
    benchmarks): named for consuming, or holding a client only consumers use (a kind with consumer entries and
    no producer entry: `confluent_consumer`, not `redis`)."""
    def compute(ix) -> dict[str, frozenset[str]]:
        consuming = {e.kind for e in catalog.get("consumer")} - {e.kind for e in catalog.get("producer")}
        out = {}
        for rel, facts in ix.files.items():
            if path_kind(rel) in ("test", "example", "benchmark") or not facts.get("refs"):
                continue
            kinds = set((facts.get("messaging") or {}).get("clients", {}).values())
            kinds |= set((facts.get("messaging") or {}).get("builders", {}).values())
            if _CONSUMING.search(rel) or kinds & consuming:
                out[rel] = frozenset(n for n in facts["refs"] if n.isupper())
        return out

    return index.derived("messaging.consumer_modules", compute)


class _Returns(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None and not (isinstance(node.value, cst.Name) and node.value.value == "None"):
            self.found = True


def _token(expr: cst.BaseExpression) -> bool:
    """A number, or a string or bytes literal of at most one character: a wake-up token, not a message."""
    if isinstance(expr, (cst.Integer, cst.Float)):
        return True
    if isinstance(expr, cst.SimpleString):
        value = expr.evaluated_value
        return value is not None and len(value) <= 1
    return False


def _rooted(expr: cst.BaseExpression, params: set[str], depth: int = 0) -> bool:
    """`expr` is made from one of `params`: the name, an attribute, item or method call of it
    (`envelope.model_dump(mode="json")`), or a call taking it (`json.dumps(value)`)."""
    if depth > 8:
        return False
    if isinstance(expr, cst.Name):
        return expr.value in params
    if isinstance(expr, (cst.Attribute, cst.Subscript)):
        return _rooted(expr.value, params, depth + 1)
    if isinstance(expr, cst.Call):
        if isinstance(expr.func, cst.Attribute) and _rooted(expr.func.value, params, depth + 1):
            return True
        return any(a.keyword is None and _rooted(a.value, params, depth + 1) for a in expr.args)
    return False
