#!/usr/bin/env python3
"""Download the second pinned benchmark corpus (hash-checked) and extract its Python sources.

    python benchmarks/fetch_corpus2.py

Like fetch_corpus.py, for other packages: none of them is in the first corpus. They are chosen for
threads, executors, event loops, brokers and HTTP/RPC clients (Twisted, dask/distributed, Prefect, trio,
anyio, eventlet, task queues, Kafka/MQTT/NATS/Service Bus/Event Hubs/Pub/Sub clients, ASGI servers).
Every archive is pinned by file name and sha256: pip downloads it with `--require-hashes` (a wheel that
runs anywhere, `py3-none-any`, or the sdist), and the hash is checked again before extracting. Only the
*.py files are extracted, into benchmarks/corpus2/<name>-<version>/ (git-ignored). Idempotent, like
fetch_corpus.py. Prints files and lines per package and the total (about 1.2M lines).

Neither the tests nor .ci/run fetch or read this corpus. Standard library only (Python >= 3.10).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import fetch_corpus  # noqa: E402  (this folder: extraction and line counting are shared)

CORPUS = HERE / "corpus2"
DOWNLOADS = CORPUS / "_dl"
MARKER = fetch_corpus.MARKER

#: (name, version, archive file name, sha256 of the archive as PyPI serves it)
PACKAGES: list[tuple[str, str, str, str]] = [
    # event loops, threads and executors
    ("twisted", "24.11.0", "twisted-24.11.0-py3-none-any.whl",
     "fe403076c71f04d5d2d789a755b687c5637ec3bcd3b2b8252d76f2ba65f54261"),
    ("trio", "0.27.0", "trio-0.27.0-py3-none-any.whl",
     "68eabbcf8f457d925df62da780eff15ff5dc68fd6b367e2dde59f7aaf2a0b884"),
    ("anyio", "4.7.0", "anyio-4.7.0-py3-none-any.whl",
     "ea60c3723ab42ba6fff7e8ccb0488c898ec538ff4df1f1d5e642c3601d07e352"),
    ("eventlet", "0.38.2", "eventlet-0.38.2-py3-none-any.whl",
     "4a2e3cbc53917c8f39074ccf689501168563d3a4df59e9cddd5e9d3b7f85c599"),
    ("tenacity", "9.0.0", "tenacity-9.0.0-py3-none-any.whl",
     "93de0c98785b27fcf659856aa9f54bfbd399e29969b0621bc7f762bd441b4539"),
    # distributed execution and workflow engines
    ("dask", "2024.12.1", "dask-2024.12.1-py3-none-any.whl",
     "1f32acddf1a6994e3af6734756f0a92467c47050bc29f3555bb9b140420e8e19"),
    ("distributed", "2024.12.1", "distributed-2024.12.1-py3-none-any.whl",
     "87e31abaa0ee3dc517b44fec4993d4b5d92257f926a8d2a12d52c005227154e7"),
    ("prefect", "3.1.10", "prefect-3.1.10-py3-none-any.whl",
     "277241902a0dd5f30bd3b9f4506a8685e9bf0cac48fcc7fbea05f8a6991ef78d"),
    ("apscheduler", "3.11.0", "APScheduler-3.11.0-py3-none-any.whl",
     "fc134ca32e50f5eadcc4938e3a4545ab19131435e851abb40b34d63d5141c6da"),
    # task queues
    ("huey", "2.5.2", "huey-2.5.2.tar.gz",
     "df33db474c05414ed40ee2110e9df692369871734da22d74ffb035a4bd74047f"),
    ("arq", "0.26.1", "arq-0.26.1-py3-none-any.whl",
     "789d12ca7d69919bd2e641e44f3f14a38bd854daa7ded22cdd725796e8c65352"),
    ("taskiq", "0.11.10", "taskiq-0.11.10-py3-none-any.whl",
     "2b656c34231bf6947a6020098c94f93d6c45d15688d9e6bb8b3fbf54088e7717"),
    # brokers and messaging clients
    ("faust-streaming", "0.11.3", "faust-streaming-0.11.3.tar.gz",
     "3488be5dec17dcd4613dfa2600bb2bf83ebadb05de4620dca791ed4a0b7bd650"),
    ("nats-py", "2.9.0", "nats_py-2.9.0.tar.gz",
     "01886eb9e0a87f0ec630652cf1fae65d2a8556378a609bc6cc07d2ea60c8d0dd"),
    ("paho-mqtt", "2.1.0", "paho_mqtt-2.1.0-py3-none-any.whl",
     "6db9ba9b34ed5bc6b6e3812718c7e06e2fd7444540df2455d2c51bd58808feee"),
    ("azure-core", "1.32.0", "azure_core-1.32.0-py3-none-any.whl",
     "eac191a0efb23bfa83fddf321b27b122b4ec847befa3091fa736a5c32c50d7b4"),
    ("azure-servicebus", "7.13.0", "azure_servicebus-7.13.0-py3-none-any.whl",
     "8e99a6542f11d2b51f3d3604aa299f330bafeff11efc38b30fe7e523bed39504"),
    ("azure-eventhub", "5.13.0", "azure_eventhub-5.13.0-py3-none-any.whl",
     "d9c9e0870e9abec277b25b32d630e1970ea59f04b036fda234722f102ae539fc"),
    ("google-api-core", "2.24.0", "google_api_core-2.24.0-py3-none-any.whl",
     "10d82ac0fca69c82a25b3efdeefccf6f28e02ebb97925a8cce8edbfe379929d9"),
    ("google-cloud-pubsub", "2.27.1", "google_cloud_pubsub-2.27.1-py2.py3-none-any.whl",
     "3ca8980c198a847ee464845ab60f05478d4819cf693c9950ee89da96f0b80a41"),
    ("grpclib", "0.4.7", "grpclib-0.4.7.tar.gz",
     "2988ef57c02b22b7a2e8e961792c41ccf97efc2ace91ae7a5b0de03c363823c3"),
    # HTTP / database clients
    ("aiobotocore", "2.16.1", "aiobotocore-2.16.1-py3-none-any.whl",
     "e7cf6295471224c82a111deaf31c2c3a4bcd6dbd6973e75c7fc4739fcccd5b0b"),
    ("elasticsearch", "8.17.0", "elasticsearch-8.17.0-py3-none-any.whl",
     "15965240fe297279f0e68b260936d9ced9606aa7ef8910b9b56727f96ef00d5b"),
    ("motor", "3.6.0", "motor-3.6.0-py3-none-any.whl",
     "9f07ed96f1754963d4386944e1b52d403a5350c687edc60da487d66f98dbf894"),
    ("scrapy", "2.12.0", "Scrapy-2.12.0-py2.py3-none-any.whl",
     "c33e2dc7da42e727390bacb32dd9938a54ac210fa71972b5c392754f478669cd"),
    # servers and frameworks
    ("pyramid", "2.0.2", "pyramid-2.0.2-py3-none-any.whl",
     "2e6585ac55c147f0a51bc00dadf72075b3bdd9a871b332ff9e5e04117ccd76fa"),
    ("waitress", "3.0.2", "waitress-3.0.2-py3-none-any.whl",
     "c56d67fd6e87c2ee598b76abdd4e96cfad1f24cacdea5078d382b1f9d7b5ed2e"),
    ("hypercorn", "0.17.3", "hypercorn-0.17.3-py3-none-any.whl",
     "059215dec34537f9d40a69258d323f56344805efb462959e727152b0aa504547"),
    ("quart", "0.20.0", "quart-0.20.0-py3-none-any.whl",
     "003c08f551746710acb757de49d9b768986fd431517d0eb127380b656b98b8f1"),
    ("channels", "4.2.0", "channels-4.2.0-py3-none-any.whl",
     "6b75bc8d6888fb7236e7e7bf1948520b72d296ad08216a242fc56b1db0ffde1a"),
    ("daphne", "4.1.2", "daphne-4.1.2-py3-none-any.whl",
     "618d1322bb4d875342b99dd2a10da2d9aae7ee3645f765965fdc1e658ea5290a"),
]

CORPUS_PYPROJECT = fetch_corpus.CORPUS_PYPROJECT.replace("fetch_corpus.py", "fetch_corpus2.py")


def package_dirs() -> list[tuple[str, str, Path]]:
    return [(n, v, CORPUS / f"{n}-{v}") for n, v, _, _ in PACKAGES]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(todo: list[tuple[str, str, str, str]]) -> None:
    """pip download with --require-hashes: only the pinned archive of each package is accepted."""
    DOWNLOADS.mkdir(parents=True, exist_ok=True)
    for sdists in (False, True):
        batch = [p for p in todo if p[2].endswith(".tar.gz") == sdists]
        if not batch:
            continue
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as req:
            for name, version, _, sha in batch:
                req.write(f"{name}=={version} --hash=sha256:{sha}\n")
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes",
               "--no-binary" if sdists else "--only-binary", ":all:", "--disable-pip-version-check", "-q",
               "-d", str(DOWNLOADS), "-r", req.name]
        print("$", " ".join(cmd[2:]), flush=True)
        try:
            subprocess.run(cmd, check=True)
        finally:
            Path(req.name).unlink()


def main() -> int:
    CORPUS.mkdir(parents=True, exist_ok=True)
    (CORPUS / "pyproject.toml").write_text(CORPUS_PYPROJECT)
    # benchmarks/corpus2/ is git-ignored here, and proplint and ruff skip git-ignored files: a git work
    # tree of its own makes it checkable (as for the first corpus).
    if not (CORPUS / ".git").exists():
        subprocess.run(["git", "init", "-q", str(CORPUS)], check=True)
    (CORPUS / ".gitignore").write_text("/_dl/\n/_logs/\n")
    todo = [p for p in PACKAGES if not (CORPUS / f"{p[0]}-{p[1]}" / MARKER).is_file()]
    missing = [p for p in todo if not (DOWNLOADS / p[2]).is_file()]
    if missing:
        _download(missing)
    for name, version, filename, sha in todo:
        archive = DOWNLOADS / filename
        if not archive.is_file():
            print(f"error: {filename} was not downloaded into {DOWNLOADS}", file=sys.stderr)
            return 1
        if _sha256(archive) != sha:
            print(f"error: {filename}: sha256 {_sha256(archive)} is not the pinned {sha}", file=sys.stderr)
            return 1
        print(f"extracting {filename}", flush=True)
        fetch_corpus._extract(archive, CORPUS / f"{name}-{version}")
    known = {d.name for _, _, d in package_dirs()}
    stale = [p.name for p in CORPUS.iterdir()
             if p.is_dir() and p.name not in known and not p.name.startswith(("_", "."))]
    if stale:
        print(f"note: not in PACKAGES (ignored by the pins, but still under corpus2/): {', '.join(sorted(stale))}")
    first = {fetch_corpus._norm(n) for n, _ in fetch_corpus.PACKAGES}
    overlap = [n for n, *_ in PACKAGES if fetch_corpus._norm(n) in first]
    if overlap:
        print(f"error: also in the first corpus: {', '.join(overlap)}", file=sys.stderr)
        return 1
    total_files = total_lines = 0
    print(f"\n{'package':<48} {'files':>7} {'lines':>10}")
    for name, version, dest in package_dirs():
        files, lines = fetch_corpus.stats(dest)
        total_files += files
        total_lines += lines
        print(f"{name + '==' + version:<48} {files:>7} {lines:>10,}")
    print(f"{'total':<48} {total_files:>7} {total_lines:>10,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
