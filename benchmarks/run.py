#!/usr/bin/env python3
"""Scale benchmark: proplint, its flake8 plugin, flake8 and ruff on the ~1M-line pinned corpus.

    python benchmarks/fetch_corpus.py && python benchmarks/run.py

A report, never a test: it exits 0 whatever the numbers are (non-zero only when a tool fails to run),
and writes benchmarks/RESULTS.md. See benchmarks/README.md for what each row means.

Tools live in two virtual environments made here on first use (git-ignored):
  benchmarks/.venv           ruff, flake8 and proplint (`pip install -e` of this checkout: the flake8
                             PRP plugin is registered there)
  benchmarks/.venv-noplugin  the same flake8 without proplint (flake8's own cost)

Standard library only; run it with any Python >= 3.10 that has `venv`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

import fetch_corpus  # noqa: E402  (this folder)
import fetch_corpus2  # noqa: E402  (this folder)

CORPUS = fetch_corpus.CORPUS
VENV = HERE / ".venv"
VENV_NOPLUGIN = HERE / ".venv-noplugin"
LOGS = CORPUS / "_logs"
RESULTS = HERE / "RESULTS.md"

RUFF = "ruff==0.17.6"
FLAKE8 = "flake8==7.5.0"
TIME = "/usr/bin/time"

CORPUS_PYPROJECT = """\
# Written by benchmarks/run.py: makes the corpus its own proplint project (config root), so the
# nearest pyproject.toml is not the proplint repository's. An empty table: proplint's defaults.
[tool.proplint]
"""

# --- environments ------------------------------------------------------------------------------------


def _bin(venv: Path, name: str) -> Path:
    return venv / "bin" / name


def _pip(venv: Path, *args: str) -> None:
    cmd = [str(_bin(venv, "python")), "-m", "pip", "install", "-q", "--disable-pip-version-check", *args]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def _has(venv: Path, module: str) -> bool:
    py = _bin(venv, "python")
    if not py.exists():
        return False
    proc = subprocess.run([str(py), "-I", "-c", f"import {module}"], capture_output=True, check=False)
    return proc.returncode == 0


def snapshot_source(ref: str | None) -> tuple[Path, str]:
    """Copy proplint's sources to benchmarks/.venv/proplint-src, the code every row runs.

    Others may edit the working tree while the benchmark runs (half an hour): an editable install of the
    checkout itself would measure a moving target, or crash mid-run. The copy pins the code at the start:
    the working tree as it is (default), or a commit (`--ref`, via `git archive`).
    Returns the copy and a short content hash of it.
    """
    dest = VENV / "proplint-src"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)
    if ref is not None:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref, *SOURCE_FILES],
                                 capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tf:
            try:
                tf.extractall(dest, filter="data")
            except TypeError:  # Python without extraction filters (< 3.10.12 / 3.11.4)
                tf.extractall(dest)
    else:
        for name in SOURCE_FILES:
            src = REPO / name
            if src.is_dir():
                shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            elif src.is_file():
                shutil.copy2(src, dest / name)
    digest = hashlib.sha256()
    for path in sorted(p for p in dest.rglob("*") if p.is_file()):
        digest.update(path.relative_to(dest).as_posix().encode() + b"\0" + path.read_bytes())
    return dest, digest.hexdigest()[:12]


#: What `pip install` of proplint needs (see pyproject.toml: packages, package-dir, readme).
SOURCE_FILES = ("pyproject.toml", "README.md", "proplint", "rules")


def _proplint_location(venv: Path) -> str:
    py = _bin(venv, "python")
    proc = subprocess.run([str(py), "-I", "-c", "import proplint; print(proplint.__file__)"], capture_output=True,
                          text=True, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def ensure_envs(source: Path) -> None:
    for venv in (VENV, VENV_NOPLUGIN):
        if not _bin(venv, "python").exists():
            print(f"creating {venv.relative_to(REPO)}", flush=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if not _bin(VENV, "ruff").exists() or not _bin(VENV, "flake8").exists():
        _pip(VENV, RUFF, FLAKE8)
    if not _proplint_location(VENV).startswith(str(source) + "/"):
        _pip(VENV, "-e", str(source))
    if not _bin(VENV_NOPLUGIN, "flake8").exists():
        _pip(VENV_NOPLUGIN, FLAKE8)
    if _has(VENV_NOPLUGIN, "proplint"):
        raise SystemExit(f"{VENV_NOPLUGIN} must not have proplint installed")


def smoke_test() -> None:
    """The snapshot must import and check a file through both entry points, or nothing is measured."""
    probe = CORPUS / "requests-2.32.3" / "requests" / "sessions.py"
    for argv in ([_bin(VENV, "proplint"), "check", "--no-cache", "--jobs", "1", probe],
                 [_bin(VENV, "flake8"), "--isolated", "--select", "PRP", probe]):
        proc = subprocess.run([str(a) for a in argv], cwd=CORPUS, capture_output=True, text=True, check=False)
        if proc.returncode not in (0, 1) or "Traceback" in proc.stderr:
            raise SystemExit(f"smoke test failed: {' '.join(map(str, argv))}\n{proc.stderr[-3000:]}")


def tool_versions() -> dict[str, str]:
    out = {}
    for label, cmd in {
        "proplint": [_bin(VENV, "proplint"), "--version"],
        "flake8 (.venv)": [_bin(VENV, "flake8"), "--version"],
        "flake8 (.venv-noplugin)": [_bin(VENV_NOPLUGIN, "flake8"), "--version"],
        "ruff": [_bin(VENV, "ruff"), "--version"],
    }.items():
        proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
        out[label] = " ".join(proc.stdout.split())
    script = "from importlib.metadata import version as v; print(v('libcst'))"
    proc = subprocess.run([str(_bin(VENV, "python")), "-c", script], capture_output=True, text=True)
    out["libcst"] = proc.stdout.strip()
    return out


def repo_state(digest: str, ref: str | None) -> str:
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", ref or "HEAD"], capture_output=True,
                          text=True, check=False)
    if ref is not None:
        return f"commit {head.stdout.strip()} (`--ref {ref}`; snapshot of the sources {digest})"
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--", *SOURCE_FILES],
                           capture_output=True, text=True, check=False)
    state = f"commit {head.stdout.strip() or 'unknown'}"
    changed = [line for line in dirty.stdout.splitlines() if line.strip()]
    if changed:
        state += f" plus {len(changed)} uncommitted new or changed files in {', '.join(SOURCE_FILES)}"
    return f"{state} (snapshot of the sources {digest})"


# --- the corpus --------------------------------------------------------------------------------------


def prepare_corpus() -> tuple[int, int, list[tuple[str, str, int, int]]]:
    missing = [d.name for _, _, d in fetch_corpus.package_dirs() if not (d / fetch_corpus.MARKER).is_file()]
    if missing:
        raise SystemExit(f"corpus incomplete ({', '.join(missing[:5])}...): run python benchmarks/fetch_corpus.py")
    (CORPUS / "pyproject.toml").write_text(CORPUS_PYPROJECT)
    # The corpus sits in benchmarks/corpus/, which this repository's .gitignore ignores. proplint and ruff
    # skip git-ignored files, so they would check nothing: make the corpus a git work tree of its own.
    if not (CORPUS / ".git").exists():
        subprocess.run(["git", "init", "-q", str(CORPUS)], check=True)
    (CORPUS / ".gitignore").write_text("/_dl/\n/_logs/\n")
    LOGS.mkdir(exist_ok=True)
    per_package = []
    files = lines = 0
    for name, version, directory in fetch_corpus.package_dirs():
        f, n = fetch_corpus.stats(directory)
        per_package.append((name, version, f, n))
        files += f
        lines += n
    return files, lines, per_package


# --- measuring ---------------------------------------------------------------------------------------


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def _tree_rss_kib(root: int) -> int:
    """Sum of VmRSS over `root` and its descendants (shared pages are counted once per process)."""
    children = _children_map()
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, ()))
        try:
            with open(f"/proc/{pid}/status") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total


@dataclass
class Measurement:
    label: str
    argv: list[str]
    cwd: Path
    wall: float = 0.0
    max_rss_mib: float = 0.0  # largest single process (GNU time's %M)
    tree_rss_mib: float = 0.0  # peak of the sampled sum over the process tree
    cpu: float = 0.0  # user + system seconds of the process and its (waited-for) children
    internal_errors: int = 0  # proplint "internal error while checking" findings (a crashed check)
    stderr_tail_full: str = field(default="", repr=False)
    returncode: int = 0
    stdout_lines: int = 0
    stderr_tail: str = ""
    ok: bool = True
    notes: list[str] = field(default_factory=list)


def measure(label: str, argv: list[str], cwd: Path, ok_codes=(0, 1), quiet: bool = False) -> Measurement:
    m = Measurement(label, [str(a) for a in argv], cwd)
    safe = "".join(c if c.isalnum() else "_" for c in label)[:60]
    out_path, err_path = LOGS / f"{safe}.out", LOGS / f"{safe}.err"
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
        time_file = tf.name
    cmd = [TIME, "-f", "@@ %M %U %S", "-o", time_file, *m.argv]
    peak = 0
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err)
        stop = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not stop.wait(0.05):
                peak = max(peak, _tree_rss_kib(proc.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        m.returncode = proc.wait()
        m.wall = time.perf_counter() - start
        stop.set()
        sampler.join()
    with open(time_file) as fh:
        numbers = [ln.split()[1:] for ln in fh if ln.startswith("@@ ")]
    os.unlink(time_file)
    if numbers:
        m.max_rss_mib = int(numbers[-1][0]) / 1024
        m.cpu = float(numbers[-1][1]) + float(numbers[-1][2])
    m.tree_rss_mib = peak / 1024
    with open(out_path, "rb") as fh:
        m.stdout_lines = sum(1 for _ in fh)
    err_text = Path(err_path).read_text(errors="replace")
    m.stderr_tail = " | ".join(err_text.strip().splitlines()[-2:])
    m.stderr_tail_full = err_text[-20000:]
    with open(out_path, "rb") as fh:
        m.internal_errors = sum(1 for line in fh if b"PRP001" in line and b"internal error" in line)
    m.ok = m.returncode in ok_codes and "Traceback (most recent call last)" not in m.stderr_tail_full
    if not quiet:
        status = "" if m.ok else f"  FAILED (exit {m.returncode}): {m.stderr_tail}"
        print(f"  {label:<58} {m.wall:8.2f} s (cpu {m.cpu:7.2f} s)  {m.max_rss_mib:7.1f} MiB "
              f"(tree {m.tree_rss_mib:7.1f}){status}",
              flush=True)
    return m


def median_wall(label: str, argv: list[str], cwd: Path, repeat: int) -> tuple[float, list[float]]:
    measure(label + " (warm-up)", argv, cwd, quiet=True)
    walls = []
    for _ in range(repeat):
        m = measure(label, argv, cwd, quiet=True)
        if not m.ok:
            raise SystemExit(f"{label}: exit {m.returncode}: {m.stderr_tail}")
        walls.append(m.wall)
    med = statistics.median(walls)
    print(f"  {label:<58} median {med * 1000:7.0f} ms  ({', '.join(f'{w * 1000:.0f}' for w in walls)})", flush=True)
    return med, walls


# --- prefilter selectivity ----------------------------------------------------------------------------

PREFILTER_SCRIPT = r"""
import json, sys, time
from collections import Counter
from pathlib import Path
from proplint.config import load_config
from proplint.core.context import AstFile
from proplint.settings import make_settings
from proplint.files import iter_python_files

root = Path(sys.argv[1])
config = load_config(root)
t = time.perf_counter()
settings = make_settings(config, use_cache=False)
index_seconds = time.perf_counter() - t
plugin = make_settings(config, include_default_off=True)  # what the flake8 plugin uses
files = iter_python_files([root], config)
passed_plugin = 0
passed = lines_all = lines_passed = parsed = lines_parsed = 0
per_check = Counter()
sizes = []
for path in files:
    data = path.read_bytes()
    n = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    lines_all += n
    possible = settings.possible(data) - {"PRP001"}
    passed_plugin += bool(plugin.possible(data) - {"PRP001"})
    if possible:
        passed += 1
        lines_passed += n
        gates = settings.gates()
        if possible <= gates.keys():
            tree = AstFile.parse(data, str(path.relative_to(root)))
            if tree is not None:
                possible = frozenset(c for c in possible if gates[c](tree))
        if possible:
            parsed += 1
            lines_parsed += n
        for check, codes in settings.checks():
            if codes & possible:
                per_check[check.__name__] += 1
    sizes.append((n, str(path.relative_to(root)), bool(possible)))
print(json.dumps({
    "files": len(files), "passed": passed, "passed_plugin": passed_plugin, "lines": lines_all,
    "lines_passed": lines_passed, "parsed": parsed, "lines_parsed": lines_parsed,
    "tokens": per_check.most_common(), "index_seconds": index_seconds,
    "pattern_words": len(settings.file_filter().words), "needs": len(settings.file_filter().needs), "sizes": sizes,
}))
"""


def prefilter_stats() -> dict:
    proc = subprocess.run([str(_bin(VENV, "python")), "-c", PREFILTER_SCRIPT, str(CORPUS)], cwd=CORPUS,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout)


def pick_file(sizes: list[tuple[int, str, bool]], target: int, parsed: bool = True) -> tuple[int, str]:
    """The corpus file closest to `target` lines among those that pass the prefilter (so the plugin
    really parses and walks it: the editor's worst case), or, with `parsed=False`, among those it rules
    out (the common case: most files of a project touch none of the APIs the rules are about)."""
    candidates = [(abs(n - target), n, rel) for n, rel, passed in sizes if passed == parsed]
    _, n, rel = min(candidates)
    return n, rel


# --- profile -----------------------------------------------------------------------------------------


def make_subset(every: int = 10) -> tuple[Path, int, int]:
    """Every `every`-th corpus file (sorted paths) copied into a standalone project under /tmp."""
    dest = Path(tempfile.mkdtemp(prefix="proplint-bench-subset-"))
    files = sorted(p for p in CORPUS.rglob("*.py") if not p.relative_to(CORPUS).parts[0].startswith(("_", ".")))
    n_files = n_lines = 0
    for path in files[::every]:
        target = dest / path.relative_to(CORPUS)
        target.parent.mkdir(parents=True, exist_ok=True)
        data = path.read_bytes()
        target.write_bytes(data)
        n_files += 1
        n_lines += fetch_corpus.count_lines(data)
    (dest / "pyproject.toml").write_text(CORPUS_PYPROJECT)
    return dest, n_files, n_lines


def profile_subset() -> dict:
    subset, n_files, n_lines = make_subset()
    prof = LOGS / "subset.prof"
    try:
        m = measure("profile: proplint check --no-cache --jobs 1 (subset, cProfile)",
                    [_bin(VENV, "python"), "-m", "cProfile", "-o", prof, "-m", "proplint", "check", "--no-cache",
                     "--jobs", "1", "."], subset)
        phases = subprocess.run([str(_bin(VENV, "python")), "-c", PHASES_SCRIPT], cwd=subset, capture_output=True,
                                text=True, check=True).stdout
    finally:
        shutil.rmtree(subset, ignore_errors=True)
    stats = subprocess.run([str(_bin(VENV, "python")), "-c", PSTATS_SCRIPT, str(prof)], capture_output=True,
                           text=True, check=True).stdout
    match = re.search(r": ([0-9.]+) s ---", phases)
    return {"files": n_files, "lines": n_lines, "wall_profiled": m.wall, "wall": float(match.group(1)) if match else 0,
            "stats": stats, "phases": phases}


#: The same run in-process, without a profiler: wall time of each phase (perf_counter wrappers).
PHASES_SCRIPT = r"""
import contextlib, io, sys, time
import libcst
import proplint.engine as engine
import proplint.settings as settings_module

spent = {}
calls = {}

def timed(label, fn):
    def wrapper(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.perf_counter() - t
            calls[label] = calls.get(label, 0) + 1
    return wrapper

settings_module.build_index = timed("project index (build_index)", settings_module.build_index)
engine.check_paths = timed("check_paths (everything per file)", engine.check_paths)
libcst.parse_module = timed("  LibCST parse_module", libcst.parse_module)
engine._walk = timed("  tree walk with the checks (_walk)", engine._walk)
engine._locate = timed("  positions of findings (_locate)", engine._locate)
from proplint.cli import main
t = time.perf_counter()
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        main(["check", "--no-cache", "--jobs", "1", "."], standalone_mode=False)
    except SystemExit:
        pass
total = time.perf_counter() - t
print(f"--- phases without a profiler (in-process, --jobs 1, --no-cache): {total:.2f} s ---")
for label, s in spent.items():
    print(f"{label:<44} {s:7.2f} s {s / total:6.1%}  ({calls[label]} calls)")
"""


PSTATS_SCRIPT = r"""
import io, pstats, re, sys

stats = pstats.Stats(sys.argv[1])
total = max(ct for (_, _, _), (_, _, _, ct, _) in stats.stats.items())

def short(text):
    return re.sub(r"\S*/(site-packages|lib/python3\.\d+|proplint-src|main)/", "", text)

# Phases: cumulative time of the functions that delimit them (under the profiler, which inflates
# Python-heavy code such as the tree walk more than the native parser).
phases = [
    ("project index (build_index: ast parse + collectors, all files)", "index.py", "build_index"),
    ("file discovery (iter_python_files, incl. git check-ignore)", "files.py", "iter_python_files"),
    ("check_paths (prefilter + parse + walk + report, all files)", "engine.py", "check_paths"),
    ("  LibCST parse_module (files passing the prefilter)", "entrypoints.py", "parse_module"),
    ("  tree walk with the checks (_walk / _walk_deep)", "engine.py", "_walk"),
    ("  positions of findings (_locate)", "engine.py", "_locate"),
    ("  noqa (apply_noqa)", "noqa.py", "apply_noqa"),
]
print(f"--- phases (cumulative s under cProfile; whole run {total:.1f} s) ---")
for label, fname, func in phases:
    ct = sum(v[3] for (f, _, name), v in stats.stats.items() if f.endswith(fname) and name == func)
    print(f"{label:<66} {ct:7.2f}  {ct / total:6.1%}")

for key, n, restrict in (("cumulative", 15, r"proplint/|libcst/|/ast\.py"), ("cumulative", 15, r"proplint/families/"),
                         ("tottime", 15, None)):
    s = io.StringIO()
    st = pstats.Stats(sys.argv[1], stream=s)
    st.sort_stats(key)
    st.print_stats(*([restrict] if restrict else []), n)
    text = s.getvalue()
    where = {None: "", "proplint/families/": " (rule families: proplint/families/)"}.get(
        restrict, " (proplint, libcst and ast functions)")
    print(f"--- top {n} by {key}{where} ---")
    print(short(text[text.find("   ncalls"):]).rstrip())
"""


# --- three projects side by side ---------------------------------------------------------------------

PROJECTS_SAVED = LOGS / "projects.json"
PROJECTS_START, PROJECTS_END = "<!-- projects:start -->", "<!-- projects:end -->"
#: the real monorepo of the real-world set (`benchmarks/realworld/run.py` checks it out there)
DEFAULT_MONOREPO = HERE / "realworld" / "_checkouts" / "paunchygent+huleedu"


def project_targets(monorepo: Path | None) -> list[tuple[str, Path]]:
    """The first corpus, the second corpus and the monorepo (each skipped with a note when absent)."""
    out = [("corpus 1", CORPUS)]
    missing2 = [d.name for _, _, d in fetch_corpus2.package_dirs() if not (d / fetch_corpus2.MARKER).is_file()]
    if missing2:
        print(f"  corpus 2 incomplete ({', '.join(missing2[:3])}...): run python benchmarks/fetch_corpus2.py; "
              "skipped", flush=True)
    else:
        (fetch_corpus2.CORPUS / "pyproject.toml").write_text(fetch_corpus2.CORPUS_PYPROJECT)
        out.append(("corpus 2", fetch_corpus2.CORPUS))
    if monorepo is not None and monorepo.is_dir():
        out.append((f"monorepo {monorepo.name}", monorepo))
    else:
        print(f"  monorepo {monorepo} not found; skipped (--monorepo PATH)", flush=True)
    return out


def measure_projects(monorepo: Path | None, rounds: int) -> dict:
    """Cold `proplint check --no-cache`, plain flake8 and ruff on each project, in this one run and
    alternating (the order rotates every round), then the growth figures (benchmarks/growth.py)."""
    proplint, flake8_alone, ruff = _bin(VENV, "proplint"), _bin(VENV_NOPLUGIN, "flake8"), _bin(VENV, "ruff")
    commands = {
        "proplint": lambda: [proplint, "check", "--no-cache", "."],
        "flake8": lambda: [flake8_alone, "--isolated", "."],
        "ruff": lambda: [ruff, "check", "--isolated", "--no-cache", "."],
    }
    result: dict = {"rounds": rounds, "projects": [], "load": [list(os.getloadavg())]}
    for label, root in project_targets(monorepo):
        print(f"{label} ({root}):", flush=True)
        runs: dict[str, list[dict]] = {k: [] for k in commands}
        order = list(commands)
        for r in range(rounds):
            for tool in order[r % 3:] + order[:r % 3]:
                m = measure(f"{label}: {tool} (round {r + 1})", commands[tool](), root)
                if not m.ok:
                    raise SystemExit(f"{label}: {tool} failed: exit {m.returncode}: {m.stderr_tail}")
                runs[tool].append({"cpu": m.cpu, "wall": m.wall, "out": m.stdout_lines})
        print(f"  growth: {label} as one project vs the sum of its parts (--jobs 1, no cache)", flush=True)
        proc = subprocess.run([str(_bin(VENV, "python")), str(HERE / "growth.py"), "--json", str(root)],
                              capture_output=True, text=True, check=True)
        growth = json.loads(proc.stdout.strip().splitlines()[-1])
        w, p = growth["whole"], growth["split"]
        print(f"  one project {w['cpu']:.1f} s CPU, {w['passed']} files through the prefilter; "
              f"{growth['parts']} parts {p['cpu']:.1f} s, {p['passed']} files", flush=True)
        result["projects"].append({"label": label, "root": str(root), "runs": runs, "growth": growth})
    result["load"].append(list(os.getloadavg()))
    return result


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def projects_section(data: dict) -> str:
    out: list[str] = []
    w = out.append
    w("## Three projects side by side: cold check and growth")
    w("")
    load = data.get("load", [[0, 0, 0], [0, 0, 0]])
    w(f"Measured {data.get('date', '')} with proplint at {data.get('repo_state', '?')}, on the shared 2-core "
      f"machine (1-min load average {load[0][0]:.1f} before, {load[-1][0]:.1f} after; others were working "
      f"on it: wall times move with their load, CPU is the figure to compare). For each project, "
      f"{data['rounds']} round(s) of the three tools one after another in the same run, the order rotating "
      "each round (mean of the rounds): `proplint check --no-cache .` (default jobs), plain "
      "`flake8 --isolated .` (`.venv-noplugin`: no plugin) and `ruff check --isolated --no-cache .`.")
    w("")
    w("| project | files | lines | proplint CPU (s) | wall (s) | flake8 CPU (s) | wall (s) | ruff CPU (s) | "
      "wall (s) | proplint / flake8, CPU | wall | target ≤ 0.5× (CPU) |")
    w("|---------|------:|------:|------:|------:|------:|------:|------:|------:|------:|------:|------|")
    targets = []
    for proj in data["projects"]:
        r, g = proj["runs"], proj["growth"]
        pc, pw = _mean([x["cpu"] for x in r["proplint"]]), _mean([x["wall"] for x in r["proplint"]])
        fc, fw = _mean([x["cpu"] for x in r["flake8"]]), _mean([x["wall"] for x in r["flake8"]])
        rc, rw = _mean([x["cpu"] for x in r["ruff"]]), _mean([x["wall"] for x in r["ruff"]])
        ratio = pc / fc if fc else 0.0
        ok = ratio <= 0.5
        verdict = "met" if ok else f"missed by {ratio - 0.5:.2f}× ({pc - fc / 2:+.1f} s CPU)"
        targets.append(_target(ok, f"{proj['label']}: cold proplint ≤ 0.5× plain flake8 (CPU): {ratio:.2f}×"))
        w(f"| {proj['label']} | {g['whole']['files']:,} | {g['whole'].get('lines', 0):,} | {pc:.1f} | {pw:.1f} | "
          f"{fc:.1f} | {fw:.1f} | {rc:.1f} | {rw:.1f} | {ratio:.2f}× | {pw / fw if fw else 0:.2f}× | {verdict} |")
    w("")
    w("Growth (`benchmarks/growth.py`: each row a fresh process per project, `--jobs 1`, no cache, CPU of the "
      "children): the project checked as one against the sum of its parts each checked as a project of its own "
      "(a corpus: its packages; the monorepo: `services/*`, `libs/*` and the other top-level folders), with the "
      "files that pass the prefilter (some enabled rule can still report) and the findings.")
    w("")
    w("| project | parts | one project CPU (s) | sum of parts CPU (s) | one / sum | target ≤ 1.1× | "
      "through the prefilter: one / sum | findings: one / sum |")
    w("|---------|------:|------:|------:|------:|------|------:|------:|")
    for proj in data["projects"]:
        g = proj["growth"]
        one, split = g["whole"], g["split"]
        ratio = one["cpu"] / split["cpu"] if split["cpu"] else 0.0
        ok = ratio <= 1.1
        verdict = "met" if ok else f"missed by {ratio - 1.1:.2f}×"
        targets.append(_target(ok, f"{proj['label']}: one project ≤ 1.1× the sum of its parts (CPU): {ratio:.2f}×"))
        w(f"| {proj['label']} | {g['parts']} | {one['cpu']:.1f} | {split['cpu']:.1f} | {ratio:.2f}× | {verdict} | "
          f"{one['passed']:,} / {split['passed']:,} | {one['findings']:,} / {split['findings']:,} |")
    w("")
    for t in targets:
        w(f"- {t}")
    w("")
    return "\n".join(out)


def write_projects_block(data: dict) -> None:
    """Put the section into RESULTS.md between its markers (before the editor latency if there are none)."""
    block = f"{PROJECTS_START}\n{projects_section(data)}{PROJECTS_END}"
    text = RESULTS.read_text() if RESULTS.is_file() else ""
    if PROJECTS_START in text:
        head, rest = text.split(PROJECTS_START, 1)
        text = head + block + rest.split(PROJECTS_END, 1)[1]
    elif "## Editor latency" in text:
        head, rest = text.split("## Editor latency", 1)
        text = head + block + "\n\n## Editor latency" + rest
    else:
        text += "\n" + block + "\n"
    RESULTS.write_text(text)
    print(f"wrote the projects section of {RESULTS.relative_to(REPO)}")


# --- report ------------------------------------------------------------------------------------------


def _fmt_rate(lines: int, seconds: float) -> str:
    return f"{lines / seconds:,.0f}" if seconds > 0 else "-"


def _target(ok: bool, text: str) -> str:
    return f"{'**met**' if ok else '**missed**'}: {text}"


def write_results(ctx: dict) -> None:
    rows: list[tuple[Measurement, str]] = ctx["rows"]
    files, lines = ctx["files"], ctx["lines"]
    out: list[str] = []
    w = out.append
    w("# proplint scale benchmark: results")
    w("")
    w(f"Run on {ctx['date']} on this machine ({ctx['machine']}), proplint at {ctx['repo_state']}. "
      f"Generated by `python benchmarks/run.py` (do not edit by hand; re-run it). "
      f"Total benchmark time {ctx['total_minutes']:.1f} min; 1/5/15-min load average "
      f"{'/'.join(f'{x:.1f}' for x in ctx['load'][0])} before, {'/'.join(f'{x:.1f}' for x in ctx['load'][1])} after "
      "(2.0 = both cores busy).")
    w("")
    w(f"Corpus: **{files:,} files, {lines:,} lines of .py** from {len(ctx['packages'])} pinned PyPI packages "
      f"(list below), in `benchmarks/corpus/`, which is one proplint project (config root).")
    w("")
    w("## Whole corpus")
    w("")
    w("| # | run | wall (s) | CPU user+sys (s) | lines/s | peak RSS, largest process (MiB) "
      "| peak RSS, process tree sum (MiB) "
      "| output lines | note |")
    w("|---|-----|---------:|------:|--------:|------:|------:|------:|------|")
    for i, (m, note) in enumerate(rows, 1):
        wall = f"{m.wall:.2f}" if m.ok else f"failed (exit {m.returncode})"
        if m.internal_errors:
            note += f"; **{m.internal_errors} internal-error findings (a check crashed)**"
        w(f"| {i} | {m.label} | {wall} | {m.cpu:.1f} | {_fmt_rate(lines, m.wall)} | {m.max_rss_mib:.0f} "
          f"| {m.tree_rss_mib:.0f} | "
          f"{m.stdout_lines:,} | {note} |")
    w("")
    w("Command lines (run with the corpus as working directory; `.venv` = `benchmarks/.venv`):")
    w("")
    w("```")
    for i, (m, _) in enumerate(rows, 1):
        argv = [a.replace(str(HERE) + "/", "") for a in m.argv]
        w(f"{i}. {' '.join(argv)}")
    w("```")
    w("")
    w("- **wall**: `time.perf_counter()` around the whole process (start-up, file discovery, project index, "
      "checking, output), each command run once, sequentially. Other work on the machine slows it down: see "
      "the load average above and compare with the CPU column.")
    w("- **CPU**: user + system seconds of the command and its worker processes (GNU time; less sensitive "
      "than wall time to other load on the machine).")
    w("- **peak RSS, largest process**: `/usr/bin/time -f %M` of the command. For multi-process runs "
      "(proplint's worker pool, flake8's `--jobs auto`) this is the largest *single* process of the tree, "
      "not the sum.")
    w("- **peak RSS, process tree sum**: the highest sum of `VmRSS` over the command's process tree, sampled "
      "from `/proc` every 50 ms. Copy-on-write pages shared by forked workers are counted once per process, "
      "so this overstates the real total somewhat; a very short peak can be missed.")
    w("- **output lines**: lines printed on stdout (findings for proplint / flake8 / ruff; flake8 and ruff "
      "report style findings, so these are not comparable across tools).")
    w("")
    if PROJECTS_SAVED.is_file():  # the three projects side by side (this run, or `--projects-only`)
        w(f"{PROJECTS_START}\n{projects_section(json.loads(PROJECTS_SAVED.read_text()))}{PROJECTS_END}")
        w("")
    w("## Editor latency: `flake8 <one file>`")
    w("")
    w(f"Median of {ctx['repeat']} runs after one warm-up run, each a fresh `flake8` process as an editor "
      "integration starts it. *With plugin* = `benchmarks/.venv` (proplint's PRP plugin registered); "
      "*without* = `benchmarks/.venv-noplugin` (same flake8, no proplint). *Parsed*: the file passes "
      "proplint's prefilter, so the plugin really parses and walks it (the worst case); *ruled out*: the "
      "prefilter shows no rule can report on it, so it is never parsed (the common case).")
    w("")
    w("| file | lines | prefilter | project | flake8 without plugin (ms) | flake8 with plugin (ms) | plugin adds (ms) |")
    w("|------|------:|-----------|---------|------:|------:|------:|")
    for e in ctx["editor"]:
        kind = "parsed" if e.get("parsed", True) else "ruled out"
        w(f"| `{e['file']}` | {e['lines']:,} | {kind} | {e['project']} | {e['without'] * 1000:.0f} | "
          f"{e['with'] * 1000:.0f} | {(e['with'] - e['without']) * 1000:+.0f} |")
    w("")
    w("- *in corpus*: the file checked where it is, so its project is the whole 1M-line corpus: the plugin "
      "loads the project index (walks the project, stats every file, reads `.proplint_cache/index.json`; the "
      "cache is warm) before checking the file.")
    w("- *standalone*: the same file copied alone into a fresh project (its own `pyproject.toml`), so only "
      "the per-file cost remains (plus plugin import and a one-file index).")
    w("")
    lsp_saved = LOGS / "lsp_latency.json"
    if lsp_saved.is_file():  # `benchmarks/lsp_latency.py --write`: the language server's per-save figures
        import lsp_latency

        w(f"{lsp_latency.START}\n{lsp_latency.section(json.loads(lsp_saved.read_text()))}{lsp_latency.END}")
        w("")
    pf = ctx["prefilter"]
    w("## Prefilter selectivity")
    w("")
    w(f"The prefilter (`settings.possible(bytes)`: {pf.get('needs', '?')} needs over {pf['pattern_words']} words "
      "from the enabled rules, see `proplint/core/needs.py`; built with `load_config(corpus)` + `make_settings`) "
      f"leaves **{pf['passed']:,} of {pf['files']:,} files ({pf['passed'] / pf['files']:.1%})** where some rule "
      f"can report, holding {pf['lines_passed']:,} of {pf['lines']:,} lines "
      f"({pf['lines_passed'] / pf['lines']:.1%}). The ast gates (exact tests on the stdlib `ast`, for PRP401 "
      "and PRP412) then leave "
      f"**{pf.get('parsed', pf['passed']):,} files ({pf.get('lines_parsed', pf['lines_passed']):,} lines, "
      f"{pf.get('lines_parsed', pf['lines_passed']) / pf['lines']:.1%})**: only these are parsed with LibCST. "
      "Files on which each check runs: " + ", ".join(f"`{t}` {n}" for t, n in pf["tokens"])
      + ". The flake8 plugin also enables "
      f"the rules that are off by default; with them {pf['passed_plugin']:,} files pass "
      f"({pf['passed_plugin'] / pf['files']:.1%}).")
    w("")
    w(f"Building the project index alone (`make_settings(config, use_cache=False)`: stdlib `ast` over every "
      f"file, in one process) took **{pf['index_seconds']:.1f} s** of that: it is part of every cold "
      "run, and of the first flake8 run of a project.")
    w("")
    w("## Targets")
    w("")
    for t in ctx["targets"]:
        w(f"- {t}")
    w("")
    if ctx.get("profile"):
        p = ctx["profile"]
        w("## Where the time goes: cProfile of `proplint check --no-cache --jobs 1`")
        w("")
        w(f"On a subset of every 10th corpus file ({p['files']:,} files, {p['lines']:,} lines), copied into a "
          f"standalone project so that the project index covers the subset only. Without a profiler "
          f"(in-process, timing each phase) the check takes {p['wall']:.1f} s "
          f"({_fmt_rate(p['lines'], p['wall'])} lines/s); under cProfile {p['wall_profiled']:.1f} s.")
        w("")
        w("```")
        w(p["phases"].rstrip())
        w("")
        w(p["stats"])
        w("```")
        w("")
    if ctx.get("analysis"):
        w("## Analysis (hand-written, from benchmarks/analysis.md)")
        w("")
        w(ctx["analysis"])
        w("")
    w("## Packages")
    w("")
    w("| package | version | .py files | lines |")
    w("|---------|---------|------:|------:|")
    for name, version, f, n in ctx["packages"]:
        w(f"| {name} | {version} | {f:,} | {n:,} |")
    w(f"| **total** | | **{files:,}** | **{lines:,}** |")
    w("")
    w("Wheels from PyPI where one exists for CPython 3.11 on x86-64 Linux (`pip download --no-deps "
      "--no-binary :none:`), *.py files only (botocore's JSON service models, compiled extensions, "
      "templates and data files are not counted).")
    w("")
    w("## Tool versions")
    w("")
    for k, v in ctx["versions"].items():
        w(f"- {k}: {v}")
    w(f"- Python {platform.python_version()} ({sys.executable} for the harness)")
    w("")
    RESULTS.write_text("\n".join(out) + "\n")
    print(f"wrote {RESULTS.relative_to(REPO)}")


SAVED = LOGS / "results.json"


def render(ctx: dict) -> None:
    """Write RESULTS.md from a run's numbers plus the hand-written benchmarks/analysis.md, if present."""
    notes = HERE / "analysis.md"
    if notes.is_file():
        ctx["analysis"] = notes.read_text().strip()
    write_results(ctx)


def render_saved() -> int:
    if not SAVED.is_file():
        raise SystemExit(f"no saved run ({SAVED}): run python benchmarks/run.py first")
    ctx = json.loads(SAVED.read_text())
    ctx["rows"] = [(Measurement(**dict(m, cwd=Path(m["cwd"]))), note) for m, note in ctx["rows"]]
    render(ctx)
    return 0


# --- main --------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="runs per editor-latency measurement (median)")
    parser.add_argument("--profile", choices=("auto", "always", "never"), default="auto",
                        help="cProfile a 100k-line subset: when a target is missed (auto), always, or never")
    parser.add_argument("--ref", help="benchmark this commit (git archive) instead of the working tree as it is")
    parser.add_argument("--render", action="store_true",
                        help="only re-write RESULTS.md from the last run's saved numbers (e.g. after editing "
                             "benchmarks/analysis.md)")
    parser.add_argument("--monorepo", type=Path, default=DEFAULT_MONOREPO,
                        help="the real monorepo reported beside the two corpora (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="rounds of proplint / flake8 / ruff per project in the side-by-side section")
    parser.add_argument("--projects-only", action="store_true",
                        help="only the side-by-side section (both corpora and the monorepo, with growth): "
                             "measured and written into RESULTS.md between its markers")
    parser.add_argument("--skip-projects", action="store_true", help="leave out the side-by-side section")
    args = parser.parse_args()
    if args.render:
        return render_saved()
    if not Path(TIME).exists():
        raise SystemExit(f"{TIME} is needed (GNU time; apt-get install time)")
    began = time.perf_counter()
    load_before = os.getloadavg()
    source, digest = snapshot_source(args.ref)
    state = repo_state(digest, args.ref)
    ensure_envs(source)
    files, lines, packages = prepare_corpus()
    smoke_test()
    print(f"proplint: {state}", flush=True)
    print(f"corpus: {files:,} files, {lines:,} lines", flush=True)
    if args.projects_only:
        data = measure_projects(args.monorepo.resolve(), args.rounds)
        data.update(date=dt.date.today().isoformat(), repo_state=state)
        PROJECTS_SAVED.write_text(json.dumps(data, indent=1))
        write_projects_block(data)
        return 0
    versions = tool_versions()

    proplint = _bin(VENV, "proplint")
    flake8 = _bin(VENV, "flake8")
    flake8_alone = _bin(VENV_NOPLUGIN, "flake8")
    ruff = _bin(VENV, "ruff")
    cache = CORPUS / ".proplint_cache"
    rows: list[tuple[Measurement, str]] = []

    print("whole corpus:", flush=True)
    shutil.rmtree(cache, ignore_errors=True)
    cold = measure("proplint check --no-cache (cold)", [proplint, "check", "--no-cache", "."], CORPUS)
    rows.append((cold, "default jobs (one per core = 2); no cache read or written"))
    shutil.rmtree(cache, ignore_errors=True)
    single = measure("proplint check --jobs 1 (empty cache)", [proplint, "check", "--jobs", "1", "."], CORPUS)
    rows.append((single, "one process, cold; also writes `.proplint_cache/` (index + results) for row 3"))
    warm = measure("proplint check (warm: second run)", [proplint, "check", "."], CORPUS)
    rows.append((warm, "nothing changed since the previous run"))
    f8_prp = measure("flake8 --select PRP (plugin)", [flake8, "--isolated", "--select", "PRP", "."], CORPUS)
    rows.append((f8_prp, "`.venv`; pycodestyle/pyflakes still run (select filters reports); index cache warm"))
    f8_with = measure("flake8 (defaults, plugin installed)", [flake8, "--isolated", "."], CORPUS)
    rows.append((f8_with, "`.venv`: default checks + PRP; jobs=auto (2)"))
    f8_alone = measure("flake8 (defaults, no plugin)", [flake8_alone, "--isolated", "."], CORPUS)
    rows.append((f8_alone, "`.venv-noplugin`: flake8's own cost; jobs=auto (2)"))
    ruff_default = measure("ruff check --no-cache (default rules)", [ruff, "check", "--isolated", "--no-cache", "."],
                           CORPUS)
    rows.append((ruff_default, "multi-threaded (one process)"))
    ruff_all = measure("ruff check --no-cache --select ALL",
                       [ruff, "check", "--isolated", "--no-cache", "--select", "ALL", "."], CORPUS)
    rows.append((ruff_all, "every rule, multi-threaded (one process)"))
    failed = [m for m, _ in rows if not m.ok]

    print("prefilter selectivity and index build time:", flush=True)
    pf = prefilter_stats()
    if pf["files"] != files:
        print(f"  note: proplint sees {pf['files']} files, the corpus has {files}", flush=True)

    print("editor latency:", flush=True)
    editor = []
    for target, parsed in ((1000, True), (1000, False), (5000, True)):
        n, rel = pick_file([tuple(s) for s in pf["sizes"]], target, parsed)
        with_med, _ = median_wall(f"flake8 {rel} (plugin)", [flake8, "--isolated", rel], CORPUS, args.repeat)
        without_med, _ = median_wall(f"flake8 {rel} (no plugin)", [flake8_alone, "--isolated", rel], CORPUS,
                                     args.repeat)
        editor.append({"file": rel, "lines": n, "project": "in corpus", "with": with_med, "without": without_med,
                       "parsed": parsed})
        alone = Path(tempfile.mkdtemp(prefix="proplint-bench-file-"))
        try:
            (alone / "pyproject.toml").write_text(CORPUS_PYPROJECT)
            copy = alone / Path(rel).name
            shutil.copyfile(CORPUS / rel, copy)
            with_med, _ = median_wall(f"flake8 {copy.name} standalone (plugin)", [flake8, "--isolated", copy.name],
                                      alone, args.repeat)
            without_med, _ = median_wall(f"flake8 {copy.name} standalone (no plugin)",
                                         [flake8_alone, "--isolated", copy.name], alone, args.repeat)
        finally:
            shutil.rmtree(alone, ignore_errors=True)
        editor.append({"file": rel, "lines": n, "project": "standalone", "with": with_med, "without": without_med,
                       "parsed": parsed})

    # targets
    targets, missed = [], False

    def add(ok: bool, text: str) -> None:
        nonlocal missed
        missed = missed or not ok
        targets.append(_target(ok, text))

    add(cold.wall <= f8_alone.wall / 2,
        f"cold `proplint check` ≤ half of plain flake8's wall time: {cold.wall:.1f} s vs "
        f"{f8_alone.wall:.1f} s / 2 = {f8_alone.wall / 2:.1f} s "
        f"(ratio {cold.wall / f8_alone.wall:.2f}; gap {cold.wall - f8_alone.wall / 2:+.1f} s). CPU time: "
        f"{cold.cpu:.1f} s vs {f8_alone.cpu:.1f} s (ratio {cold.cpu / f8_alone.cpu:.2f})")
    add(warm.wall < 1.0, f"warm re-check < 1 s: {warm.wall:.2f} s (gap {warm.wall - 1.0:+.2f} s)")
    overhead = (f8_with.wall - f8_alone.wall) / f8_alone.wall
    add(overhead < 0.10,
        f"the flake8 plugin adds < 10% to flake8's own time: flake8 with the plugin {f8_with.wall:.1f} s vs "
        f"without {f8_alone.wall:.1f} s = {overhead:+.1%} (gap {overhead * 100 - 10:+.1f} points; "
        f"`--select PRP` with the plugin: {f8_prp.wall:.1f} s). CPU time: {f8_with.cpu:.1f} s vs "
        f"{f8_alone.cpu:.1f} s = {(f8_with.cpu - f8_alone.cpu) / f8_alone.cpu:+.1%}")
    for e in editor:
        if e["lines"] < 2000:
            delta = (e["with"] - e["without"]) * 1000
            kind = "parsed" if e.get("parsed", True) else "ruled out by the prefilter"
            add(delta < 150, f"a {e['lines']:,}-line file costs the editor < 150 ms more than flake8 alone "
                             f"({kind}, {e['project']}): {delta:+.0f} ms (gap {delta - 150:+.0f} ms)")
    peak = max((m.max_rss_mib for m, _ in rows[:4]), default=0)
    tree = max((m.tree_rss_mib for m, _ in rows[:4]), default=0)
    add(peak < 500, f"peak memory < 500 MiB (proplint rows 1-4): largest process {peak:.0f} MiB, "
                    f"sampled process-tree sum {tree:.0f} MiB (gap {peak - 500:+.0f} MiB)")

    if not args.skip_projects:
        data = measure_projects(args.monorepo.resolve(), args.rounds)
        data.update(date=dt.date.today().isoformat(), repo_state=state)
        PROJECTS_SAVED.write_text(json.dumps(data, indent=1))

    profile = None
    if args.profile == "always" or (args.profile == "auto" and missed):
        print("profile:", flush=True)
        profile = profile_subset()

    ctx = {
        "date": dt.date.today().isoformat(),
        "machine": f"{os.cpu_count()} cores, {platform.machine()}, {platform.system()} {platform.release()}",
        "repo_state": state,
        "files": files, "lines": lines, "packages": packages, "rows": rows, "editor": editor,
        "prefilter": pf, "targets": targets, "profile": profile, "versions": versions, "repeat": args.repeat,
        "total_minutes": (time.perf_counter() - began) / 60,
        "load": [list(load_before), list(os.getloadavg())],
    }
    saved = dict(ctx, rows=[(m.__dict__ | {"cwd": str(m.cwd)}, note) for m, note in rows],
                 prefilter={k: v for k, v in pf.items() if k != "sizes"})
    SAVED.write_text(json.dumps(saved, indent=1, default=str))
    render(ctx)
    if failed:
        print("failed: " + ", ".join(m.label for m in failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
