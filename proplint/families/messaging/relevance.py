"""Whether a producer or consumer the visitor found is one where a trace can be lost and read (the
family's side of `core/relevance.py`):

* the other side is outside the system: the module talks to another vendor's system
  (`core.relevance.vendor_module`: `integrations/`, `plugins/`...), or the call's topic, subject, queue or
  key is a string literal matching `external.topics` of `[tool.proplint]`;
* another tracing SDK that is the project's only tracing carries the library by itself (Sentry's Celery,
  rq and huey integrations; `[[sdk_propagation]]`);
* the call is a generic wrapper: both where it sends (the topic, queue, channel or key: an argument before
  the payload) and what it sends are (derived from) parameters of the enclosing function, so the carrier
  belongs to what the callers build (`async def lpush(self, key, value): await self._client.lpush(key,
  value)`; `KafkaBus.publish(topic, envelope)` sends `envelope.model_dump_json()`). A producer of one
  destination (`def publish(body): channel.basic_publish("", "tasks", body)`) is not a wrapper.
"""

from __future__ import annotations

import libcst as cst

from proplint.core.context import FileContext
from proplint.core.cst import keyword_arg
from proplint.core.relevance import external_name, vendor_module
from proplint.families.messaging.facts import project_facts
from proplint.families.messaging.model import Consumer, Producer
from proplint.families.messaging.receivers import string_literal


class Relevance:
    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.vendor = vendor_module(ctx.relpath)
        self.tops = {c.name: {ctor.split(".")[0] for ctor in c.constructors} for c in ctx.catalog.get("message_client")}

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
        if entry.payload_index < 1:
            return False
        found = keyword_arg(call, entry.payload_keyword, entry.payload_index)
        fn = self.ctx.enclosing(cst.FunctionDef)
        if found is None or not isinstance(fn, cst.FunctionDef):
            return False
        params = {p.name.value for p in (*fn.params.posonly_params, *fn.params.params, *fn.params.kwonly_params)}
        params -= {"self", "cls"}
        if _root(found[1].value) not in params:
            return False
        before = [keyword_arg(call, "", i) for i in range(entry.payload_index)]
        return any(arg is not None and _root(arg[1].value) in params for arg in before)


def _root(expr: cst.BaseExpression) -> str | None:
    """`value` for `value`, `value.x`, `value["k"]`, `value.model_dump_json()`, `json.dumps(value)`."""
    for _ in range(8):
        if isinstance(expr, cst.Name):
            return expr.value
        if isinstance(expr, (cst.Attribute, cst.Subscript)):
            expr = expr.value
        elif isinstance(expr, cst.Call):
            if isinstance(expr.func, cst.Attribute) and not expr.args:
                expr = expr.func.value  # `value.model_dump_json()`, `value.encode()`
            elif len(expr.args) >= 1 and expr.args[0].keyword is None and not expr.args[0].star:
                expr = expr.args[0].value  # `json.dumps(value)`, `str(value)`
            else:
                return None
        else:
            return None
    return None
