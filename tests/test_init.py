"""`proplint init`: a proposal in the project's own scheme, from the project index; `--write` appends it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from proplint.config import load_config

ROOT = Path(__file__).resolve().parents[1]


def _init(path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "proplint", "init", str(path), *args], capture_output=True,
                          text=True, cwd=ROOT)


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


def test_on_the_example_it_finds_the_factory_the_example_configures():
    run = _init(ROOT / "examples")
    assert run.returncode == 0, run.stderr
    assert 'http-client-factory = "svc.shared.http_client:traced_client"' in run.stdout
    assert "svc.shared.logging.trace_id_var" in run.stdout  # the request-scoped ContextVar and its setter


SERVICES = {
    "docker-compose.yml": "services: {}\n",
    "services/orders/Dockerfile": "FROM python:3.12\n",
    "services/orders/__init__.py": "",
    "services/orders/api.py": ("from shared.tracing import inject_trace_context\n\n\n"
                               "def publish(producer, envelope):\n    inject_trace_context(envelope.metadata)\n"
                               "    producer.send('orders', envelope)\n"),
    "services/mailer/Dockerfile": "FROM python:3.12\n",
    "services/mailer/__init__.py": "",
    "services/mailer/worker.py": "import json\n\n\ndef handle(raw):\n    return json.loads(raw)\n",
    "services/shared/__init__.py": "",
    "services/shared/tracing.py": (
        "import contextlib\n\nfrom opentelemetry import trace\nfrom opentelemetry.propagate import extract, inject\n\n"
        "tracer = trace.get_tracer(__name__)\n\n\ndef inject_trace_context(carrier):\n    inject(carrier)\n\n\n"
        "@contextlib.contextmanager\ndef use_trace_context(carrier):\n"
        "    with tracer.start_as_current_span('process', context=extract(carrier)) as span:\n        yield span\n"),
    "services/orders/consumer.py": ("from shared.tracing import use_trace_context\n\n\ndef on_message(envelope):\n"
                                    "    with use_trace_context(envelope.metadata):\n        pass\n"),
    "tests/test_orders.py": "def test_x():\n    pass\n",
}


def test_a_services_monorepo_gets_its_roots_helpers_carrier_field_and_units(tmp_path):
    _write(tmp_path, SERVICES)
    run = _init(tmp_path)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert 'src = ["services"]' in out
    assert 'injectors = ["shared.tracing.inject_trace_context"]' in out
    assert 'extractors = ["shared.tracing.use_trace_context"]' in out
    assert "Carriers travel in a payload field: metadata" in out
    assert "services/orders: has a context" in out
    assert "services/mailer: starts no span" in out
    assert "tests/ (test)" in out


def test_write_appends_a_table_that_loads_and_refuses_to_overwrite_one(tmp_path):
    _write(tmp_path, SERVICES)
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "platform"\n', encoding="utf-8")
    run = _init(tmp_path, "--write")
    assert run.returncode == 0, run.stderr
    text = (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    assert text.startswith('[project]\nname = "platform"\n') and "[tool.proplint]" in text
    config = load_config(tmp_path)
    assert config.src == ("services",) and config.injectors == ("shared.tracing.inject_trace_context",)
    check = subprocess.run([sys.executable, "-m", "proplint", "check", "--no-cache", "."], cwd=tmp_path,
                           capture_output=True, text=True)
    assert check.returncode in (0, 1), check.stderr  # the proposed configuration is valid
    again = _init(tmp_path, "--write")
    assert again.returncode == 2 and "already has a [tool.proplint]" in again.stderr
    assert (tmp_path / "pyproject.toml").read_text(encoding="utf-8") == text
