"""`proplint.codemod.ProplintFixCommand` through the real `python -m libcst.tool codemod`."""

from __future__ import annotations

import ast

import libcst as cst
from libcst.codemod import CodemodContext, SkipFile

from proplint.codemod import ProplintFixCommand
from runtime_support import run_python, write_files

RAW = '''\
import httpx


async def fetch(url):
    async with httpx.AsyncClient(timeout=5.0) as client:  # keep this comment
        return await client.get(url)


def untouched():
    return 1
'''

CLEAN = "import os\n\nprint(os.sep)\n"

INSTRUMENT = "HTTPXClientInstrumentor.instrument_client(client)"
IMPORT = "from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor"


def _project(root, requirements: str | None = None):
    files = {
        "pyproject.toml": '[project]\nname = "demo"\nversion = "0"\n\n[tool.proplint]\n',
        "pkg/__init__.py": "",
        "pkg/client.py": RAW,
        "pkg/clean.py": CLEAN,
    }
    # the project uses OpenTelemetry (a fix imports it only then). With no dependency file naming any
    # OpenTelemetry distribution, nothing says whether the httpx instrumentation is installed: the
    # instrument_client fix is offered, unsafe. (Dependency files that name OpenTelemetry but not the
    # instrumentation withhold it: it would import a package that is not installed.)
    if requirements is None:
        files["pkg/telemetry.py"] = "from opentelemetry import trace\n\ntracer = trace.get_tracer(__name__)\n"
    else:
        files["requirements.txt"] = requirements
    write_files(root, files)
    return root / "pkg" / "client.py"


def _assert_instrumented(text: str) -> None:
    assert IMPORT in text, text
    assert INSTRUMENT in text, text
    assert "# keep this comment" in text
    tree = ast.parse(text)
    fetch = next(n for n in tree.body if isinstance(n, ast.AsyncFunctionDef) and n.name == "fetch")
    with_stmt = fetch.body[0]
    assert isinstance(with_stmt, ast.AsyncWith)
    first = with_stmt.body[0]
    assert ast.unparse(first) == INSTRUMENT, "the instrument call must be the first statement of the block"
    compile(text, "client.py", "exec")


def _libcst_tool(root, *args: str):
    return run_python(["-m", "libcst.tool", *args], cwd=root, pythonpath=[root], check=False)


def test_libcst_tool_runs_command_external(tmp_path):
    root = tmp_path / "demo"
    target = _project(root)  # no dependency on the httpx instrumentation: the fix is unsafe
    init = _libcst_tool(root, "initialize", ".")
    assert init.returncode == 0, init.stderr
    config = root / ".libcst.codemod.yaml"
    assert config.is_file()
    # No formatter (black may not be installed; the fix must be byte-exact anyway).
    config.write_text(config.read_text().replace("formatter: ['black', '-']", "formatter: []"))
    assert "formatter: []" in config.read_text()

    # Without --unsafe-fixes nothing is applied (the only fix is unsafe here).
    safe = _libcst_tool(root, "codemod", "-x", "proplint.codemod.ProplintFixCommand", "--no-format",
                        "--hide-progress", "-j", "1", ".")
    assert safe.returncode == 0, safe.stderr
    assert target.read_text() == RAW
    assert "Transformed 0 files" in safe.stderr, safe.stderr

    proc = _libcst_tool(root, "codemod", "-x", "proplint.codemod.ProplintFixCommand", "--unsafe-fixes",
                        "--no-format", "--hide-progress", "-j", "1", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Transformed 1 files successfully" in proc.stderr, proc.stderr
    assert "Failed to codemod 0 files" in proc.stderr
    text = target.read_text()
    _assert_instrumented(text)
    # Only the import and the inserted statement were added; nothing else changed.
    assert text.replace(IMPORT + "\n", "").replace(f"        {INSTRUMENT}\n", "") == RAW
    assert (root / "pkg" / "clean.py").read_text() == CLEAN

    # proplint agrees the file is now clean, and a second codemod run changes nothing.
    check = run_python(["-m", "proplint", "check", "--select", "PRP101", "."], cwd=root, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
    again = _libcst_tool(root, "codemod", "-x", "proplint.codemod.ProplintFixCommand", "--unsafe-fixes",
                         "--no-format", "--hide-progress", "-j", "1", ".")
    assert again.returncode == 0 and "Transformed 0 files" in again.stderr, again.stderr
    assert target.read_text() == text


def test_libcst_tool_finds_command_through_configured_modules(tmp_path):
    """`modules: [proplint]` in .libcst.codemod.yaml lets the command be named `codemod.ProplintFixCommand`."""
    root = tmp_path / "demo"
    target = _project(root, requirements="opentelemetry-instrumentation-httpx>=0.48b0\n")
    (root / ".libcst.codemod.yaml").write_text(
        "generated_code_marker: '@generated'\nformatter: []\nblacklist_patterns: []\n"
        "modules:\n- 'proplint'\nrepo_root: '.'\n"
    )
    # Safe now (the instrumentation is a dependency), so no --unsafe-fixes is needed.
    proc = _libcst_tool(root, "codemod", "codemod.ProplintFixCommand", "--no-format", "--hide-progress", "-j", "1", "pkg")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Transformed 1 files successfully" in proc.stderr, proc.stderr
    _assert_instrumented(target.read_text())


def test_select_excludes_other_rules(tmp_path):
    root = tmp_path / "demo"
    target = _project(root)
    proc = _libcst_tool(root, "codemod", "-x", "proplint.codemod.ProplintFixCommand", "--unsafe-fixes",
                        "--select", "PRP104", "--no-format", "--hide-progress", "-j", "1", ".")
    assert proc.returncode == 0, proc.stderr
    assert target.read_text() == RAW


def test_command_in_process_skips_clean_file(tmp_path):
    root = tmp_path / "demo"
    target = _project(root)
    clean = root / "pkg" / "clean.py"
    command = ProplintFixCommand(CodemodContext(filename=str(clean)), unsafe_fixes=True)
    try:
        command.transform_module(cst.parse_module(CLEAN))
    except SkipFile:
        pass
    else:
        raise AssertionError("a file with nothing to fix must be skipped")

    command = ProplintFixCommand(CodemodContext(filename=str(target)), unsafe_fixes=True)
    out = command.transform_module(cst.parse_module(RAW))
    _assert_instrumented(out.code)
