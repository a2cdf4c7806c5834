"""Transactional outboxes: an event written to an outbox table or list, for a relay to publish later.

The outbox pattern stores the event in the same database transaction as the business data; a relay process
publishes it afterwards, long after the request's span has ended. Unless the stored entry carries a trace
carrier (in its headers, or in the envelope it stores), the relay's publish starts a new trace and the
consumer continues that one: the request and the event's processing are two traces.

An outbox write is a call of the project's own outbox API: a function or method the project defines whose
name says it writes to the outbox (`publish_to_outbox`, `add_to_outbox`, called on any receiver), or the
construction of an entry class it defines (`EventOutbox(...)`, `OutboxMessage(...)`). The index keeps those
names (`collect_outbox_names`), so the prefilter knows them. It is reported as PRP301 unless:

* an argument carries an injected context (`core.flow.CarrierFlow.enriched`: `inject(envelope.metadata)`
  before passing `event_data=envelope`), or a keyword names a carrier (`headers=`, `trace_context=`,
  `traceparent=`, `carrier=`, the configured `trace-context-key`);
* the enclosing function injects a context anywhere (an injector, or one of the project's own injector
  helpers: it propagates by hand), or is itself part of the outbox (its name says so, or its module defines
  the outbox API: the repository reading rows back into entries), or stores an envelope its caller handed
  it (`event_data=completion_data`, a parameter: a wrapper, the carrier belongs to what its callers build);
* its topic is named by constants (`topic=topic_name(ProcessingEvent.USER_REGISTERED)`) that no other
  application file of a service that restores contexts names: nothing in the project that continues traces
  consumes the event.
"""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Any

import libcst as cst

from proplint.core.cst import last_part
from proplint.core.walk import visit

if TYPE_CHECKING:
    from proplint.families.messaging.check import MessagingCheck

_OUTBOX = re.compile(r"outbox", re.IGNORECASE)
#: keywords that pass the entry's payload: an envelope handed in by the caller makes the call a wrapper
_PAYLOAD_KEYWORDS = frozenset({"event_data", "event", "envelope", "event_envelope", "payload", "data", "message",
                               "body", "msg", "entry"})
_CARRIER_KEYWORDS = frozenset({"headers", "trace_context", "traceparent", "carrier", "trace_headers"})


#: the bytes a file must contain for `collect_outbox_names` to read it
OUTBOX_TOKENS = (b"utbox",)


def collect_outbox_names(tree: ast.Module, imports, module, config, catalog) -> list[str]:
    """Names of the outbox API this file defines: functions and methods whose name names the outbox (not
    private ones, not readers: `fetch_from_outbox`...), and classes whose name does (an entry or a
    repository: constructing the entry class is a write, calling a repository method is matched by name)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and _OUTBOX.search(node.name) \
                and not node.name.startswith("_") and _WRITES.search(node.name):
            out.add(node.name)
        elif isinstance(node, ast.ClassDef) and _OUTBOX.search(node.name) and not _NOT_AN_ENTRY.search(node.name):
            out.add(node.name)
    return sorted(out)


#: a function writing to the outbox says so: `publish_to_outbox`, `add_to_outbox`, `store_outbox_event`
_WRITES = re.compile(r"publish|add|store|save|write|insert|put|enqueue|append|send|record", re.IGNORECASE)
#: outbox classes that are not an entry: the repository, the relay, their settings, protocols and metrics
_NOT_AN_ENTRY = re.compile(r"Repository|Manager|Relay|Settings|Provider|Protocol|Metrics|Config|Worker|Error"
                           r"|Exception|Service|Processor|Publisher", re.IGNORECASE)


def outbox_names(index) -> frozenset[str]:
    """Every outbox-writing name the project defines (`collect_outbox_names`), once per index."""
    return index.derived("messaging.outbox", lambda ix: frozenset(
        n for _, names in ix.facts("messaging.outbox") for n in names))


def _outbox_modules(index) -> frozenset[str]:
    """The files that define the outbox API: their own calls of it are the outbox's implementation."""
    return index.derived("messaging.outbox_files", lambda ix: frozenset(rel for rel, _ in ix.facts("messaging.outbox")))


def _own_injectors(index) -> frozenset[str]:
    """The last names of the project's own injector helpers (functions that call an injector on a parameter:
    `inject_trace_context(envelope.metadata)`), as `proplint init` lists them."""
    return index.derived("messaging.own_injectors", lambda ix: frozenset(
        q.rsplit(".", 1)[-1] for _, f in ix.facts("messaging.restoring") for q in f.get("injectors", ())))


def outbox_write(node: cst.Call, names: frozenset[str]) -> str | None:
    """The name that makes `node` an outbox write (`publish_to_outbox`, `EventOutbox`), else None."""
    func = node.func
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
    return name if name in names else None


class _Calls(cst.CSTVisitor):
    def __init__(self, names: set[str]) -> None:
        self.names = names
        self.found = False

    def visit_Call(self, node: cst.Call) -> bool:
        func = node.func
        name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
        if name in self.names:
            self.found = True
        return not self.found


class _Constants(cst.CSTVisitor):
    """Upper-case attribute names (`ProcessingEvent.STUDENT_MATCHING_REQUESTED`) in an expression."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> None:
        name = node.attr.value
        if name.isupper() and len(name) > 3:
            self.names.add(name)


def _readers_of(index, catalog) -> dict[str, frozenset[str]]:
    """Upper-case name -> the application files (not tests, scripts or command-line tools) that refer to it in
    another module (`core/reach.py`'s references) and belong to a deploy unit (`core/units.py`) where some
    file restores a received context (calls an extractor or one of the project's extractor helpers)."""
    from proplint.core.relevance import path_kind
    from proplint.core.units import units

    def compute(ix) -> dict[str, frozenset[str]]:
        helpers = {e.name.rsplit(".", 1)[-1] for e in catalog.get("extractor")}
        helpers |= {q.rsplit(".", 1)[-1] for _, f in ix.facts("messaging.restoring")
                    for q in f.get("extractor_helpers", ())}
        of = units(ix, catalog).of
        restoring = {of(rel).path for rel, f in ix.facts("messaging.restoring")
                     if not path_kind(rel) and (f.get("restorers") or any(
                         q.rsplit(".", 1)[-1] in helpers for q in f.get("calls", ())))}
        out: dict[str, set[str]] = {}
        for rel, facts in ix.files.items():
            if facts.get("refs") and path_kind(rel) is None and of(rel).path in restoring:
                for name in facts["refs"]:
                    if name.isupper():
                        out.setdefault(name, set()).add(rel)
        return {k: frozenset(v) for k, v in out.items()}

    return index.derived("messaging.outbox_readers", compute)


def nobody_reads(check: "MessagingCheck", node: cst.Call) -> bool:
    """The event's topic is named by constants (`topic=topic_name(ProcessingEvent.X)`) that no other
    application file of a service restoring contexts names: no consumer there continues its trace."""
    found = _Constants()
    bound = check.bound_values()
    for arg in node.args:
        if arg.keyword is None or arg.keyword.value in ("topic", "event_type", "queue", "subject", "channel"):
            value = arg.value
            if isinstance(value, cst.Name) and value.value in bound:
                value = bound[value.value]  # `topic = topic_name(ProcessingEvent.X)` earlier in the function
            visit(value, found)
    if not found.names:
        return False
    readers = _readers_of(check.ctx.index, check.ctx.catalog)
    here = check.ctx.relpath
    return not any(readers.get(name, frozenset()) - {here} for name in found.names)


def carries_context(check: "MessagingCheck", node: cst.Call) -> bool:
    """The write, or the function around it, carries a context (see the module docstring), or nobody reads
    the event (`nobody_reads`)."""
    if nobody_reads(check, node):
        return True
    keys = _CARRIER_KEYWORDS | {check.ctx.config.trace_context_key}
    if any(a.keyword is not None and a.keyword.value in keys for a in node.args):
        return True
    if any(check.flow.enriched(a.value) for a in node.args):
        return True
    if check.ctx.relpath in _outbox_modules(check.ctx.index):
        return True  # the outbox's own module: it stores (or reads back) what its callers hand it
    fn = check.ctx.enclosing(cst.FunctionDef)
    if not isinstance(fn, cst.FunctionDef):
        return False
    if _OUTBOX.search(fn.name.value):
        return True  # the outbox's own code, storing what its callers hand it
    params = {p.name.value for p in (*fn.params.params, *fn.params.kwonly_params, *fn.params.posonly_params)}
    values = [a.value for a in node.args if not isinstance(a.value, (cst.SimpleString, cst.Integer, cst.Float))]
    if values and all(isinstance(v, cst.Name) and v.value in params for v in values):
        return True  # a wrapper: the carrier belongs to what its callers build
    if any(isinstance(a.value, cst.Name) and a.value.value in params - {"self", "cls"}
           and (a.keyword is None or a.keyword.value in _PAYLOAD_KEYWORDS) for a in node.args):
        return True  # the envelope comes from the callers (`event_data=completion_data`): so does its carrier
    calls = _Calls(({*check.carrier_calls} | _own_injectors(check.ctx.index)) - {"extract"})
    visit(fn.body, calls)
    return calls.found


def message(name: str, injector: str) -> str:
    return (f"{name}() writes an outbox entry without a trace carrier: the relay that publishes it later starts "
            f"a new trace; store a carrier filled by {last_part(injector)} in the entry (its headers or the "
            f"envelope's metadata)")
