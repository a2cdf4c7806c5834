"""Files -> prefilter -> parse -> one traversal for all checks -> findings (positions, noqa, ignores).

What a run checks with is `settings.Settings`. Cost model (measured, see the design notes in the issues): LibCST's parse is ~7x `ast.parse`, its
position provider ~2x the parse, and most files of a service touch none of the APIs we check. So the
rules' needs (`core/needs.py`: the words a file must contain) decide from the bytes whether a file is
parsed at all, only the checks with a rule that can still report are run (and only those rules), and
positions are computed only for files with findings.
"""

from __future__ import annotations

import codecs
import hashlib
import sys
import threading
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider
from libcst.metadata.position_provider import PositionProvidingCodegenState

from proplint.config import real_path
from proplint.core.ast_names import module_name_for
from proplint.core.context import AstFile, Check, Dispatcher, FileContext
from proplint.core.relevance import path_kind, shadowed
from proplint.core.rule import Finding
from proplint.after_checks import after_checks
from proplint.noqa import apply_noqa
from proplint.prescreen import screen
from proplint.settings import Settings


#: Files larger than this are not given to LibCST (it is super-linear on some shapes).
MAX_BYTES = 5_000_000
#: Recursion limit and stack size for the tree walk (deep but legal code must still be analysed).
WALK_RECURSION_LIMIT = 6000
WALK_STACK_BYTES = 512 * 1024 * 1024
#: Positions (LibCST's code generation, recursive) of a tree deeper than this are computed on the deep
#: thread: at the default recursion limit they fail from about 280 levels of code nodes (measured).
LOCATE_DEPTH = 150


def relpath_of(path: Path, root: Path) -> str:
    try:
        return real_path(path).relative_to(real_path(root)).as_posix()
    except ValueError:
        return path.as_posix()


@dataclass
class Analysis:
    path: str
    source: bytes
    module: cst.Module | None = None
    findings: list[Finding] = field(default_factory=list)
    parsed: bool = False
    #: the codes judged on this file (None: the file is out of scope, nothing is reported on it)
    enabled: frozenset[str] | None = None


def _failure(path: str, message: str, line: int = 1, column: int = 1) -> Finding:
    return Finding("PRP001", message, path, line, column, line, column)


def _python_syntax_error(source: bytes | str) -> tuple[str, int, int] | None:
    """Python's own message and position for code LibCST cannot parse (where an editor and `python`
    put it), or None when Python compiles it."""
    import ast
    import warnings

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, "<proplint>", "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as exc:
        return exc.msg, exc.lineno or 1, exc.offset or 1
    except (ValueError, RecursionError, MemoryError):
        return None
    return None


def _walk(ctx: FileContext, checks: list[Check]) -> None:
    Dispatcher(ctx, checks).walk(ctx.module)


#: codecs in which a character's bytes never hold an ASCII byte that is not that character
_ASCII_SAFE = frozenset({"utf-8", "utf-8-sig", "ascii", "iso8859-1"})


def _may_hold(source: bytes | str, raw: bytes, module: cst.Module, token: str) -> bool:
    """Whether the module's text can hold the ASCII `token` (False only when it certainly does not)."""
    if isinstance(source, str):
        return token in source
    try:
        safe = codecs.lookup(module.encoding).name in _ASCII_SAFE
    except LookupError:
        safe = False
    return not safe or token.encode() in raw


def run_deep(fn):
    """Run `fn` with a deeper recursion limit on a thread with a big stack (deep but legal code).

    Raising the limit blindly turns RecursionError into a segfault near 1,200 frames on the default
    8 MB stack; with a 512 MB stack a limit of 6,000 is safe, and the pre-screen bounds what gets here.
    """
    if threading.current_thread().name == "proplint-deep-walk":
        return fn()  # already there
    outcome: list = []

    def target() -> None:
        old = sys.getrecursionlimit()
        sys.setrecursionlimit(WALK_RECURSION_LIMIT)
        try:
            outcome.append((True, fn()))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            outcome.append((False, exc))
        finally:
            sys.setrecursionlimit(old)

    with _DEEP_LOCK:
        old_size = threading.stack_size()
        threading.stack_size(WALK_STACK_BYTES)
        try:
            t = threading.Thread(target=target, name="proplint-deep-walk")
            t.start()
        finally:
            threading.stack_size(old_size)
    t.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


_DEEP_LOCK = threading.Lock()


def analyse(source: bytes | str, path: str, relpath: str, settings: Settings, noqa: bool = True) -> Analysis:
    """Findings for one file's bytes, or its already-decoded text (editors, flake8). No I/O.

    With `noqa`, `# noqa` comments (line and file level) apply, and PRP002 (when enabled) reports the
    ones that suppress nothing."""
    result = _analyse(source, path, relpath, settings)
    if noqa:
        encoding = "utf-8" if isinstance(source, str) or result.module is None else result.module.encoding
        judge = result.enabled if result.enabled and "PRP002" in result.enabled else None
        result.findings = apply_noqa(result.source, encoding, result.findings, judge, path)
    return result


def _analyse(source: bytes | str, path: str, relpath: str, settings: Settings) -> Analysis:
    text_input = isinstance(source, str)
    raw = source.encode("utf-8", "surrogateescape") if text_input else source
    result = Analysis(path, raw)
    config = settings.config
    ignored_here = config.ignored_for(relpath)
    enabled = frozenset(c for c in settings.enabled if not any(c.startswith(i) for i in ignored_here))
    if not enabled or (config.scope == "application" and (
            path_kind(relpath) or shadowed(relpath, settings.index.files))):
        return result
    result.enabled = enabled
    module_name = module_name_for(relpath, settings.index.src)
    possible = settings.possible(raw, module_name) & enabled
    if not possible - {"PRP001"}:
        return result
    if len(raw) > MAX_BYTES:
        if "PRP001" in enabled:
            result.findings.append(_failure(path, f"file not checked: larger than {MAX_BYTES // 1_000_000} MB"))
        return result
    reason = screen(source)
    if reason is not None:
        if "PRP001" in enabled:
            result.findings.append(_failure(path, f"file not checked: {reason} is beyond what the parser "
                                                  f"handles safely"))
        return result
    ast_file = None
    gates = settings.gates() if settings.use_prefilter else {}
    if gates and possible - {"PRP001"} <= gates.keys():
        ast_file = AstFile.of(source, raw, relpath, settings.index)
        if ast_file is not None:
            possible = frozenset(c for c in possible if c not in gates or gates[c](ast_file))
            if not possible - {"PRP001"}:
                return result
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as exc:
        if "PRP001" in enabled:
            message, line, column = _python_syntax_error(source) or (
                exc.message, exc.raw_line or 1, (exc.raw_column or 0) + 1)
            result.findings.append(_failure(path, f"cannot parse: {message}", line, column))
        return result
    except (UnicodeDecodeError, LookupError, SyntaxError, ValueError) as exc:
        if "PRP001" in enabled:
            result.findings.append(_failure(path, f"cannot decode: {exc}"))
        return result
    except RecursionError:
        if "PRP001" in enabled:
            result.findings.append(_failure(path, "cannot parse: nesting too deep for the parser"))
        return result
    result.module = module
    result.parsed = True
    checks_here = [c for c, codes in settings.checks() if codes & possible]

    def walk_and_locate() -> list[Finding]:
        ctx = FileContext(path, relpath, module, module_name, config, settings.catalog,
                          settings.index, possible, ast_file, walrus=_may_hold(source, raw, module, ":="))
        _walk(ctx, [c(ctx) for c in checks_here])
        if ctx.findings:
            if ctx.deepest > LOCATE_DEPTH:  # LibCST's code generation recurses: give it the deep thread
                run_deep(lambda: _locate(module, ctx.findings))
            else:
                _locate(module, ctx.findings)
        return ctx.findings

    try:
        try:
            findings = walk_and_locate()
        except RecursionError:
            findings = run_deep(walk_and_locate)
    except RecursionError:
        if "PRP001" in enabled:
            result.findings.append(_failure(path, "file not checked: nesting too deep to analyse"))
        return result
    if findings:
        findings = after_checks(findings, source, ast_file, relpath, settings)
    result.findings = findings
    return result


class _Enough(Exception):
    """Every node asked for has its position: the rest of the module's code need not be generated."""


class _StoppingState(PositionProvidingCodegenState):
    """PositionProvider's code generation, stopped once the nodes in `left` (ids) have their positions."""

    left: set[int]

    def after_codegen(self, node) -> None:
        super().after_codegen(node)
        if id(node) in self.left:
            self.left.discard(id(node))
            if not self.left:
                raise _Enough()


class _WantedState(PositionProvidingCodegenState):
    """PositionProvider's positions for the nodes in `wanted` (ids) and their descendants only.

    PositionProvider's pass records a position for every node and splits every token on line breaks; here the
    code before and around the wanted nodes is generated as plain code (a list of tokens), and the line and
    column are brought up to date from those tokens only where a position is recorded: on entering a wanted
    node and inside it. The same tokens give the same line and column (a chunk with a carriage return is read
    token by token, with LibCST's own `_update_position`). Stops once every wanted node is done."""

    wanted: frozenset[int]
    left: set[int]
    inside: int
    done: int

    def add_token(self, value: str) -> None:
        self.tokens.append(value)

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)

    def _sync(self) -> None:
        """`line` and `column` after every token generated so far."""
        end = len(self.tokens)
        if self.done == end:
            return
        chunk = "".join(self.tokens[self.done:end])
        if "\r" in chunk:
            for token in self.tokens[self.done:end]:
                self._update_position(token)
        else:
            breaks = chunk.count("\n")
            if breaks:
                self.line += breaks
                self.column = len(chunk) - chunk.rfind("\n") - 1
            else:
                self.column += len(chunk)
        self.done = end

    def before_codegen(self, node) -> None:
        if id(node) in self.wanted:
            self.inside += 1
        if self.inside:
            self._sync()
            super().before_codegen(node)

    def after_codegen(self, node) -> None:
        if self.inside:
            self._sync()
            super().after_codegen(node)
        if id(node) in self.wanted:
            self.inside -= 1
            self.left.discard(id(node))
            if not self.left:
                raise _Enough()

    @contextmanager
    def record_syntactic_position(self, node, *, start_node=None, end_node=None):
        if not self.inside:  # no wanted node here: its position is not asked for
            yield
            return
        self._sync()
        with super().record_syntactic_position(node, start_node=start_node, end_node=end_node):
            try:
                yield
            finally:
                self._sync()


def _positions(module: cst.Module, wanted: set[int] | None = None):
    """Node -> CodeRange, from PositionProvider's own pass (one code generation of the module) without
    MetadataWrapper's extra visit of every node, which is half the cost. With `wanted` (node ids), only those
    nodes and their descendants get a position, the code around them is generated as plain code (a quarter of
    the cost), and the code generation stops once they are done: the code after the last finding is never
    generated. The documented route is kept as the fallback should LibCST's provider change shape."""
    try:
        provider = PositionProvider()
        if wanted:
            state = _WantedState(default_indent=module.default_indent, default_newline=module.default_newline,
                                 provider=provider)
            state.wanted, state.left, state.inside, state.done = frozenset(wanted), set(wanted), 0, 0
        else:
            state = _StoppingState(default_indent=module.default_indent, default_newline=module.default_newline,
                                   provider=provider)
            state.left = set()
        try:
            module._codegen(state)
        except Exception:  # noqa: BLE001 - after _Enough, a half-generated ancestor may fail as it unwinds
            if not wanted or state.left:
                raise
        return provider._computed
    except AttributeError:  # pragma: no cover - a LibCST without these internals
        return MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)


def _locate(module: cst.Module, findings: list[Finding]) -> None:
    positions = _positions(module, {id(f.node) for f in findings if f.node is not None})
    for f in findings:
        rng = positions.get(f.node) if f.node is not None else None
        if rng is not None:
            f.line, f.column = rng.start.line, rng.start.column + 1
            f.end_line, f.end_column = rng.end.line, rng.end.column + 1


def read_source(path: Path) -> bytes | str:
    """The file's bytes, or a message saying why it could not be read."""
    try:
        if path.is_dir():
            return "is a directory"
        return path.read_bytes()
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"


@dataclass
class Checked:
    """One file's findings, and the (mtime, size) stamp and content hash of exactly the bytes checked
    (what the result cache stores, so it never pairs findings with content they were not made from)."""

    findings: list[Finding]
    stamp: list[int] | None = None
    digest: str | None = None


def check_file(path: Path, settings: Settings) -> list[Finding]:
    return checked_file(path, settings).findings


def checked_file(path: Path, settings: Settings) -> Checked:
    try:
        st = path.stat()
        stamp = [st.st_mtime_ns, st.st_size]
    except OSError:
        stamp = None
    shown = str(path)
    source = read_source(path)
    if isinstance(source, str):
        return Checked([_failure(shown, source)] if "PRP001" in settings.enabled else [])
    return Checked(check_source(path, shown, source, settings), stamp, hashlib.sha256(source).hexdigest())


def check_source(path: Path, shown: str, source: bytes, settings: Settings) -> list[Finding]:
    """One file's findings from its bytes, within the CPU-time budget; a failure is a PRP001 finding, never
    an exception. The findings hold no tree (picklable): a fix is recomputed from the source when asked."""
    relpath = relpath_of(path, settings.config.root)
    try:
        with time_budget(FILE_TIME_BUDGET):
            analysis = analyse(source, shown, relpath, settings)
            findings = analysis.findings
            if settings.want_edits and analysis.module is not None:
                from proplint.core.units import importable_tops
                from proplint.edits import attach_edits

                attach_edits(analysis.module, findings, importable_tops(settings.index))
    except BudgetExceeded:
        return [_failure(shown, f"file not checked: took more than {FILE_TIME_BUDGET} s of CPU time")]
    except RecursionError:
        return [_failure(shown, "file not checked: nesting too deep to analyse")]
    except Exception as exc:  # a bug in a check must not stop the run
        return [_failure(shown, f"internal error while checking ({type(exc).__name__}: {exc}); please report it")]
    for f in findings:
        f.node = None
        if f.fix is not None:
            f.fix.replacements = []
    return findings


#: CPU seconds one file may take (parse, checks, positions, edit previews) before it is reported and skipped.
FILE_TIME_BUDGET = 60


class BudgetExceeded(BaseException):
    """Not an `Exception`: no `except Exception` of a check or of the edit preview may swallow it."""


class time_budget:
    """Raise BudgetExceeded in this thread after `seconds` of the process's CPU time (user and system, of
    every thread: `ITIMER_PROF`), so that whether a file is checked never depends on the machine's load.
    Main thread of a process only; else a no-op.

    The interruption happens when control returns to Python code, so it bounds the checks and the
    position pass; the native parser is kept within bounds by the pre-screen instead.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.armed = False

    def _expire(self, signum, frame):
        raise BudgetExceeded()

    def __enter__(self):
        import signal

        if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGPROF, self._expire)
            signal.setitimer(signal.ITIMER_PROF, self.seconds)
            self.armed = True
        return self

    def __exit__(self, *exc):
        if self.armed:
            import signal

            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, self.previous)
        return False


# --- running many files ------------------------------------------------------------------------------

_WORKER_SETTINGS: Settings | None = None


def _init_worker(settings: Settings) -> None:
    global _WORKER_SETTINGS
    _WORKER_SETTINGS = settings


def _check_chunk(paths: list[Path]) -> list[Checked]:
    assert _WORKER_SETTINGS is not None
    return [checked_file(p, _WORKER_SETTINGS) for p in paths]


def _run_pool(todo: list[Path], settings: Settings, jobs: int, progress=None) -> list[tuple[Path, Checked]]:
    """Check files in worker processes. A worker that dies (a crash in native code) is replaced: the
    files of its chunk are retried one by one in a fresh pool, and a file that kills a worker again is
    reported as PRP001 while the run goes on."""
    from concurrent.futures.process import BrokenProcessPool

    size = max(1, min(64, len(todo) // (jobs * 4) or 1))
    chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
    done: list[tuple[Path, Checked]] = []
    retry: list[Path] = []
    with ProcessPoolExecutor(max_workers=min(jobs, len(chunks)), initializer=_init_worker,
                             initargs=(settings,)) as pool:
        futures = [(chunk, pool.submit(_check_chunk, chunk)) for chunk in chunks]
        for chunk, future in futures:
            try:
                done.extend(zip(chunk, future.result()))
            except BrokenProcessPool:
                retry.extend(chunk)
            if progress is not None:
                progress(len(chunk))
    for path in retry:
        with ProcessPoolExecutor(max_workers=1, initializer=_init_worker, initargs=(settings,)) as pool:
            try:
                done.append((path, pool.submit(_check_chunk, [path]).result()[0]))
            except BrokenProcessPool:
                done.append((path, Checked([_failure(str(path), "file not checked: the checker process "
                                                                "crashed on it; please report it")])))
    return done


def default_jobs() -> int:
    import os

    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover
        return max(1, os.cpu_count() or 1)


def check_paths(files: list[Path], settings: Settings, jobs: int | None = None,
                use_cache: bool = False, progress=None) -> list[Finding]:
    """Findings for many files: cached results first, the rest in a process pool (in chunks).
    `progress(n)`, if given, is called as files are done (a progress bar)."""
    from proplint.cache import ResultCache

    jobs = default_jobs() if not jobs else jobs
    cache = ResultCache(settings, enabled=use_cache)
    findings: list[Finding] = []
    todo: list[Path] = []
    for p in files:
        hit = cache.get(p)
        if hit is None:
            todo.append(p)
        else:
            findings.extend(hit)
    if progress is not None and len(todo) < len(files):
        progress(len(files) - len(todo))
    pooled = not (jobs <= 1 or len(todo) < 8)
    if not pooled:
        results = ((p, checked_file(p, settings)) for p in todo)
    else:
        results = _run_pool(todo, settings, jobs, progress)
    for p, checked in results:
        cache.put(p, checked)
        findings.extend(checked.findings)
        if progress is not None and not pooled:
            progress(1)
    cache.save()
    findings.sort(key=lambda f: f.sort_key)
    return findings
