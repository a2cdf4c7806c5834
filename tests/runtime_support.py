"""Helpers for the runtime tests: a real HTTP server that records headers, and subprocess runners.

Nothing here is mocked: the server is the stdlib `http.server` on 127.0.0.1 (an ephemeral port) in a
thread, and the code under test runs in a fresh interpreter (`sys.executable`) so that no
instrumentation (`HTTPXClientInstrumentor`, tracer providers) leaks between tests.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterable, Mapping

REPO_ROOT = Path(__file__).resolve().parent.parent

#: Environment variables that could change what the subprocess sends (proxies, OTel SDK settings).
_SCRUBBED_PREFIXES = ("OTEL_", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                      "all_proxy", "NO_PROXY", "no_proxy", "PYTHONPATH", "SSL_CERT_", "PROPLINT")


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names


@dataclass
class RecordingServer:
    """A real HTTP/1.1 server; every request's method, path and headers are kept in `requests`."""

    requests: list[RecordedRequest] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def start(self) -> "RecordingServer":
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _record(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                with owner._lock:
                    owner.requests.append(RecordedRequest(
                        self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
                body = b"ok"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_DELETE = _record

            def log_message(self, format, *args):  # noqa: A002 - silence the default stderr log
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="recording-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def for_path(self, path: str) -> list[RecordedRequest]:
        path = "/" + path.lstrip("/")
        with self._lock:
            return [r for r in self.requests if r.path == path]


def clean_env(pythonpath: Iterable[Path | str] = ()) -> dict[str, str]:
    """The current environment without proxy/OTel settings, with `PYTHONPATH` set to `pythonpath`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    paths = [str(p) for p in pythonpath]
    if paths:
        env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_python(args: list[str], cwd: Path, pythonpath: Iterable[Path | str] = (), timeout: float = 60,
               check: bool = True, env: Mapping[str, str] | None = None,
               executable: Path | str | None = None) -> subprocess.CompletedProcess:
    """`sys.executable <args>` (or another environment's interpreter) in `cwd`; raises with both streams shown
    when `check` and it fails."""
    full_env = clean_env(pythonpath)
    if env:
        full_env.update(env)
    proc = subprocess.run([str(executable or sys.executable), *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(args[:3])}... exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        )
    return proc


def run_proplint(command: str, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    """The real CLI, `python -m proplint <command> <args>`, in a fresh interpreter (exit status not checked)."""
    return run_python(["-m", "proplint", command, *args], cwd=cwd, check=False)


def write_files(root: Path, files: Mapping[str, str]) -> None:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
