"""`proplint server`: a language server over stdio (pygls), a thin adapter over the worker process.

- Diagnostics on open and save (on change too with the initialization option `runOnChange`, debounced by
  `debounceMs`); a result for a version of the document that is no longer current is dropped.
- Code actions: a quick fix per finding with a fix (the edit is computed in `codeAction/resolve`, one
  finding at a time, verified like `proplint fix`), `source.fixAll.proplint` (the safe fixes), and
  "ignore for this line" (a `# noqa: CODE`, added to one already there).
- Hover on a code of a `# noqa:` comment: the rule's documentation.
- A change of a `*.py`, `pyproject.toml` or catalog file (`workspace/didChangeWatchedFiles`) rebuilds the
  projects' settings in the background and re-checks every open document.

Every analysis runs in one worker process (`proplint.server.worker`); if it dies, it is restarted and the
file it died on gets a PRP001 diagnostic.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from proplint import __version__
from proplint.add_noqa import line_edit
from proplint.server import worker

log = logging.getLogger("proplint.server")

FIX_ALL = "source.fixAll.proplint"
#: the files whose change can change a finding elsewhere: sources, configuration, catalogs
WATCHED = ("**/*.py", "**/pyproject.toml", "**/*.toml")
NOQA_CODE = re.compile(r"#\s*noqa\s*:\s*(?:[A-Z]+[0-9]+[,\s]*)+", re.IGNORECASE)
CODE = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def _quiet_worker() -> None:
    """In the worker: stdout is the JSON-RPC stream of the server; anything printed goes to stderr."""
    os.dup2(2, 1)
    sys.stdout = sys.stderr


class Worker:
    """One analysis process, one job at a time (the worker is single-threaded anyway), restarted on a crash."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        if self.pool is None:
            self.pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                            initializer=_quiet_worker)

    async def call(self, fn, *args):
        """fn(*args) in the worker; raises BrokenProcessPool if the worker died on it (and restarts it)."""
        async with self.lock:
            self.start()
            try:
                return await asyncio.get_running_loop().run_in_executor(self.pool, fn, *args)
            except BrokenProcessPool:
                self.pool.shutdown(wait=False, cancel_futures=True)
                self.pool = None
                raise

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


class ProplintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("proplint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.worker = Worker()
        self.options: dict[str, Any] = {"runOnChange": False, "debounceMs": 300, "unsafeFixes": False}
        #: uri -> (version, diagnostics as published)
        self.published: dict[str, tuple[int | None, list[dict[str, Any]]]] = {}
        self.timers: dict[str, asyncio.TimerHandle] = {}
        self.changed_files: set[str] = set()

    # --- helpers ----------------------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        return str(self.workspace.position_encoding or "utf-16")

    def document(self, uri: str):
        return self.workspace.text_documents.get(uri)

    def later(self, key: str, delay: float, coro_fn) -> None:
        """Run `coro_fn()` after `delay` s, replacing one already waiting under `key` (debounce)."""
        old = self.timers.pop(key, None)
        if old is not None:
            old.cancel()
        loop = asyncio.get_running_loop()
        self.timers[key] = loop.call_later(delay, lambda: (self.timers.pop(key, None),
                                                           asyncio.ensure_future(coro_fn())))

    async def check(self, uri: str) -> None:
        """Check the open document and publish, unless it changed (or closed) meanwhile."""
        doc = self.document(uri)
        path = to_fs_path(uri) if doc is not None else None
        if doc is None or path is None:
            return
        version, text = doc.version, doc.source
        try:
            found = await self.worker.call(worker.diagnose, path, text, self.encoding)
        except BrokenProcessPool:
            found = worker.failure("file not checked: the checker process crashed on it; please report it")
        except Exception as exc:  # noqa: BLE001 - never take the server down
            found = worker.failure(f"internal error while checking ({type(exc).__name__}: {exc})")
        current = self.document(uri)
        if current is None or current.version != version:
            return  # outdated: a newer check is on its way
        self.published[uri] = (version, found)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=[_diagnostic(d) for d in found]))

    async def quietly(self, fn, *args):
        """fn(*args) in the worker, for work nobody waits for: a failure is logged, not raised."""
        try:
            return await self.worker.call(fn, *args)
        except Exception as exc:  # noqa: BLE001
            log.warning("%s failed: %s", fn.__name__, exc)
            return None

    async def recheck_all(self) -> None:
        for uri in list(self.workspace.text_documents):
            await self.check(uri)

    async def reindex(self) -> None:
        changed, self.changed_files = sorted(self.changed_files), set()
        await self.quietly(worker.reindex, changed)
        await self.recheck_all()

    async def fixed_edit(self, uri: str, version: int | None, target: dict | None, unsafe: bool):
        """A WorkspaceEdit applying one finding's fix (or all safe fixes), or None if it does not verify or
        the document changed since the action was offered."""
        doc = self.document(uri)
        if doc is None or (version is not None and doc.version != version):
            return None
        path = to_fs_path(uri)
        try:
            result = await self.worker.call(worker.fix, path, doc.source, target, unsafe)
        except Exception as exc:  # noqa: BLE001
            self.window_log_message(types.LogMessageParams(types.MessageType.Warning, f"proplint: {exc}"))
            return None
        if result["text"] is None:
            self.window_log_message(types.LogMessageParams(types.MessageType.Warning,
                                                           f"proplint: {result['error']}"))
            return None
        current = self.document(uri)
        if current is None or current.version != doc.version:
            return None
        return self.workspace_edit(uri, doc.version, text_edits(doc.source, result["text"], self.encoding))

    def workspace_edit(self, uri: str, version: int | None, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
        caps = self.client_capabilities.workspace
        if caps and caps.workspace_edit and caps.workspace_edit.document_changes:
            return types.WorkspaceEdit(document_changes=[types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                edits=edits)])
        return types.WorkspaceEdit(changes={uri: edits})

    def resolves_edits(self) -> bool:
        """The client can ask for an action's edit later (`codeAction/resolve`)."""
        td = self.client_capabilities.text_document
        support = td and td.code_action and td.code_action.resolve_support
        return bool(support and "edit" in support.properties)


def _diagnostic(d: dict[str, Any]) -> types.Diagnostic:
    fix = d["fix"]
    message = d["message"] + (" (fixable)" if fix == "safe" else " (unsafe fix)" if fix else "")
    return types.Diagnostic(
        range=types.Range(types.Position(**d["start"]), types.Position(**d["end"])),
        message=message, severity=types.DiagnosticSeverity.Warning, code=d["code"], source="proplint",
        code_description=types.CodeDescription(href=d["href"]),
        data={"fix": fix, "fixMessage": d["fix_message"], "line": d["line"], "column": d["column"]})


def text_edits(old: str, new: str, encoding: str) -> list[types.TextEdit]:
    """Whole-line edits turning `old` into `new` (lines as LSP counts them), so the editor keeps the cursor
    and the unchanged text."""
    import difflib

    a = re.split(r"(?<=\r\n)|(?<=\n)(?<!\r\n)|(?<=\r)(?!\n)", old)
    b = re.split(r"(?<=\r\n)|(?<=\n)(?<!\r\n)|(?<=\r)(?!\n)", new)
    a = [x for x in a if x]
    b = [x for x in b if x]
    edits = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i2 == len(a) and a and not a[-1].endswith(("\n", "\r")):  # the last line has no line break
            end = types.Position(len(a) - 1, worker.units(a[-1], encoding))
        else:
            end = types.Position(i2, 0)
        edits.append(types.TextEdit(types.Range(types.Position(i1, 0), end), "".join(b[j1:j2])))
    return edits


def _ours(diagnostics: list[types.Diagnostic]) -> list[types.Diagnostic]:
    return [d for d in diagnostics if d.source == "proplint" and isinstance(d.data, dict)]


def make_server() -> ProplintServer:
    server = ProplintServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: ProplintServer, params: types.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict):
            ls.options.update({k: v for k, v in options.items() if k in ls.options})
        ls.worker.start()

    @server.feature(types.INITIALIZED)
    async def initialized(ls: ProplintServer, params: types.InitializedParams) -> None:
        # start the worker and load the workspace's project now, not on the first open document
        folders = ls.workspace.folders.values() if ls.workspace.folders else []
        roots = [to_fs_path(f.uri) for f in folders] or [ls.workspace.root_path]
        for root in roots:
            if root:
                asyncio.ensure_future(ls.quietly(worker.warm, os.path.join(root, "__probe__.py")))
        ws = ls.client_capabilities.workspace
        if ws and ws.did_change_watched_files and ws.did_change_watched_files.dynamic_registration:
            await ls.client_register_capability_async(types.RegistrationParams(registrations=[types.Registration(
                id="proplint-watch", method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=types.DidChangeWatchedFilesRegistrationOptions(
                    watchers=[types.FileSystemWatcher(glob_pattern=g) for g in WATCHED]))]))

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    async def did_open(ls: ProplintServer, params: types.DidOpenTextDocumentParams) -> None:
        await ls.check(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    async def did_save(ls: ProplintServer, params: types.DidSaveTextDocumentParams) -> None:
        await ls.check(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ProplintServer, params: types.DidChangeTextDocumentParams) -> None:
        if ls.options.get("runOnChange"):
            uri = params.text_document.uri
            ls.later(uri, float(ls.options.get("debounceMs", 300)) / 1000, lambda: ls.check(uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ProplintServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.published.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                            diagnostics=[]))

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: ProplintServer, params: types.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            path = to_fs_path(change.uri)
            if path and (path.endswith(".py") or path.endswith(".toml")):
                ls.changed_files.add(path)
        if ls.changed_files:
            ls.later("<reindex>", 0.2, ls.reindex)

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
        code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll, FIX_ALL],
        resolve_provider=True))
    async def code_action(ls: ProplintServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        doc = ls.document(uri)
        if doc is None:
            return None
        only = params.context.only
        wants = (lambda kind: not only or any(kind == k or kind.startswith(f"{k}.") for k in only))
        actions: list[types.CodeAction] = []
        version = doc.version
        if wants(types.CodeActionKind.QuickFix):
            for d in _ours(params.context.diagnostics):
                if d.data.get("fix"):
                    unsafe = d.data["fix"] != "safe"
                    actions.append(types.CodeAction(
                        title=f"proplint: {d.data.get('fixMessage') or 'fix'} ({d.code}{', unsafe' if unsafe else ''})",
                        kind=types.CodeActionKind.QuickFix, diagnostics=[d], is_preferred=not unsafe,
                        data={"uri": uri, "version": version, "code": d.code, "line": d.data["line"],
                              "column": d.data["column"], "unsafe": unsafe}))
                edit = _noqa_edit(ls, doc, d)
                if edit is not None:
                    actions.append(types.CodeAction(title=f"proplint: ignore {d.code} for this line",
                                                    kind=types.CodeActionKind.QuickFix, diagnostics=[d], edit=edit))
        safe = any(d.get("fix") == "safe" for d in ls.published.get(uri, (None, []))[1])
        if safe and (wants(FIX_ALL) and only or not only):
            actions.append(types.CodeAction(title="proplint: fix all safe fixes", kind=FIX_ALL,
                                            data={"uri": uri, "version": version, "all": True}))
        if not ls.resolves_edits():  # the client cannot ask later: compute the edits now
            for action in actions:
                if action.edit is None and action.data:
                    await _resolve(ls, action)
        return actions

    @server.feature(types.CODE_ACTION_RESOLVE)
    async def code_action_resolve(ls: ProplintServer, action: types.CodeAction) -> types.CodeAction:
        return await _resolve(ls, action)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: ProplintServer, params: types.HoverParams) -> types.Hover | None:
        doc = ls.document(params.text_document.uri)
        if doc is None or params.position.line >= len(doc.lines):
            return None
        line = doc.lines[params.position.line]
        column = doc.position_from_client_units(params.position).character
        for match in NOQA_CODE.finditer(line):
            for code in CODE.finditer(match.group(0)):
                lo, hi = match.start() + code.start(), match.start() + code.end()
                if lo <= column <= hi:
                    try:
                        text = await ls.worker.call(worker.explain, code.group(0))
                    except Exception:  # noqa: BLE001
                        return None
                    if text is None:
                        return None
                    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                                       range=types.Range(types.Position(params.position.line, 0),
                                                         types.Position(params.position.line, 0)))
        return None

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: ProplintServer, params: Any) -> None:
        ls.worker.stop()

    return server


async def _resolve(ls: ProplintServer, action: types.CodeAction) -> types.CodeAction:
    data = action.data if isinstance(action.data, dict) else {}
    uri = data.get("uri")
    if not uri:
        return action
    if data.get("all"):
        action.edit = await ls.fixed_edit(uri, data.get("version"), None, bool(ls.options.get("unsafeFixes")))
    else:
        target = {"code": data["code"], "line": data["line"], "column": data["column"]}
        action.edit = await ls.fixed_edit(uri, data.get("version"), target, bool(data.get("unsafe")))
    return action


def _noqa_edit(ls: ProplintServer, doc, d: types.Diagnostic) -> types.WorkspaceEdit | None:
    where = line_edit(doc.source, int(d.data.get("line") or d.range.start.line + 1), str(d.code))
    if where is None:
        return None
    line, old, new = where
    end = types.Position(line - 1, worker.units(old, ls.encoding))
    return ls.workspace_edit(doc.uri, doc.version,
                             [types.TextEdit(types.Range(types.Position(line - 1, 0), end), new)])


def serve() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="proplint server: %(message)s")
    make_server().start_io()
