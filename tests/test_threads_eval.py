"""The thread eval fixtures (tests/fixtures/threads/) cover every PRP20x code and both sides of each trap.

Running them (proplint's JSON output and flake8, exact (line, code) pairs) is `test_eval_files.py`'s
job, for every fixture project; this only checks that the thread family's fixtures stay complete.
"""

from __future__ import annotations

from pathlib import Path

from test_eval_files import expected

THREADS = Path(__file__).resolve().parent / "fixtures" / "threads"


def _codes(path: Path) -> set[str]:
    return {code for _, code in expected(path)}


def test_every_thread_rule_is_exercised():
    found = set().union(*(_codes(p) for p in THREADS.rglob("*.py")))
    assert found == {f"PRP20{i}" for i in range(1, 9)}


def test_already_propagated_forms_report_nothing():
    assert expected(THREADS / "propagated.py") == []
    assert expected(THREADS / "lib_threads.py") == []


def test_traps_have_both_sides():
    # service threads: exempt when started once by their owner, reported from a request path
    service = (THREADS / "service_threads.py").read_text(encoding="utf-8")
    assert expected(THREADS / "service_threads.py") and "def __init__" in service and "_ensure_" in service
    # classes: a project class named Thread that copies (not reported) next to ones that do not
    classes = expected(THREADS / "classes.py")
    assert {code for _, code in classes} == {"PRP201", "PRP203"}
    assert "Thread(target=work).start()  # the project's Thread copies" in (THREADS / "classes.py").read_text()
    # the instrumentor suppresses only without project ContextVars
    assert _codes(THREADS / "instrumented" / "app.py") == {"PRP201", "PRP206"}  # run() override, processes
    assert _codes(THREADS / "instrumented_with_vars" / "app.py") == {"PRP201", "PRP202", "PRP203"}
    # aliases and receivers
    assert len(expected(THREADS / "aliases.py")) >= 10
    assert _codes(THREADS / "receivers.py") == {"PRP203", "PRP204"}
