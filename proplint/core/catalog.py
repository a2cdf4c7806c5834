"""Loads the API catalog (`rules/*.toml` plus the user's `catalogs`) into typed entries.

The catalog is data: which callables are HTTP clients, instrumentors, injectors, thread spawners,
producers... Each top-level array of tables in a catalog file is a *role* (`[[http_client]]`,
`[[instrumentor]]`, ...). A family declares the roles it reads with `@role("name")` on a
frozen dataclass; unknown keys or roles are reported with the file and entry that holds them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, TypeVar

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

T = TypeVar("T")

class CatalogError(ValueError):
    """A catalog file that cannot be used; the message names the file and the entry."""


def role(name: str):
    """Mark a dataclass as the typed form of catalog entries `[[name]]` (it is used once a `Family` names
    it in its `roles`; marking registers nothing)."""

    def mark(cls: type[T]) -> type[T]:
        cls.ROLE = name  # type: ignore[attr-defined]
        return cls

    return mark


# --- roles shared by every family -----------------------------------------------------------------


@role("instrumentor")
@dataclass(frozen=True)
class Instrumentor:
    """A call that turns propagation on for a whole library, anywhere in the project.

    kind "class": `<name>().instrument(...)`; kind "function": `<name>(...)` (e.g. logfire).
    """

    name: str
    library: str
    kind: str = "class"
    package: str = ""  # the PyPI distribution that provides it (for zero-code detection)


@role("injector")
@dataclass(frozen=True)
class Injector:
    """A callable that writes the current context into a carrier.

    style "fills": `inject(carrier)` fills its argument `arg` (0-based);
    style "returns": the call's result is a carrier (e.g. `capture_trace_context_for_queue()`).
    """

    name: str
    style: str = "fills"
    arg: int = 0


@role("extractor")
@dataclass(frozen=True)
class Extractor:
    """A callable that reads a carrier and returns a context (or a context manager that restores it)."""

    name: str
    style: str = "returns"  # "returns" a Context, or "restores" (a context manager)


@role("propagator_class")
@dataclass(frozen=True)
class PropagatorClass:
    """A class whose instances have `.inject(carrier)` / `.extract(carrier)` methods."""

    name: str


@role("telemetry_base")
@dataclass(frozen=True)
class TelemetryBase:
    """An OpenTelemetry exporter/processor base: code inside its subclasses is the SDK's own I/O."""

    name: str


@dataclass
class Catalog:
    entries: dict[str, list[Any]] = field(default_factory=dict)
    fingerprint: str = ""

    def get(self, role_name: str) -> list[Any]:
        return self.entries.get(role_name, [])

    def names(self, role_name: str) -> set[str]:
        return {e.name for e in self.get(role_name)}


def builtin_catalog_dir() -> Path:
    """`rules/` in a checkout; `proplint/_catalog/` in an installed wheel."""
    package = Path(__file__).resolve().parent.parent
    installed = package / "_catalog"
    if installed.is_dir() and any(installed.glob("*.toml")):
        return installed
    return package.parent / "rules"


def builtin_catalog_files() -> list[Path]:
    return sorted(builtin_catalog_dir().glob("*.toml"))


def _entry(roles: dict[str, type], role_name: str, raw: Any, where: str) -> Any:
    cls = roles.get(role_name)
    if cls is None:
        known = ", ".join(sorted(roles))
        raise CatalogError(f"{where}: unknown role [[{role_name}]] (known roles: {known})")
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: [[{role_name}]] entries must be tables")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(raw) - set(fields)
    if unknown:
        raise CatalogError(
            f"{where}: [[{role_name}]] has unknown key(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(fields)}"
        )
    missing = [
        n
        for n, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING and n not in raw
    ]
    if missing:
        raise CatalogError(f"{where}: [[{role_name}]] entry {raw!r} lacks {', '.join(missing)}")
    converted = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items()}
    return cls(**converted)


def _load_into(roles: dict[str, type], entries: dict[str, list[Any]], path: Path, digest: Any) -> None:
    data = path.read_bytes()
    digest.update(path.name.encode() + b"\0" + data)
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise CatalogError(f"{path}: not valid TOML: {exc}") from exc
    for role_name, items in doc.items():
        if not isinstance(items, list):
            raise CatalogError(f"{path}: top-level key {role_name!r} must be an array of tables [[{role_name}]]")
        for i, raw in enumerate(items):
            entries.setdefault(role_name, []).append(_entry(roles, role_name, raw, f"{path} [[{role_name}]] #{i + 1}"))


@role("tracing_sdk")
@dataclass(frozen=True)
class TracingSdk:
    """A tracing SDK (or context library) whose use in a project's application code means a trace or request
    context exists there (`core/relevance.py`): `modules` imported (a prefix matches its submodules too),
    or a `launchers` word in a launcher file, or a `dists` distribution among the dependencies."""

    name: str
    modules: tuple[str, ...] = ()
    launchers: tuple[str, ...] = ()
    dists: tuple[str, ...] = ()
    #: False for a context library (structlog's contextvars, asgi-correlation-id): its context lives in
    #: ContextVars, and no integration of its own carries them across a boundary
    traces: bool = True
    #: False when importing the SDK says nothing by itself (OpenTelemetry: a module may import it to set up
    #: a provider and never start a span); what it does is then read from `[[trace_activity]]` calls
    by_import: bool = True


@role("trace_activity")
@dataclass(frozen=True)
class TraceActivity:
    """A call that makes a trace context exist in a deploy unit (`does = "source"`: it starts a span,
    restores a carrier, or instruments a broker client that starts one per message), or only in the code
    that serves requests (`does = "entry"`: a server instrumentation or interceptor, one span per request),
    or that reads the current context (`does = "reader"`: a client instrumentation or interceptor, an
    injector). A source reads too; an entry reads nothing a message consumer's processing runs.
    `name` is a qualified name; with `method = true` any call of a method of that last name; with
    `kind = "instrumentation"` the `.instrument*()` call of any instrumentor of that package
    (`opentelemetry.instrumentation.fastapi` covers `FastAPIInstrumentor().instrument_app(app)`).
    `core/units.py` reads these."""

    name: str
    does: str = "source"
    method: bool = False
    kind: str = "call"


@role("sdk_propagation")
@dataclass(frozen=True)
class SdkPropagation:
    """A boundary that a tracing SDK (`sdk`, a `[[tracing_sdk]]` name) carries by itself once the project
    uses it, from release `since` of its distribution. `boundary`: `http:<library>` (the `library` of
    `[[http_client]]`), `thread`, `timer`, `executor`, `run_in_executor`, or a task queue (`celery`, `rq`,
    `huey`, `dramatiq`). `carries`: "sdk" when only the SDK's own context crosses (other ContextVars and
    OpenTelemetry's span do not), "contextvars" when the whole context does."""

    sdk: str
    boundary: str
    since: str = ""
    carries: str = "sdk"
    note: str = ""


@role("scheduled_decorator")
@dataclass(frozen=True)
class ScheduledDecorator:
    """A decorator that makes a function run on a timer (`@register_recurring_task(run_every=...)`, huey's
    `@periodic_task(crontab(...))`, APScheduler's `@scheduler.scheduled_job("interval", ...)`): no request
    is behind a run, so what it calls has no caller's context to lose (`core/reach.py`). `name`: the
    decorator's last name, as written (`@tasks.register_recurring_task(...)` matches `register_recurring_task`)."""

    name: str
    library: str = ""


CORE_ROLES = (Instrumentor, Injector, Extractor, PropagatorClass, TelemetryBase, TracingSdk, TraceActivity,
              SdkPropagation, ScheduledDecorator)


def load_catalog(extra: tuple[str, ...], roles: tuple[type, ...]) -> Catalog:
    """The built-in catalog plus the user's extra files (paths), validated against `roles` (the core's and
    those the families declare: `proplint.registry.load_catalog` passes them). Cached while the user's
    files keep their size and modification time."""
    stamps = []
    for name in extra:
        try:
            st = Path(name).stat()
            stamps.append((st.st_mtime_ns, st.st_size))
        except OSError:
            stamps.append(None)
    return _load_catalog(tuple(extra), tuple(stamps), roles)


@lru_cache(maxsize=16)
def _load_catalog(extra: tuple[str, ...], stamps: tuple, roles: tuple[type, ...]) -> Catalog:
    by_name = {cls.ROLE: cls for cls in roles}  # type: ignore[attr-defined]
    entries: dict[str, list[Any]] = {}
    digest = hashlib.sha256()
    for path in builtin_catalog_files():
        _load_into(by_name, entries, path, digest)
    for name in extra:
        path = Path(name)
        if not path.is_file():
            raise CatalogError(f"catalog file {name} does not exist")
        _load_into(by_name, entries, path, digest)
    return Catalog(entries=entries, fingerprint=digest.hexdigest()[:16])


def dotted_prefixes(names: Iterable[str]) -> set[str]:
    """The last component of each dotted name: what a text prefilter can look for."""
    return {n.rsplit(".", 1)[-1] for n in names}
