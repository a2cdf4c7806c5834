"""Real brokers for the messaging runtime proofs: redis-server, mosquitto and nats-server on 127.0.0.1.

Each server is Debian's binary (installed by `scripts/test.sh`), started on a free port in a temporary
directory and stopped (by its own pid) when the test module ends. A missing binary skips the proof with
the package to install, except in CI (`CI=true`), where it fails: CI must run every proof.

Also here: the OpenTelemetry set-up module the producer and consumer subprocesses import (SDK with an
in-memory exporter; the finished spans are printed as one JSON line at exit), and helpers to read them.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin")

#: binary -> Debian package
PACKAGES = {"redis-server": "redis-server", "mosquitto": "mosquitto", "nats-server": "nats-server"}


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def find_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for d in SBIN:
        candidate = Path(d) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def require_binary(name: str) -> str:
    path = find_binary(name)
    if path is None:
        reason = (f"{name} is not installed (Debian package {PACKAGES.get(name, name)}; scripts/test.sh "
                  f"installs it)")
        if in_ci():
            pytest.fail(f"{reason}: CI must run the messaging runtime proofs")
        pytest.skip(reason)
    return path


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"server did not listen on 127.0.0.1:{port} within {timeout}s:\n"
                       f"{log.read_text(errors='replace')}")


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def _start(name: str, args: list[str], workdir: Path, port: int) -> Server:
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / f"{name}.log"
    with open(log, "wb") as fh:
        proc = subprocess.Popen(args, cwd=workdir, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    server = Server(name, port, proc, log)
    try:
        wait_for_port(port, proc, log)
    except BaseException:
        server.stop()
        raise
    return server


def start_redis(workdir: Path) -> Server:
    binary = require_binary("redis-server")
    port = free_port()
    return _start("redis-server", [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", str(workdir)], workdir, port)


def start_mosquitto(workdir: Path) -> Server:
    binary = require_binary("mosquitto")
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    conf = workdir / "mosquitto.conf"
    # `mosquitto -p N` alone listens on localhost only and, since 2.0, refuses anonymous clients: the
    # listener is declared here with anonymous access allowed on it.
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n", encoding="utf-8")
    return _start("mosquitto", [binary, "-c", str(conf)], workdir, port)


def start_nats(workdir: Path, jetstream: bool = False) -> Server:
    """nats-server; with `jetstream`, JetStream on (`-js`), its store in `workdir` (`-sd`)."""
    binary = require_binary("nats-server")
    port = free_port()
    extra = ["-js", "-sd", str(workdir / "jetstream")] if jetstream else []
    return _start("nats-server", [binary, "-a", "127.0.0.1", "-p", str(port), *extra], workdir, port)


# --- the OpenTelemetry side of the subprocesses --------------------------------------------------------

OTEL_SETUP = '''\
"""OpenTelemetry SDK with an in-memory exporter; the finished spans are printed as JSON at exit."""

import atexit
import json

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)


def _dump():
    spans = []
    for s in exporter.get_finished_spans():
        spans.append({
            "name": s.name,
            "kind": s.kind.name,
            "trace_id": format(s.context.trace_id, "032x"),
            "span_id": format(s.context.span_id, "016x"),
            "parent_id": format(s.parent.span_id, "016x") if s.parent is not None else None,
        })
    print("SPANS " + json.dumps(spans), flush=True)


atexit.register(_dump)
'''


def spans_from(stdout: str) -> list[dict]:
    lines = [line for line in stdout.splitlines() if line.startswith("SPANS ")]
    assert len(lines) == 1, f"expected one SPANS line, got:\n{stdout}"
    return json.loads(lines[0][len("SPANS "):])


def span(spans: list[dict], name: str) -> dict:
    found = [s for s in spans if s["name"] == name]
    assert len(found) == 1, f"expected one span {name!r} in {spans}"
    return found[0]
