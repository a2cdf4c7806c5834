"""The messaging family's catalog roles (`rules/messaging.toml`): `[[message_client]]` (kinds of messaging
objects), `[[client_method]]` (objects derived from a client: `r.pipeline()`, `conn.channel()`,
`channel.default_exchange`, `boto3.client("sqs")`), `[[producer]]` (PRP301/PRP306/PRP307), `[[consumer]]`
(PRP302), `[[carrier_shape]]` (how a carrier argument is built or merged, as `$name` expression templates),
`[[receive_option]]` (PRP304) and `[[early_import]]` (PRP305: names a class-swapping instrumentor replaces on
its module).
"""

from __future__ import annotations

from dataclasses import dataclass

from proplint.core.catalog import role


@role("message_client")
@dataclass(frozen=True)
class MessageClient:
    """A kind of messaging object and the qualified names that produce or annotate it."""

    name: str
    library: str
    #: constructors, factory functions and annotation types; `boto3.client(sqs)` requires that literal
    #: as the first argument (or `service_name=`)
    constructors: tuple[str, ...] = ()
    #: decorators (`@celery.shared_task`, `@dramatiq.actor`, with or without a call) that make a function
    #: this kind
    decorators: tuple[str, ...] = ()
    #: a keyword that, set to True anywhere in the constructor call, turns the library's built-in
    #: propagation on (`enable_open_telemetry_tracing`)
    traced_keyword: str = ""
    #: a keyword the constructor must receive for carrier properties to be sent (`protocol`), and the
    #: qualified values that satisfy it
    requires_keyword: str = ""
    requires_values: tuple[str, ...] = ()


@role("client_method")
@dataclass(frozen=True)
class ClientMethod:
    """`<on>.<method>(...)` (or the attribute `<on>.<method>`) gives an object of kind `returns`."""

    on: str
    method: str
    returns: str
    #: the first argument (or `service_name=`) must be this string literal (`client("sqs")`)
    argument: str = ""
    #: an attribute, not a call (`channel.default_exchange`)
    attribute: bool = False
    #: used as a decorator (`@app.task`): the decorated function is of kind `returns`
    decorator: bool = False


#: a `[[producer]]` method that is a call of the object itself (`add(1, 2)` enqueues a huey task)
CALL = "__call__"


@role("producer")
@dataclass(frozen=True)
class Producer:
    """Methods of a receiver kind that send a message (PRP301)."""

    kind: str
    methods: tuple[str, ...]
    library: str
    #: the methods that may match on a receiver whose kind is not inferred (distinctive names)
    distinctive: tuple[str, ...] = ()
    #: `[[carrier_shape]]` used by the fix ("" = the API has no carrier argument)
    shape: str = ""
    #: the carrier argument: keyword and positional index (-1: keyword only)
    keyword: str = ""
    index: int = -1
    #: the payload argument (for the payload fix): keyword and positional index
    payload_keyword: str = ""
    payload_index: int = -1
    #: a dict-literal payload (or json.dumps of one) may get the carrier under `trace-context-key`
    payload_fix: bool = False
    #: [[instrumentor]] libraries whose instrumentation injects for these calls
    instrumented_by: tuple[str, ...] = ()
    #: the code reported when the project propagates by hand (injectors in use): PRP306 for `delay`
    manual_code: str = ""
    #: what to tell the user when there is no automatic fix
    advice: str = ""
    #: methods that take a message off the destination as a unit of work (a Redis list's `blpop`...) and
    #: methods that read it as a whole (`lrange`): when the project calls some of the second and none of the
    #: first, the destination is storage (a digest read later), not a queue, and a message there continues
    #: no trace. Without a whole read the consumer may live in another repository: still reported.
    taken_by: tuple[str, ...] = ()
    stored_by: tuple[str, ...] = ()
    #: the bulk writes of storage (`bulk_create`, `executemany`): a loop that collects popped items into a list
    #: that its function writes with one of these drains the list into a table, it takes no unit of work
    drained_into: tuple[str, ...] = ()


@role("consumer")
@dataclass(frozen=True)
class Consumer:
    """Where a receiver kind hands messages to user code (PRP302)."""

    kind: str
    #: "iterate": `for msg in <kind>`; "call": `msg = <kind>.m(...)` then the rest of the block;
    #: "batch": `resp = <kind>.m(...)` then `for msg in <resp...>`; "callback": `<kind>.m(..., cb)`;
    #: "attribute": `<kind>.<attr> = cb`; "task": a function of `kind` (its decorator makes it one), whose body
    #: is the processing; "listed": a function named in a list assigned to (or passed as) one of `methods` in a
    #: module importing the library or in a class of `holders` (arq's `functions = [...]`), of that module or
    #: imported into it
    form: str
    library: str
    methods: tuple[str, ...] = ()
    distinctive: tuple[str, ...] = ()
    #: form "listed": classes whose list attribute names the functions even in a module that does not import
    #: the library (arq's `class WorkerSettings: functions = [...]`, its redis settings imported from elsewhere)
    holders: tuple[str, ...] = ()
    #: callback argument (form "callback"): keyword and positional index
    keyword: str = ""
    index: int = -1
    #: which callback parameter (after self) or which element of a tuple loop target is the message;
    #: -1: the whole target
    message: int = -1
    #: decoders whose result is the message (payload carriers: `json.loads`)
    decoders: tuple[str, ...] = ()
    #: the carrier read from the message: a template over `$message` and `$key` (trace-context-key);
    #: "" = no fix
    getter: str = ""
    span: str = '"process"'
    #: [[instrumentor]] libraries whose instrumentation restores the context around user code
    restored_by: tuple[str, ...] = ()


@role("carrier_shape")
@dataclass(frozen=True)
class CarrierShape:
    """How a fix builds a carrier argument. Templates are Python with `$carrier` and `$value`.

    kind "argument": `new` is the argument when missing, `merge` replaces a present one;
    kind "object": the argument is a constructor call (`constructors`) whose keyword `field` carries it;
    `new` builds one when the argument is missing; kind "entries": a list of dict literals, each gets
    the key `field` (`new`/`merge` as for "argument"); kind "kwargs": `**$carrier` is appended;
    kind "statements": `setup` statements (with `$props`) are inserted and `new` passed, or, when the
    argument is a name, `merge_setup` is inserted and the argument kept; kind "rewrite": the call becomes
    `<receiver>.<method>(<args_keyword>=(...), <kwargs_keyword>={...}, <keyword>=<new>)`.
    """

    name: str
    kind: str = "argument"
    new: str = "$carrier"
    merge: str = ""
    field: str = ""
    constructors: tuple[str, ...] = ()
    setup: tuple[str, ...] = ()
    merge_setup: tuple[str, ...] = ()
    method: str = ""
    args_keyword: str = ""
    kwargs_keyword: str = ""
    keyword: str = ""
    #: "module" or "module:name" imports the templates need
    imports: tuple[str, ...] = ()
    #: "safe" or "unsafe"
    safety: str = "safe"


@role("receive_option")
@dataclass(frozen=True)
class ReceiveOption:
    """A receive call that returns the carrier only when an option asks for it (PRP304)."""

    kind: str
    methods: tuple[str, ...]
    keyword: str
    #: list values that make the carrier come back (any one of them)
    accepted: tuple[str, ...]
    #: the value the fix adds
    add: str
    #: [[instrumentor]] libraries that add the option themselves
    instrumented_by: tuple[str, ...] = ()


@role("early_import")
@dataclass(frozen=True)
class EarlyImport:
    """`from <module> import <name>` taken before `<library>`'s instrumentor swaps the attribute (PRP305)."""

    module: str
    names: tuple[str, ...]
    library: str
