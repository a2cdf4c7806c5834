#!/usr/bin/env python3
"""Real-world evaluation set: run proplint on pinned public service repositories and compare with triage.

    python benchmarks/realworld/run.py [--proplint PATH] [--repo NAME] [--json FILE] [--update-triage-skeleton FILE]

For each [[repo]] of manifest.toml: materialise the pinned commit from the local mirror
(/work/.mirror/<owner>+<repo>/repo, as brought by `fetch github:<owner>/<repo>`) into
_checkouts/<owner>+<repo>/ (skipped when already complete), make it a git work tree of its own
(proplint, like ruff, skips git-ignored files, and this folder is ignored by the parent repository),
run `<proplint> check --no-cache --output-format json <subdir>` in it, time it (wall clock and the
child's CPU from getrusage(RUSAGE_CHILDREN)), and match the findings with triage.jsonl.

A finding's fingerprint survives line shifts: (repo, relative path, code, source line of the finding
stripped of surrounding whitespace (kept as a hash), occurrence index among identical (path, code, line text) triples).

Precision = true / (true + false); "debatable" verdicts are counted apart and left out of it.
This is a report, not a test: the exit status is 0 unless a tool fails to run.

Standard library only: any Python >= 3.10 (tomllib from 3.11; on 3.10 a small fallback parser reads
the manifest's flat [[repo]] tables).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
CHECKOUTS = HERE / "_checkouts"
MANIFEST = HERE / "manifest.toml"
TRIAGE = HERE / "triage.jsonl"
MIRRORS = Path(os.environ.get("PROPLINT_MIRRORS", "/work/.mirror"))
MARKER = ".complete"


# ----------------------------------------------------------------------------- manifest

def _parse_flat_toml(text: str) -> dict:
    """Minimal reader for the manifest's shape (Python 3.10 has no tomllib): [[repo]] tables of
    `key = "string"` / `key = integer` lines."""
    repos: list[dict] = []
    current: dict | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line == "[[repo]]":
            current = {}
            repos.append(current)
            continue
        key, _, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if current is None:
            continue
        if value.startswith('"'):
            current[key] = json.loads(value[: value.rindex('"') + 1])
        else:
            current[key] = int(value.split("#")[0].strip().replace("_", ""))
    return {"repo": repos}


def load_manifest(path: Path = MANIFEST) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        data = _parse_flat_toml(text)
    else:
        data = tomllib.loads(text)
    return data["repo"]


# ----------------------------------------------------------------------------- checkouts

def slug(name: str) -> str:
    return name.replace("/", "+")


def mirror_of(name: str) -> Path:
    return MIRRORS / slug(name) / "repo"


def materialise(entry: dict) -> Path | None:
    """Extract the pinned commit into _checkouts/<owner>+<repo>/; None (with a message) if impossible."""
    name, commit = entry["name"], entry["commit"]
    dest = CHECKOUTS / slug(name)
    if (dest / MARKER).exists():
        return dest
    git_dir = mirror_of(name)
    if not git_dir.exists():
        print(f"[{name}] mirror missing at {git_dir}: fetch it first (fetch tool: github:{name}); skipped",
              file=sys.stderr)
        return None
    ok = subprocess.run(["git", f"--git-dir={git_dir}", "cat-file", "-e", f"{commit}^{{commit}}"],
                        capture_output=True)
    if ok.returncode != 0:
        print(f"[{name}] commit {commit} is not in the mirror {git_dir}: fetch a newer snapshot; skipped",
              file=sys.stderr)
        return None
    # Snapshots lack blobs of 4 MiB and more: list the tree, find the absent blobs, exclude them.
    # The whole tree is written (a subdir is only what gets checked): the repository's own
    # pyproject.toml and .gitignore files decide proplint's configuration and ignored files.
    tree = subprocess.run(["git", f"--git-dir={git_dir}", "ls-tree", "-r", "-z", commit],
                          capture_output=True, check=True).stdout.decode("utf-8", "surrogateescape")
    blobs = []  # (sha, path)
    for rec in tree.split("\0"):
        if not rec:
            continue
        meta, _, path = rec.partition("\t")
        mode, kind, sha = meta.split()
        if kind == "blob":  # submodules ("commit") are not materialised
            blobs.append((mode, sha, path))
    check = subprocess.run(["git", f"--git-dir={git_dir}", "cat-file", "--batch-check"],
                           input="\n".join(s for _, s, _ in blobs).encode(), capture_output=True, check=True)
    missing = [p for (_, s, p), out in zip(blobs, check.stdout.decode().splitlines()) if out.endswith("missing")]
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    # Write the blobs with `git cat-file --batch` (git archive stops at the first absent blob).
    present = [(m, s, p) for (m, s, p), out in zip(blobs, check.stdout.decode().splitlines())
               if not out.endswith("missing")]
    cat = subprocess.Popen(["git", f"--git-dir={git_dir}", "cat-file", "--batch"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    feeder = threading.Thread(target=lambda: (cat.stdin.write("\n".join(s for _, s, _ in present).encode() + b"\n"),
                                              cat.stdin.close()))
    feeder.start()
    for mode, sha, path in present:
        header = cat.stdout.readline().split()
        size = int(header[2])
        data = cat.stdout.read(size)
        cat.stdout.read(1)  # the newline after each object
        target = dest / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":
            continue  # symlinks are not followed by the check; leave them out
        target.write_bytes(data)
    feeder.join()
    if cat.wait() != 0:
        print(f"[{name}] git cat-file failed", file=sys.stderr)
        return None
    if missing:
        print(f"[{name}] {len(missing)} file(s) absent from the snapshot (>= 4 MiB) were left out: "
              + ", ".join(missing[:5]), file=sys.stderr)
    # proplint skips git-ignored files and benchmarks/ may be ignored by the enclosing repository:
    # a git work tree of its own makes the checkout checkable (as benchmarks/fetch_corpus.py does).
    if not (dest / ".git").exists():
        subprocess.run(["git", "init", "-q", str(dest)], check=True)
    local = [MARKER]
    if not (dest / "pyproject.toml").exists():
        # Without one, proplint's config search would climb out of the checkout into the enclosing
        # repository (whose .gitignore ignores _checkouts/ and whose [tool.proplint] is not theirs).
        (dest / "pyproject.toml").write_text("# written by benchmarks/realworld/run.py: the repository has no "
                                             "pyproject.toml; this one stops proplint's config search here\n")
        local.append("pyproject.toml")
    with open(dest / ".git" / "info" / "exclude", "a") as fh:
        fh.writelines(f"/{n}\n" for n in local)
    (dest / MARKER).write_text(commit + "\n")
    return dest


def python_lines(root: Path, sub: str) -> int:
    total = 0
    base = root / sub if sub else root
    for p in base.rglob("*.py"):
        if ".git" in p.parts:
            continue
        try:
            with open(p, "rb") as fh:
                total += sum(1 for _ in fh)
        except OSError:
            pass
    return total


# ----------------------------------------------------------------------------- running

def run_proplint(proplint: list[str], root: Path, sub: str) -> tuple[list[dict], float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([*proplint, "check", "--no-cache", "--output-format", "json", sub or "."],
                          cwd=root, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"proplint exited {proc.returncode}: {proc.stderr.strip()[-2000:]}")
    findings = json.loads(proc.stdout or "[]")
    return findings, wall, cpu, proc.stderr


def fingerprints(repo: str, root: Path, findings: list[dict]) -> list[dict]:
    """Turn proplint's JSON findings into triage-shaped rows with their fingerprint fields."""
    lines_cache: dict[str, list[str]] = {}
    rows = []
    for f in findings:
        fname = Path(f["filename"])
        if not fname.is_absolute():
            fname = root / fname
        try:
            rel = fname.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            rel = fname.as_posix()
        if rel not in lines_cache:
            try:
                lines_cache[rel] = (root / rel).read_text(encoding="utf-8", errors="replace").splitlines()
            except OSError:
                lines_cache[rel] = []
        src = lines_cache[rel]
        row = f["location"]["row"]
        text = src[row - 1].strip() if 0 < row <= len(src) else ""
        rows.append({"repo": repo, "path": rel, "code": f["code"], "line_sha": line_sha(text),
                     "line": row, "col": f["location"].get("column", 0), "message": f["message"]})
    rows.sort(key=lambda r: (r["path"], r["line"], r["col"], r["code"]))
    seen: Counter = Counter()
    for r in rows:
        k = (r["path"], r["code"], r["line_sha"])
        r["occurrence"] = seen[k]
        seen[k] += 1
        del r["col"]
    return rows


def key(r: dict) -> tuple:
    return (r["repo"], r["path"], r["code"], r["line_sha"], r["occurrence"])


def line_sha(text: str) -> str:
    """The finding's source line, stripped, as a short hash: the fingerprint survives line shifts, and the
    triage keeps no text of the repositories it judges."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def load_triage(path: Path = TRIAGE) -> dict[tuple, dict]:
    out: dict[tuple, dict] = {}
    if not path.exists():
        return out
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            rec = json.loads(line)
            k = key(rec)
            if k in out:
                print(f"triage.jsonl:{n}: duplicate fingerprint {k}", file=sys.stderr)
            out[k] = rec
    return out


# ----------------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--proplint", default="proplint", help="proplint command (default: proplint on PATH)")
    ap.add_argument("--repo", action="append", help="only these manifest names (repeatable)")
    ap.add_argument("--json", metavar="FILE", help="also write the numbers (and new/vanished rows) as JSON")
    ap.add_argument("--dump-findings", metavar="FILE",
                    help="write every current finding as a triage-shaped JSONL row (verdicts copied when known)")
    ap.add_argument("--show-new", action="store_true", help="list untriaged and vanished findings")
    ap.add_argument("--manifest", type=Path, default=MANIFEST, help="the manifest to read (default: manifest.toml)")
    ap.add_argument("--triage", type=Path, default=TRIAGE, help="the triage to match (default: triage.jsonl)")
    args = ap.parse_args(argv)
    proplint = args.proplint.split()

    entries = load_manifest(args.manifest)
    if args.repo:
        entries = [e for e in entries if e["name"] in args.repo]
    triage = load_triage(args.triage) if args.triage.is_file() else {}
    by_repo: dict[str, dict[tuple, dict]] = defaultdict(dict)
    for k, rec in triage.items():
        by_repo[rec["repo"]][k] = rec

    results, dump, failed = [], [], False
    for e in entries:
        name = e["name"]
        root = materialise(e)
        if root is None:
            results.append({"repo": name, "status": "missing"})
            continue
        sub = e.get("subdir") or ""
        try:
            findings, wall, cpu, stderr = run_proplint(proplint, root, sub)
        except (OSError, RuntimeError, json.JSONDecodeError) as exc:
            print(f"[{name}] proplint failed: {exc}", file=sys.stderr)
            results.append({"repo": name, "status": "error", "error": str(exc)})
            failed = True
            continue
        rows = fingerprints(name, root, findings)
        known = by_repo.get(name, {})
        counts: Counter = Counter()
        new = []
        current = set()
        for r in rows:
            k = key(r)
            current.add(k)
            rec = known.get(k)
            if rec is None:
                counts["untriaged"] += 1
                new.append(r)
            else:
                counts[rec["verdict"]] += 1
            dump.append({**r, **({"verdict": rec["verdict"], "class": rec.get("class", ""), "why": rec.get("why", "")}
                                 if rec else {})})
        vanished = [rec for k, rec in known.items() if k not in current]
        t, f = counts["true"], counts["false"]
        results.append({
            "repo": name, "status": "ok", "commit": e["commit"], "subdir": sub, "lines": python_lines(root, sub),
            "findings": len(rows), "true": t, "false": f, "debatable": counts["debatable"],
            "untriaged": counts["untriaged"], "vanished": len(vanished),
            "precision": round(t / (t + f), 3) if t + f else None,
            "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
            "by_code": dict(Counter(r["code"] for r in rows).most_common()),
            "new": new if args.show_new or args.json else [], "vanished_rows": vanished,
        })

    print_table(results)
    if args.show_new:
        for r in results:
            for n in r.get("new", []):
                print(f"NEW      {n['repo']} {n['path']}:{n['line']} {n['code']} {n['message'][:80]}")
            for v in r.get("vanished_rows", []):
                print(f"VANISHED {v['repo']} {v['path']}:{v.get('line')} {v['code']} {v.get('message', '')[:80]}")
    if args.json:
        Path(args.json).write_text(json.dumps({"results": results, "totals": totals(results)}, indent=1) + "\n")
    if args.dump_findings:
        with open(args.dump_findings, "w", encoding="utf-8") as fh:
            for r in dump:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return 2 if failed else 0


def totals(results: list[dict]) -> dict:
    ok = [r for r in results if r.get("status") == "ok"]
    tot = {k: sum(r[k] for r in ok) for k in ("lines", "findings", "true", "false", "debatable", "untriaged", "vanished")}
    tot["wall_s"] = round(sum(r["wall_s"] for r in ok), 2)
    tot["cpu_s"] = round(sum(r["cpu_s"] for r in ok), 2)
    tot["precision"] = round(tot["true"] / (tot["true"] + tot["false"]), 3) if tot["true"] + tot["false"] else None
    return tot


def print_table(results: list[dict]) -> None:
    hdr = ("repo", "lines", "findings", "true", "false", "debat.", "new", "vanished", "precision", "wall s", "cpu s")
    rows = []
    for r in results:
        if r.get("status") != "ok":
            rows.append((r["repo"], r.get("status", "?"), "", "", "", "", "", "", "", "", ""))
            continue
        p = "-" if r["precision"] is None else f"{r['precision']:.0%}"
        rows.append((r["repo"], r["lines"], r["findings"], r["true"], r["false"], r["debatable"], r["untriaged"],
                     r["vanished"], p, f"{r['wall_s']:.1f}", f"{r['cpu_s']:.1f}"))
    t = totals(results)
    p = "-" if t["precision"] is None else f"{t['precision']:.0%}"
    rows.append(("TOTAL", t["lines"], t["findings"], t["true"], t["false"], t["debatable"], t["untriaged"],
                 t["vanished"], p, f"{t['wall_s']:.1f}", f"{t['cpu_s']:.1f}"))
    widths = [max(len(str(x)) for x in col) for col in zip(hdr, *rows)]
    line = lambda cells: "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    print(line(hdr))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))
    print("precision = true / (true + false); debatable findings are counted apart and left out of it;"
          " new = reported but not in triage.jsonl; vanished = triaged but no longer reported.")


if __name__ == "__main__":
    sys.exit(main())
