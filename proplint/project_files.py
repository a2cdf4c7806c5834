"""What a project's non-Python files say: its dependencies (and the versions it pins) from requirements,
pyproject, setup and lock files, whether it is deployed as a service (Dockerfile, compose, Procfile...),
which tracing SDKs it depends on or launches with, and how it is launched (an `opentelemetry-instrument` launcher, a
bootstrap, disabled instrumentations, `[[launcher_signal]]` patterns) from Dockerfiles, Procfiles, compose
and shell files. Read as text, never run; the project index keeps the result."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from proplint.core.catalog import Catalog
from proplint.core.reach import entry_point_names
from proplint.core.relevance import path_kind

LAUNCHER = re.compile(r"opentelemetry-instrument(?![\w-])")
BOOTSTRAP = re.compile(r"opentelemetry-bootstrap\b[^\n]*\binstall\b")
DISABLED = re.compile(r"OTEL_PYTHON_DISABLED_INSTRUMENTATIONS\s*[=:]\s*[\"']?([\w,\- ]+)")
DIST = re.compile(r"(opentelemetry[-_.][A-Za-z0-9_.\-]+)")
#: where a file name in a lock (`opentelemetry_api-1.43.0.tar.gz`, `...-0.64b0-py3-none-any.whl`) leaves the name
_VERSIONED = re.compile(r"[-_]\d")
#: Version constraints next to those names: `opentelemetry-api==1.22.0`, `"opentelemetry-api>=1.15,<1.24"`,
#: `opentelemetry-api = "^1.20"` (Poetry), and locked versions in poetry/uv/pdm locks and Pipfile.lock.
_OP = r"(?:===|==|!=|<=|>=|~=|<|>|\^|~)"
_SPEC = _OP + r"\s*[\w.*+!\-]+"
PIN = re.compile(r"(?P<dist>opentelemetry[-_.][A-Za-z0-9_.\-]*[A-Za-z0-9])\s*(?:\[[^\]\n]*\])?[\"']?\s*(?:=\s*[\"'])?"
                 r"(?P<spec>" + _SPEC + r"(?:\s*,\s*" + _SPEC + r")*)")
LOCKED = re.compile(r'name\s*=\s*"(?P<dist>opentelemetry[-_.][\w.\-]+)"\s*\n\s*version\s*=\s*"(?P<version>[^"]+)"'
                    r'|"(?P<pdist>opentelemetry[-_.][\w.\-]+)"\s*:\s*\{[^{}]*?"version"\s*:\s*"==(?P<pversion>[^"]+)"')
LAUNCHER_FILES = re.compile(
    r"^(Dockerfile.*|.*\.[Dd]ockerfile|Procfile.*|.*\.sh|docker-compose.*\.ya?ml|compose.*\.ya?ml|entrypoint.*"
    r"|.*\.service|supervisord.*\.conf|gunicorn\.conf\.py|\.env.*|.*\.env)$"
)
#: configuration files that may name code to run by its dotted path (`core/reach.py`)
CONFIG_SUFFIXES = frozenset({".yml", ".yaml", ".toml", ".cfg", ".ini", ".tf", ".conf"})
#: files that say the project is deployed as a service (an application, not a library)
DEPLOYMENT_FILES = re.compile(
    r"^(Dockerfile.*|.*\.[Dd]ockerfile|Procfile.*|docker-compose.*\.ya?ml|compose.*\.ya?ml|.*\.service"
    r"|supervisord.*\.conf|gunicorn\.conf\.py|fly\.toml|app\.ya?ml|serverless\.ya?ml|Chart\.yaml|skaffold\.ya?ml)$"
)
DEPENDENCY_FILES = re.compile(
    r"^(requirements.*\.(txt|in)|constraints.*\.txt|pyproject\.toml|setup\.cfg|setup\.py|Pipfile(\.lock)?"
    r"|poetry\.lock|uv\.lock|pdm\.lock)$"
)


def normalise_dist(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower().strip("-")


def scan_text_files(paths: list[Path], catalog: Catalog, root: Path | None = None) -> dict[str, Any]:
    """The project's dependencies, launchers and SDKs from its text files. A launch file under a test,
    example or benchmark folder (a load test's `opentelemetry-instrument` script) says nothing about how the
    application is launched (`root`: the project's root, to tell)."""
    deps: set[str] = set()
    launcher = bootstrap = False
    disabled: set[str] = set()
    signals: set[str] = set()
    pins: dict[str, set[str]] = {}
    # `[[launcher_signal]]` entries (any family may declare the role): a name and a regex `pattern`.
    patterns = [(e.name, re.compile(e.pattern)) for e in catalog.get("launcher_signal")]
    sdks = catalog.get("tracing_sdk")
    sdk_dists = {normalise_dist(d): e.name for e in sdks for d in e.dists}
    # the tracing SDKs' own pins (`sentry-sdk==2.40.0`): `[[sdk_propagation]]` entries hold from a release on
    sdk_names = sorted({d for e in sdks for d in e.dists if not normalise_dist(d).startswith("opentelemetry")})
    sdk_pin = re.compile(r"(?<![\w.-])(?P<dist>" + "|".join("[-_.]".join(map(re.escape, d.split("-")))
                                                     for d in sdk_names) + r")\s*(?:\[[^\]\n]*\])?[\"']?\s*(?:=\s*[\"'])?"
                         r"(?P<spec>" + _SPEC + r"(?:\s*,\s*" + _SPEC + r")*)", re.IGNORECASE) if sdk_names else None
    sdk_launchers = [(re.compile(re.escape(w) + r"(?![\w-])"), e.name) for e in sdks for w in e.launchers]
    found_sdks: set[str] = set()
    deployed = False
    #: folder (absolute) of each dependency file -> the OpenTelemetry distributions it declares
    dep_dirs: dict[str, set[str]] = {}
    entry_points: set[str] = set()
    for path in paths:
        name = path.name
        deployed = deployed or bool(DEPLOYMENT_FILES.match(name))
        is_dep = bool(DEPENDENCY_FILES.match(name)) or (path.parent.name.startswith("requirements")
                                                         and name.endswith((".txt", ".in")))
        is_launch = bool(LAUNCHER_FILES.match(name))
        #: a configuration or deployment file that may name code to run (`core/reach.py`)
        is_conf = bool(DEPLOYMENT_FILES.match(name)) or path.suffix in CONFIG_SUFFIXES
        if not (is_dep or is_launch or is_conf):
            continue
        try:
            if path.stat().st_size > (5_000_000 if is_dep or is_launch else 1_000_000):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        entry_points.update(entry_point_names(text))
        if is_dep:
            found_here = {normalise_dist(_VERSIONED.split(d, 1)[0]) for d in DIST.findall(text)}
            deps.update(found_here)
            dep_dirs.setdefault(str(path.parent), set()).update(found_here)
            words = {normalise_dist(w) for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9_.\-]*", text)}
            found_sdks.update(sdk for dist, sdk in sdk_dists.items() if dist in words)
            for m in PIN.finditer(text):
                pins.setdefault(normalise_dist(m["dist"]), set()).add(re.sub(r"\s+", "", m["spec"]))
            for m in sdk_pin.finditer(text) if sdk_pin is not None else ():
                pins.setdefault(normalise_dist(m["dist"]), set()).add(re.sub(r"\s+", "", m["spec"]))
            for m in LOCKED.finditer(text):
                pins.setdefault(normalise_dist(m["dist"] or m["pdist"]), set()).add(
                    "==" + (m["version"] or m["pversion"]))
        if is_launch and not _aside(path, root):
            launcher = launcher or bool(LAUNCHER.search(text))
            bootstrap = bootstrap or bool(BOOTSTRAP.search(text))
            for match in DISABLED.findall(text):
                disabled.update(x.strip() for x in match.split(",") if x.strip())
            signals.update(name for name, rx in patterns if rx.search(text))
            found_sdks.update(sdk for rx, sdk in sdk_launchers if rx.search(text))
    return {"deps": sorted(deps), "launcher": launcher, "bootstrap": bootstrap, "disabled": sorted(disabled),
            "signals": sorted(signals), "pins": {d: sorted(v) for d, v in sorted(pins.items())},
            "sdks": sorted(found_sdks), "deployed": deployed,
            "dep_dirs": {d: sorted(v) for d, v in sorted(dep_dirs.items())},
            "entry_points": sorted(entry_points)}


# --- the index ---------------------------------------------------------------------------------------


def _aside(path: Path, root: Path | None) -> bool:
    """The file lies under a folder of tests, examples or benchmarks (`core/relevance.py`)."""
    if root is None:
        return False
    try:
        rel = path.relative_to(root).as_posix()
    except ValueError:
        return False
    return path_kind(rel) in ("test", "example", "benchmark")
