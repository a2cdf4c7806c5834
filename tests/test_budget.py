"""The per-file time budget counts CPU time, so whether a file is checked never depends on machine load:
waiting (a loaded machine, I/O) does not use it up; computing does."""

from __future__ import annotations

import time

from proplint import engine


def _run_with(monkeypatch, make_project, work):
    monkeypatch.setattr(engine, "FILE_TIME_BUDGET", 0.3)
    original = engine.analyse

    def slow(*args, **kwargs):
        work()
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "analyse", slow)
    project = make_project("import httpx\nclient = httpx.AsyncClient()\n")
    return [(f.code, f.message) for f in project.check()]


def test_waiting_does_not_use_the_budget(monkeypatch, make_project):
    found = _run_with(monkeypatch, make_project, lambda: time.sleep(0.8))
    assert [c for c, _ in found] == ["PRP101"]


def test_computing_uses_it(monkeypatch, make_project):
    def spin():
        end = time.process_time() + 2.0
        while time.process_time() < end:
            pass

    found = _run_with(monkeypatch, make_project, spin)
    assert found == [("PRP001", "file not checked: took more than 0.3 s of CPU time")]
