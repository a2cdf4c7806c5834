"""Per-save latency of `proplint server`, next to flake8's per-file time (a report, never a pass/fail).

    python benchmarks/lsp_latency.py [--saves 20] [--write]

For each file (a ~1,000-line corpus file with findings, one parsed without findings, one the prefilter
rules out), in its corpus project and copied alone into a fresh project: start `proplint server`, open
the file (first diagnostics: start-up, project index, worker warm), then send `didSave` N times and time
each until its `publishDiagnostics` arrives (wall, median and max), and the CPU time of the server and its
worker per save (from /proc). flake8's per-file time is `flake8 --isolated FILE` from
`benchmarks/.venv-noplugin` (no proplint), median of 5 after a warm-up. A JSON-RPC client over stdio,
standard library only. `--write` puts the table into `RESULTS.md` (between the lsp-latency markers) and
keeps the numbers in `corpus/_logs/lsp_latency.json`, which `run.py` also renders.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
SAVED = CORPUS / "_logs" / "lsp_latency.json"
RESULTS = HERE / "RESULTS.md"
START, END = "<!-- lsp-latency:start -->", "<!-- lsp-latency:end -->"
FILES = [
    ("aiohttp-3.11.11/aiohttp/web_request.py", "parsed, with findings"),
    ("opentelemetry-instrumentation-httpx-0.50b0/opentelemetry/instrumentation/httpx/__init__.py",
     "parsed, no finding"),
    ("botocore-1.35.90/botocore/vendored/six.py", "ruled out by the prefilter (standalone)"),
]
TARGETS = {"parsed, with findings": 100, "ruled out by the prefilter (standalone)": 30}


class Client:
    """The smallest LSP client: Content-Length framed JSON-RPC over the server's stdin/stdout."""

    def __init__(self, argv: list[str], cwd: Path) -> None:
        self.proc = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)
        self.next_id = 0

    def send(self, method: str, params, request: bool = False):
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        if request:
            self.next_id += 1
            message["id"] = self.next_id
        body = json.dumps(message).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()
        return message.get("id")

    def read(self) -> dict:
        length = 0
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the server exited")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        return json.loads(self.proc.stdout.read(length))

    def request(self, method: str, params) -> dict:
        wanted = self.send(method, params, request=True)
        while True:
            message = self.read()
            if message.get("id") == wanted and "method" not in message:
                return message
            self.answer(message)

    def answer(self, message: dict) -> None:
        if "id" in message and "method" in message:  # a request from the server: say yes
            body = json.dumps({"jsonrpc": "2.0", "id": message["id"], "result": None}).encode()
            self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
            self.proc.stdin.flush()

    def diagnostics(self, uri: str) -> list:
        while True:
            message = self.read()
            if message.get("method") == "textDocument/publishDiagnostics" and message["params"]["uri"] == uri:
                return message["params"]["diagnostics"]
            self.answer(message)

    def close(self) -> None:
        try:
            self.request("shutdown", None)
            self.send("exit", None)
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001
            self.proc.kill()


def _tree(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_seconds(pid: int) -> float:
    """user + system time of the process and its descendants (alive ones: the server and its worker)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in _tree(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / tick


def measure_server(path: Path, root: Path, saves: int) -> dict:
    client = Client([sys.executable, "-m", "proplint", "server"], root)
    try:
        t0 = time.perf_counter()
        client.request("initialize", {"processId": os.getpid(), "rootUri": root.as_uri(), "capabilities": {}})
        client.send("initialized", {})
        uri = path.as_uri()
        text = path.read_text(encoding="utf-8")
        client.send("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1,
                                                             "text": text}})
        found = client.diagnostics(uri)
        first = time.perf_counter() - t0
        cpu0 = cpu_seconds(client.proc.pid)
        times = []
        for _ in range(saves):
            t = time.perf_counter()
            client.send("textDocument/didSave", {"textDocument": {"uri": uri}})
            client.diagnostics(uri)
            times.append(time.perf_counter() - t)
        cpu = (cpu_seconds(client.proc.pid) - cpu0) / saves
    finally:
        client.close()
    return {"first": first, "median": statistics.median(times), "max": max(times), "cpu": cpu,
            "findings": len(found)}


def flake8_time(path: Path, cwd: Path, flake8: Path) -> float | None:
    if not flake8.exists():
        return None
    times = []
    for i in range(6):
        t = time.perf_counter()
        subprocess.run([str(flake8), "--isolated", str(path)], cwd=cwd, capture_output=True)
        if i:
            times.append(time.perf_counter() - t)
    return statistics.median(times)


def run(saves: int) -> dict:
    flake8 = HERE / ".venv-noplugin" / "bin" / "flake8"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for rel, kind in FILES:
            source = CORPUS / rel
            alone = Path(tmp) / Path(rel).parts[0]
            alone.mkdir()
            (alone / "pyproject.toml").write_text("[tool.proplint]\n")
            copy = alone / source.name
            shutil.copy(source, copy)
            lines = source.read_text(encoding="utf-8").count("\n")
            for project, path, root in (("in corpus", source, CORPUS), ("standalone", copy, alone)):
                row = {"file": rel, "kind": kind, "lines": lines, "project": project,
                       **measure_server(path, root, saves), "flake8": flake8_time(path, root, flake8)}
                print(json.dumps(row), flush=True)
                rows.append(row)
    return {"saves": saves, "rows": rows, "load": os.getloadavg(), "when": time.strftime("%Y-%m-%d %H:%M"),
            "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,
                                     text=True).stdout.strip()}


def section(data: dict) -> str:
    out = ["## Editor: `proplint server`, per save", "",
           f"`python benchmarks/lsp_latency.py` ({data['when']}, commit {data['commit']}, load average "
           f"{'/'.join(f'{x:.1f}' for x in data['load'])} after): one server process per row; the file is opened "
           f"(first diagnostics: server start, project index, worker start), then saved {data['saves']} times; "
           "*per save* is `didSave` to its `publishDiagnostics`, wall time. CPU is the server's and its worker's "
           "user + system time per save. flake8's per-file time: a fresh `flake8 --isolated FILE` without proplint "
           "(median of 5), what an editor pays per save through flake8 before any plugin.", "",
           "| file | lines | kind | project | findings | open (ms) | per save, median (ms) | per save, max (ms) "
           "| CPU per save (ms) | flake8 alone per file (ms) |",
           "|------|------:|------|---------|------:|------:|------:|------:|------:|------:|"]
    for r in data["rows"]:
        f8 = "n/a" if r["flake8"] is None else f"{r['flake8'] * 1000:.0f}"
        out.append(f"| `{r['file']}` | {r['lines']:,} | {r['kind']} | {r['project']} | {r['findings']} | "
                   f"{r['first'] * 1000:.0f} | {r['median'] * 1000:.1f} | {r['max'] * 1000:.1f} | "
                   f"{r['cpu'] * 1000:.1f} | {f8} |")
    out.append("")
    out.append("*six.py* is ruled out by the prefilter in a project of its own; in the corpus project the "
               "project's own names make some rule possible on it, so there it is parsed and walked (no finding).")
    out.append("")
    for r in data["rows"]:
        limit = TARGETS.get(r["kind"])
        if limit is not None and not (r["project"] == "in corpus" and "ruled out" in r["kind"]):
            ok = r["median"] * 1000 <= limit
            out.append(f"- **{'met' if ok else 'missed'}**: median per save ≤ {limit} ms on a {r['lines']:,}-line "
                       f"file {r['kind'].replace(' (standalone)', '')} ({r['project']}): {r['median'] * 1000:.1f} ms")
    return "\n".join(out) + "\n"


def write(data: dict) -> None:
    SAVED.parent.mkdir(parents=True, exist_ok=True)
    SAVED.write_text(json.dumps(data, indent=1))
    text = RESULTS.read_text()
    block = f"{START}\n{section(data)}{END}"
    if START in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        anchor = "## Prefilter selectivity"
        text = text.replace(anchor, block + "\n\n" + anchor, 1)
    RESULTS.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--write", action="store_true", help="update RESULTS.md and the saved numbers")
    parser.add_argument("--render", action="store_true", help="rewrite the RESULTS.md section from the saved numbers")
    args = parser.parse_args()
    if args.render:
        write(json.loads(SAVED.read_text()))
        return 0
    data = run(args.saves)
    print(section(data))
    if args.write:
        write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
