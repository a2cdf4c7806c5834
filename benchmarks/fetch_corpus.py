#!/usr/bin/env python3
"""Download the pinned benchmark corpus and extract its Python sources.

    python benchmarks/fetch_corpus.py

Downloads every package in PACKAGES (no dependencies; a wheel when PyPI has one for this interpreter,
else the sdist) into benchmarks/corpus/_dl/ with the machine's pip, then extracts only the *.py files
of each into benchmarks/corpus/<name>-<version>/. Idempotent: a package whose directory is complete
(marker file `.complete`) is not downloaded or extracted again, and an archive already in _dl/ is
reused. Prints files and lines (of .py only) per package and the total.

Standard library only: run it with any Python >= 3.10.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
DOWNLOADS = CORPUS / "_dl"
MARKER = ".complete"

#: The pinned corpus: service frameworks, task queues, HTTP clients, messaging clients and telemetry
#: SDKs, i.e. the code proplint's rules are about. About 1.0M lines of .py in total (see RESULTS.md).
#: Changing a pin changes the numbers: keep RESULTS.md in step.
PACKAGES: list[tuple[str, str]] = [
    # web frameworks and servers
    ("django", "5.1.4"),
    ("flask", "3.1.0"),
    ("werkzeug", "3.1.3"),
    ("starlette", "0.41.3"),
    ("fastapi", "0.115.6"),
    ("tornado", "6.4.2"),
    ("gunicorn", "23.0.0"),
    ("uvicorn", "0.34.0"),
    ("sanic", "24.12.0"),
    ("sqlalchemy", "2.0.36"),
    # task queues and messaging
    ("celery", "5.4.0"),
    ("kombu", "5.4.2"),
    ("rq", "2.1.0"),
    ("dramatiq", "1.17.1"),
    ("redis", "5.2.1"),
    ("kafka-python", "2.0.2"),
    ("pika", "1.3.2"),
    ("aio-pika", "9.5.4"),
    ("aiormq", "6.8.1"),
    ("aiokafka", "0.12.0"),
    # HTTP clients
    ("httpx", "0.28.1"),
    ("httpcore", "1.0.7"),
    ("requests", "2.32.3"),
    ("urllib3", "2.3.0"),
    ("aiohttp", "3.11.11"),
    # AWS
    ("boto3", "1.35.90"),
    ("botocore", "1.35.90"),
    ("s3transfer", "0.10.4"),
    # telemetry SDKs
    ("opentelemetry-api", "1.29.0"),
    ("opentelemetry-sdk", "1.29.0"),
    ("opentelemetry-semantic-conventions", "0.50b0"),
    ("opentelemetry-instrumentation", "0.50b0"),
    ("opentelemetry-instrumentation-django", "0.50b0"),
    ("opentelemetry-instrumentation-flask", "0.50b0"),
    ("opentelemetry-instrumentation-fastapi", "0.50b0"),
    ("opentelemetry-instrumentation-asgi", "0.50b0"),
    ("opentelemetry-instrumentation-wsgi", "0.50b0"),
    ("opentelemetry-instrumentation-requests", "0.50b0"),
    ("opentelemetry-instrumentation-httpx", "0.50b0"),
    ("opentelemetry-instrumentation-urllib3", "0.50b0"),
    ("opentelemetry-instrumentation-aiohttp-client", "0.50b0"),
    ("opentelemetry-instrumentation-celery", "0.50b0"),
    ("opentelemetry-instrumentation-redis", "0.50b0"),
    ("opentelemetry-instrumentation-kafka-python", "0.50b0"),
    ("opentelemetry-instrumentation-pika", "0.50b0"),
    ("opentelemetry-instrumentation-botocore", "0.50b0"),
    ("opentelemetry-instrumentation-dbapi", "0.50b0"),
    ("opentelemetry-instrumentation-logging", "0.50b0"),
    ("opentelemetry-instrumentation-threading", "0.50b0"),
    ("opentelemetry-exporter-otlp-proto-common", "1.29.0"),
    ("opentelemetry-exporter-otlp-proto-http", "1.29.0"),
    ("sentry-sdk", "2.19.2"),
    ("ddtrace", "2.18.1"),
]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _archive_for(name: str, version: str) -> Path | None:
    """The archive of name==version in _dl/ (wheel or sdist; PyPI file names vary in case and separators)."""
    if not DOWNLOADS.is_dir():
        return None
    want = (_norm(name), version)
    for path in sorted(DOWNLOADS.iterdir()):
        base = path.name
        if base.endswith(".whl"):
            dist, ver = base.split("-")[:2]
        elif base.endswith((".tar.gz", ".zip")):
            stem = base[: -len(".tar.gz")] if base.endswith(".tar.gz") else base[: -len(".zip")]
            dist, _, ver = stem.rpartition("-")
        else:
            continue
        if (_norm(dist), ver) == want:
            return path
    return None


def _download(specs: list[str]) -> None:
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":none:",
           "--disable-pip-version-check", "-q", "-d", str(DOWNLOADS), *specs]
    print("$", " ".join(cmd[2:]), flush=True)
    subprocess.run(cmd, check=True)


def _safe_target(dest: Path, member: str) -> Path | None:
    rel = Path(member)
    if rel.is_absolute() or ".." in rel.parts:
        return None
    return dest / rel


def _extract(archive: Path, dest: Path) -> None:
    """Only the *.py files; a sdist's top-level `name-version/` folder is dropped."""
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if archive.name.endswith((".whl", ".zip")):
        strip = archive.name.endswith(".zip")
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                name = info.filename
                if info.is_dir() or not name.endswith(".py"):
                    continue
                if strip:
                    name = name.split("/", 1)[1] if "/" in name else name
                target = _safe_target(tmp, name)
                if target is not None:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(zf.read(info))
    else:
        with tarfile.open(archive) as tf:
            for member in tf.getmembers():
                if not member.isfile() or not member.name.endswith(".py"):
                    continue
                name = member.name.split("/", 1)[1] if "/" in member.name else member.name
                target = _safe_target(tmp, name)
                fh = tf.extractfile(member)
                if target is not None and fh is not None:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(fh.read())
    (tmp / MARKER).write_text(f"{archive.name}\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)


def count_lines(data: bytes) -> int:
    """Lines as `wc -l` counts them, plus a last line without a newline."""
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def package_dirs() -> list[tuple[str, str, Path]]:
    return [(n, v, CORPUS / f"{n}-{v}") for n, v in PACKAGES]


def stats(directory: Path) -> tuple[int, int]:
    files = lines = 0
    for path in directory.rglob("*.py"):
        files += 1
        lines += count_lines(path.read_bytes())
    return files, lines


#: The corpus is its own proplint project (config root), so the nearest pyproject.toml is not the
#: proplint repository's (whose [tool.proplint] excludes benchmarks/corpus).
CORPUS_PYPROJECT = """\
# Written by benchmarks/fetch_corpus.py: makes the corpus its own proplint project (config root), so the
# nearest pyproject.toml is not the proplint repository's. An empty table: proplint's defaults.
[tool.proplint]
"""


def main() -> int:
    CORPUS.mkdir(parents=True, exist_ok=True)
    (CORPUS / "pyproject.toml").write_text(CORPUS_PYPROJECT)
    # benchmarks/corpus/ is ignored by this repository's .gitignore, and proplint (like ruff) skips
    # git-ignored files: a git work tree of its own makes the corpus checkable from a fresh clone.
    if not (CORPUS / ".git").exists():
        subprocess.run(["git", "init", "-q", str(CORPUS)], check=True)
    (CORPUS / ".gitignore").write_text("/_dl/\n/_logs/\n")
    todo = [(n, v, d) for n, v, d in package_dirs() if not (d / MARKER).is_file()]
    missing = [f"{n}=={v}" for n, v, _ in todo if _archive_for(n, v) is None]
    if missing:
        _download(missing)
    for name, version, dest in todo:
        archive = _archive_for(name, version)
        if archive is None:
            print(f"error: no archive for {name}=={version} in {DOWNLOADS}", file=sys.stderr)
            return 1
        print(f"extracting {archive.name}", flush=True)
        _extract(archive, dest)
    known = {d.name for _, _, d in package_dirs()}
    stale = [p.name for p in CORPUS.iterdir()
             if p.is_dir() and p.name not in known and not p.name.startswith(("_", "."))]
    if stale:
        print(f"note: not in PACKAGES (ignored by the pins, but still under corpus/): {', '.join(sorted(stale))}")
    total_files = total_lines = 0
    print(f"\n{'package':<48} {'files':>7} {'lines':>10}")
    for name, version, dest in package_dirs():
        files, lines = stats(dest)
        total_files += files
        total_lines += lines
        print(f"{name + '==' + version:<48} {files:>7} {lines:>10,}")
    print(f"{'total':<48} {total_files:>7} {total_lines:>10,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
