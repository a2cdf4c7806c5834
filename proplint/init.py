"""`proplint init`: read the project and propose a commented `[tool.proplint]` in its own scheme.

Discovery reads the project index (the facts the checks use), never a second parser, and never imports or
runs the code. It finds:

* **import roots** (`src`): a top-level name the project's modules import that is not a folder or module at
  the root, but is one under exactly one folder (`services/shared/` for `from shared.http import ...`);
* the **tracing** in use: SDKs imported or depended on, and per deploy unit what starts a context there
  (`core/units.py`), so the user sees which services proplint will be quiet about, and why;
* the **request-scoped ContextVars**, and the functions that set them;
* the project's own **injectors and extractors** (functions that call `opentelemetry.propagate.inject` or
  `extract`), and the **carrier fields** its calls pass them (`envelope.metadata`: a payload field);
* the project's own **trace-identifying contexts** (a correlation, request or trace id kept in a ContextVar or
  read from a getter of one) and the modules that read them back off a message: a payload carrying one
  carries the project's own carrier (`families/messaging/scheme.py`);
* **traced client builders** (a function building an HTTP client with tracing on): `http-client-factory`;
* **test, script and example folders**, which are not checked by default.

Everything is a proposal, each line with the reason: the user keeps what is true.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from proplint.config import Config
from proplint.core.relevance import REQUEST_SCOPED, path_kind, project_context
from proplint.core.units import units
from proplint.registry import collectors, load_catalog

_PROPAGATE = ("opentelemetry.propagate.inject", "opentelemetry.propagate.extract")


@dataclass
class Proposal:
    src: list[tuple[str, str]] = field(default_factory=list)  # (root, why)
    tracing: list[str] = field(default_factory=list)
    units: list[tuple[str, str]] = field(default_factory=list)  # (unit, what it does)
    contextvars: list[tuple[str, str]] = field(default_factory=list)  # (qualified name, where set)
    injectors: list[tuple[str, str]] = field(default_factory=list)  # (qualified name, carrier fields)
    extractors: list[tuple[str, str]] = field(default_factory=list)
    own_carriers: list[tuple[str, str]] = field(default_factory=list)  # (field, modules reading it back)
    factory: tuple[str, str] | None = None  # ("module:function", client)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (folder, kind)


def discover(config: Config) -> Proposal:
    from proplint.index import build_index

    catalog = load_catalog(config.catalogs)
    index = build_index(config, catalog, collectors(), use_cache=False)
    out = Proposal()
    out.src = list(index.inferred_src)  # `core/roots.py`: the index names modules from them already
    project = project_context(index, catalog)
    out.tracing = list(project.evidence[:6]) or ["no tracing SDK, context library or request ContextVar found"]
    where = units(index, catalog)
    for d in sorted(index.units):
        if d and path_kind(d + "/x.py"):
            continue  # a test harness's or a script's Dockerfile
        unit = where.of(f"{d}/x.py" if d else "x.py")
        label = d or "(the repository root)"
        if unit.sources:
            out.units.append((label, f"has a context: {unit.sources[0]}"))
        elif unit.readers:
            out.units.append((label, f"reads one, starts none ({unit.readers[0]}): its HTTP calls, threads and "
                                     f"producers are not reported"))
        else:
            out.units.append((label, "starts no span and has no request context: not reported"))
    sets: dict[str, list[str]] = {}
    for _, found in index.facts("hygiene.cv_sets"):
        for var, fns in found.items():
            sets.setdefault(var, []).extend(fns)
    for rel, names in index.facts("contextvars"):
        if path_kind(rel):
            continue
        for q in names:
            if REQUEST_SCOPED.search(q.rsplit(".", 1)[-1]):
                setters = sets.get(q) or sets.get(q.rsplit(".", 1)[-1]) or []
                out.contextvars.append((q, f"set in {', '.join(sorted(setters)[:3])}" if setters
                                        else f"defined in {rel}"))
    fields: dict[str, set[str]] = {}
    for _, f in index.facts("messaging.restoring"):
        for q, fs in f.get("carrier_fields", {}).items():
            fields.setdefault(q.rsplit(".", 1)[-1], set()).update(fs)
    for rel, f in index.facts("messaging.restoring"):
        if path_kind(rel):
            continue
        for q in f.get("injectors", ()):
            out.injectors.append((q, ", ".join(sorted(fields.get(q.rsplit(".", 1)[-1], ())))))
        for q in f.get("extractor_helpers", ()):
            out.extractors.append((q, ", ".join(sorted(fields.get(q.rsplit(".", 1)[-1], ())))))
    out.own_carriers = _own_carriers(index)
    builders = [(q, c) for rel, found in index.facts("http.builders") if not path_kind(rel) for q, c in found.items()]
    if len(builders) == 1:
        out.factory = builders[0]
    kinds: dict[str, str] = {}
    for rel in index.files:
        kind = path_kind(rel)
        if kind:
            top = _kind_folder(rel)
            kinds.setdefault(top, kind)
    out.skipped = sorted(kinds.items())[:12]
    return out


def _own_carriers(index) -> list[tuple[str, str]]:
    """The project's trace-identifying contexts (`scheme.carrier_fields`) and the application modules that read
    a field of that name off a value."""
    from proplint.families.messaging.scheme import carrier_fields

    readers: dict[str, list[str]] = {}
    for rel, found in index.facts("messaging.context_names"):
        if path_kind(rel) in (None, "cli"):
            for f in found.get("reads", ()):
                readers.setdefault(f, []).append(rel)
    return [(f, ", ".join(sorted(readers.get(f, []))[:3]) or "read back nowhere")
            for f in sorted(carrier_fields(index))]


def _kind_folder(rel: str) -> str:
    """The first folder of `rel` that makes it test/script/example code (or the file itself)."""
    parts = rel.split("/")
    for i in range(len(parts) - 1):
        if path_kind("/".join(parts[: i + 1]) + "/x.py"):
            return "/".join(parts[: i + 1]) + "/"
    return rel


def render(p: Proposal, root: Path) -> str:
    """The proposal as a commented `[tool.proplint]` table."""
    lines = ["[tool.proplint]", f"# Proposed by `proplint init` for {root.name}: keep what is true, delete the rest."]
    if p.src:
        lines.append("# Import roots: modules are imported from these folders.")
        lines += [f"#   {r}: {why}" for r, why in p.src]
        lines.append("src = [" + ", ".join(f'"{r}"' for r, _ in p.src) + "]")
    lines.append("#")
    lines.append("# Context in the project (a boundary loses context only where one exists):")
    lines += [f"#   {t}" for t in p.tracing]
    if p.units:
        lines.append("# Deploy units (a folder with a Dockerfile, compose file, Procfile...):")
        lines += [f"#   {u}: {what}" for u, what in p.units[:20]]
    if p.contextvars:
        lines.append("# Request-scoped ContextVars (what threads and executors must carry):")
        lines += [f"#   {q}: {where}" for q, where in p.contextvars[:10]]
    if p.injectors:
        lines.append("# The project's own injectors (they fill a carrier); calls pass it:")
        lines += [f"#   {q}" + (f": {fields}" if fields else "") for q, fields in p.injectors[:10]]
        lines.append("injectors = [" + ", ".join(f'"{q}"' for q, _ in p.injectors[:10]) + "]")
    if p.extractors:
        lines.append("# The project's own extractors (they restore a carrier's context):")
        lines += [f"#   {q}" + (f": {fields}" if fields else "") for q, fields in p.extractors[:10]]
        lines.append("extractors = [" + ", ".join(f'"{q}"' for q, _ in p.extractors[:10]) + "]")
    counted = Counter(f for _, fs in p.injectors + p.extractors for f in fs.split(", ") if f)
    payload = [f for f, _ in counted.most_common() if f not in ("headers", "carrier", "ctx", "context")]
    if payload:
        lines.append(f"# Carriers travel in a payload field: {', '.join(payload)} (what the calls of the helpers above "
                     f"pass): a producer should fill it with the injector, a consumer restore it with the extractor.")
    if p.own_carriers:
        lines.append("# Its own trace-identifying context: a message field carrying it is its carrier (PRP301):")
        lines += [f"#   {f}: read back in {where}" if where != "read back nowhere" else f"#   {f}: {where}"
                  for f, where in p.own_carriers[:6]]
    if p.factory:
        q, client = p.factory
        lines.append(f"# A traced client builder (it builds {client} with tracing on): raw clients should use it.")
        lines.append(f'http-client-factory = "{q}"')
    if p.skipped:
        lines.append("# Not checked by default (tests, scripts, examples, tools); `scope = \"all\"` checks them too:")
        lines += [f"#   {folder} ({kind})" for folder, kind in p.skipped]
    lines.append('scope = "application"')
    return "\n".join(lines) + "\n"


def write(pyproject: Path, text: str) -> None:
    """Append the table to `pyproject` (created if missing); refuse if it has a `[tool.proplint]` already."""
    from proplint.index import atomic_write_text

    old = pyproject.read_text(encoding="utf-8") if pyproject.is_file() else ""
    if re.search(r"^\s*\[tool\.proplint[.\]]", old, re.MULTILINE):
        raise FileExistsError(f"{pyproject} already has a [tool.proplint] table: edit it, or print the proposal "
                              f"without --write")
    atomic_write_text(pyproject, (old.rstrip("\n") + "\n\n" if old.strip() else "") + text)
