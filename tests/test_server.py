"""`proplint server` end to end: the real server process over stdio, driven by pytest-lsp's LSP client.

Diagnostics on open, a quick fix resolved lazily and applied, fix-all, "ignore for this line", hover on a
noqa code, a stale action refused, bad input answered with a diagnostic, a second file's change
re-publishing the first file's findings, and debounced checks on change. Nothing of the server is mocked.
"""

from __future__ import annotations

import asyncio
import sys

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

from conftest import write_project
from proplint.core.rule import OTEL_DEPENDENCY
from proplint.families.http.factory import FACTORY_EXAMPLE_CONFIG, FACTORY_EXAMPLE_FILE

SERVER = ClientServerConfig(server_command=[sys.executable, "-m", "proplint", "server"])


@pytest_lsp.fixture(config=SERVER)
async def client(lsp_client: LanguageClient):
    registered = []

    @lsp_client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(params: types.RegistrationParams) -> None:  # the server asks to watch project files
        registered.extend(params.registrations)

    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("visual-studio-code")))
    yield
    await lsp_client.shutdown_session()


def apply(text: str, edit: types.WorkspaceEdit, uri: str) -> str:
    """Apply a WorkspaceEdit's text edits to `text` as an editor does (positions: UTF-16, ASCII here)."""
    if edit.document_changes:
        edits = [e for change in edit.document_changes if change.text_document.uri == uri for e in change.edits]
    else:
        edits = edit.changes[uri]
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(p: types.Position) -> int:
        return min(starts[min(p.line, len(lines))] + p.character, len(text))

    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[:offset(e.range.start)] + e.new_text + text[offset(e.range.end):]
    return text


async def next_diagnostics(client: LanguageClient) -> types.PublishDiagnosticsParams:
    """The next publishDiagnostics; a server that never sends it fails the test instead of hanging it."""
    return await asyncio.wait_for(client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), 60)


async def published(client: LanguageClient, uri: str, version: int | None = None) -> list[types.Diagnostic]:
    """Wait for the next diagnostics of `uri` (of that version, if given)."""
    while True:
        params = await next_diagnostics(client)
        if params.uri == uri and (version is None or params.version == version):
            return list(params.diagnostics)


async def replace_and_save(client: LanguageClient, uri: str, text: str, version: int) -> list[types.Diagnostic]:
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
    client.text_document_did_save(types.DidSaveTextDocumentParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    return await published(client, uri, version)


CODE = (
    "import httpx\n\n\n"
    "async def fetch(url):\n"
    "    async with httpx.AsyncClient(timeout=5.0) as client:\n"
    "        return await client.get(url)\n\n\n"
    "async def other(url):\n"
    "    async with httpx.AsyncClient() as client:  # keep this comment\n"
    "        return await client.get(url)\n"
)


@pytest.mark.asyncio
async def test_diagnostics_quick_fix_fix_all_noqa_and_hover(client: LanguageClient, tmp_path):
    project = write_project(tmp_path / "svc", CODE, FACTORY_EXAMPLE_CONFIG, FACTORY_EXAMPLE_FILE, "svc/api.py")
    uri = project.main.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=CODE)))
    found = await published(client, uri, 1)

    assert [(d.code, d.range.start.line) for d in found] == [("PRP101", 4), ("PRP101", 9)]
    first = found[0]
    assert first.range.start.character == 15 and first.range.end.line == 4  # `httpx.AsyncClient(timeout=5.0)`
    assert first.source == "proplint" and first.code_description.href.endswith("/docs/rules/PRP101.md")
    assert first.data["fix"] == "safe" and "(fixable)" in first.message

    # a quick fix per finding, its edit left for codeAction/resolve; "ignore for this line"; fix-all
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=first.range,
        context=types.CodeActionContext(diagnostics=[first])))
    by_title = {a.title: a for a in actions}
    fix = next(a for a in actions if a.kind == types.CodeActionKind.QuickFix and a.data)
    assert fix.edit is None and fix.is_preferred
    noqa = by_title["proplint: ignore PRP101 for this line"]
    fix_all = next(a for a in actions if a.kind == "source.fixAll.proplint")

    resolved = await client.code_action_resolve_async(fix)
    fixed = apply(CODE, resolved.edit, uri)
    assert "async with traced_client(timeout=5.0) as client:" in fixed
    assert "from svc.http import traced_client" in fixed
    assert "httpx.AsyncClient() as client:  # keep this comment" in fixed  # only the one finding is fixed
    assert apply(CODE, noqa.edit, uri).splitlines()[4].endswith("as client:  # noqa: PRP101")

    left = await replace_and_save(client, uri, fixed, 2)
    assert [d.code for d in left] == ["PRP101"] and "# keep" in fixed.splitlines()[left[0].range.start.line]

    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=left[0].range,
        context=types.CodeActionContext(diagnostics=left, only=["source.fixAll.proplint"])))
    assert [a.kind for a in actions] == ["source.fixAll.proplint"]
    all_fixed = apply(fixed, (await client.code_action_resolve_async(actions[0])).edit, uri)
    assert "httpx.AsyncClient" not in all_fixed
    assert "async with traced_client() as client:  # keep this comment" in all_fixed
    assert all_fixed.count("from svc.http import traced_client") == 1

    # "ignore for this line": added after the line's own comment; the finding is then silenced
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=left[0].range,
        context=types.CodeActionContext(diagnostics=left)))
    noqa = next(a for a in actions if a.title == "proplint: ignore PRP101 for this line")
    silenced = apply(fixed, noqa.edit, uri)
    line = left[0].range.start.line
    assert silenced.splitlines()[line].endswith("as client:  # keep this comment  # noqa: PRP101")
    assert await replace_and_save(client, uri, silenced, 3) == []

    # hover on the code in the noqa comment: the rule's documentation
    column = silenced.splitlines()[line].index("PRP101") + 2
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line, column)))
    assert hover.contents.value.startswith("# PRP101 untraced-httpx-async-client")
    nothing = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(0, 2)))
    assert nothing is None

    # an action offered for version 1 is not applied to version 3
    assert (await client.code_action_resolve_async(fix)).edit is None

    assert await replace_and_save(client, uri, all_fixed, 4) == []


@pytest.mark.asyncio
async def test_a_second_file_changes_the_first_files_findings(client: LanguageClient, tmp_path):
    code = "import httpx\n\n\nasync def fetch():\n    client = httpx.AsyncClient()\n    return client\n"
    # OpenTelemetry and its httpx instrumentation are dependencies (the fix that instruments the client is safe)
    deps = {"requirements.txt": OTEL_DEPENDENCY["requirements.txt"] + "opentelemetry-instrumentation-httpx\n"}
    project = write_project(tmp_path / "app", code, {}, {**deps, "app/__init__.py": ""}, "app/client.py")
    uri = project.main.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text=code)))
    found = await published(client, uri, 1)
    assert [(d.code, d.data["fix"]) for d in found] == [("PRP101", "safe")]

    # the project instruments httpx at start-up in another file: the client is traced after all
    telemetry = project.root / "app" / "telemetry.py"
    telemetry.write_text("from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor\n\n\n"
                         "def setup():\n    HTTPXClientInstrumentor().instrument()\n", encoding="utf-8")
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
        uri=telemetry.as_uri(), type=types.FileChangeType.Created)]))
    assert await published(client, uri, 1) == []

    # bad input is a diagnostic, and the server goes on
    broken = project.root / "app" / "broken.py"
    bad = "import httpx\ndef f(:\n    httpx.AsyncClient()\n"
    broken.write_text(bad, encoding="utf-8")
    client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=broken.as_uri(), language_id="python", version=1, text=bad)))
    failed = await published(client, broken.as_uri(), 1)
    assert [d.code for d in failed] == ["PRP001"] and "cannot parse" in failed[0].message

    telemetry.unlink()
    client.workspace_did_change_watched_files(types.DidChangeWatchedFilesParams(changes=[types.FileEvent(
        uri=telemetry.as_uri(), type=types.FileChangeType.Deleted)]))
    assert [d.code for d in await published(client, uri, 1)] == ["PRP101"]


def test_ignore_for_this_line_adds_to_an_existing_noqa():
    from proplint.add_noqa import line_edit as add_noqa

    text = 'a = f(1)  # noqa: PRP2\nb = """\nx"""\nc = 1 + \\\n    2\nd = 1  # noqa\n'
    assert add_noqa(text, 1, "PRP101") == (1, "a = f(1)  # noqa: PRP2", "a = f(1)  # noqa: PRP2, PRP101")
    assert add_noqa(text, 2, "PRP101") == (3, 'x"""', 'x"""  # noqa: PRP101')  # after the string, not in it
    assert add_noqa(text, 4, "PRP101") == (5, "    2", "    2  # noqa: PRP101")  # not after a backslash
    assert add_noqa(text, 1, "PRP203") is None  # PRP2 already silences it
    assert add_noqa(text, 6, "PRP101") is None  # a bare noqa silences everything


@pytest_lsp.fixture(config=SERVER)
async def typing_client(lsp_client: LanguageClient):
    await lsp_client.initialize_session(types.InitializeParams(
        capabilities=client_capabilities("neovim"), initialization_options={"runOnChange": True, "debounceMs": 150}))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio
async def test_on_change_checks_are_debounced_and_report_the_current_version(typing_client: LanguageClient,
                                                                             tmp_path):
    project = write_project(tmp_path / "svc", "x = 1\n", FACTORY_EXAMPLE_CONFIG, FACTORY_EXAMPLE_FILE, "svc/api.py")
    uri = project.main.as_uri()
    typing_client.text_document_did_open(types.DidOpenTextDocumentParams(
        text_document=types.TextDocumentItem(uri=uri, language_id="python", version=1, text="x = 1\n")))
    assert await published(typing_client, uri, 1) == []
    for version, text in ((2, "import httpx\n"), (3, CODE)):  # typed in quick succession, never saved
        typing_client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
    params = await next_diagnostics(typing_client)
    assert params.version == 3 and [d.code for d in params.diagnostics] == ["PRP101", "PRP101"]
