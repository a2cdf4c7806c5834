"""Record what proplint reports and fixes on real trees, and compare two recordings.

A refactor must not change behaviour: record before, record after, compare.

    python scripts/compare_behaviour.py record OUT [TREE ...] [--source DIR]
    python scripts/compare_behaviour.py compare BEFORE AFTER

`record` runs, on each tree (default: `examples/`, `benchmarks/corpus/` and a copy of the running
Python's standard library made under the system's temporary folder), with the tree as working directory:

* `proplint check --no-cache --output-format json` (the default rules),
* the same with every rule on (`--select PRP0,PRP1,PRP2,PRP3,PRP4`: the default-off ones too),
* `proplint fix --no-cache --diff --unsafe-fixes` (the fixed text of every file, as a diff),

and stores each output under OUT/<tree name>/. `--source DIR` runs the proplint whose package is in DIR
(another checkout, e.g. a `git worktree` of the commit before the change) instead of the installed one.
`compare` prints every difference and exits 1 if there is one; it prints `no difference` and exits 0
otherwise. Standard library only.
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ALL_RULES = "PRP0,PRP1,PRP2,PRP3,PRP4"
RUNS = {
    "check.json": ["check", "--no-cache", "--output-format", "json", "."],
    "check-all.json": ["check", "--no-cache", "--output-format", "json", "--select", ALL_RULES, "."],
    "fix.diff": ["fix", "--no-cache", "--diff", "--unsafe-fixes", "."],
}


def stdlib_copy() -> Path:
    """The running Python's standard library as a project of its own (pyenv's copy sits in a git-ignored
    folder, where proplint would see no files)."""
    dest = Path(tempfile.gettempdir()) / f"proplint-stdlib-{sys.version_info[0]}{sys.version_info[1]}"
    if not (dest / ".git").is_dir():
        shutil.rmtree(dest, ignore_errors=True)
        src = Path(sysconfig.get_paths()["stdlib"])
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("site-packages", "__pycache__", "*.pyc"))
        (dest / "pyproject.toml").write_text("[tool.proplint]\n")
        subprocess.run(["git", "init", "-q", str(dest)], check=True)
    return dest


def default_trees() -> list[Path]:
    return [REPO / "examples", REPO / "benchmarks" / "corpus", stdlib_copy()]


def _normalise(name: str, out: str, tree: Path) -> str:
    if name.endswith(".json"):
        findings = json.loads(out or "[]")
        for f in findings:
            f["filename"] = os.path.relpath(f["filename"], tree) if os.path.isabs(f["filename"]) else f["filename"]
        findings.sort(key=lambda f: (f["filename"], f["location"]["row"], f["location"]["column"], f["code"],
                                     f["message"]))
        return json.dumps(findings, indent=1, sort_keys=True) + "\n"
    return out


def record(out_dir: Path, trees: list[Path], source: Path | None) -> None:
    env = dict(os.environ)
    if source is not None:
        env["PYTHONPATH"] = str(source) + os.pathsep + env.get("PYTHONPATH", "")
    for tree in trees:
        dest = out_dir / tree.name
        dest.mkdir(parents=True, exist_ok=True)
        for name, args in RUNS.items():
            proc = subprocess.run([sys.executable, "-m", "proplint", *args], cwd=tree, env=env,
                                  capture_output=True, text=True)
            if proc.returncode not in (0, 1):
                sys.exit(f"proplint {' '.join(args)} failed in {tree} (exit {proc.returncode}):\n{proc.stderr}")
            (dest / name).write_text(_normalise(name, proc.stdout, tree))
            print(f"{tree.name}/{name}: exit {proc.returncode}, {len(proc.stdout.splitlines())} lines")


def compare(before: Path, after: Path) -> int:
    differences = 0
    names = sorted({p.relative_to(before) for p in before.rglob("*") if p.is_file()}
                   | {p.relative_to(after) for p in after.rglob("*") if p.is_file()})
    for rel in names:
        a, b = before / rel, after / rel
        if not a.is_file() or not b.is_file():
            print(f"{rel}: only in {'after' if b.is_file() else 'before'}")
            differences += 1
            continue
        old, new = a.read_text().splitlines(keepends=True), b.read_text().splitlines(keepends=True)
        if old != new:
            differences += 1
            sys.stdout.writelines(difflib.unified_diff(old, new, f"before/{rel}", f"after/{rel}"))
    if differences:
        print(f"{differences} file(s) differ")
        return 1
    print(f"no difference ({len(names)} outputs compared)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="run proplint on the trees and store its outputs in OUT")
    rec.add_argument("out", type=Path)
    rec.add_argument("trees", type=Path, nargs="*")
    rec.add_argument("--source", type=Path, help="a proplint checkout to run instead of the installed one")
    cmp_ = sub.add_parser("compare", help="print the differences between two recordings")
    cmp_.add_argument("before", type=Path)
    cmp_.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "record":
        record(args.out, [t.resolve() for t in args.trees] or default_trees(),
               args.source.resolve() if args.source else None)
        return 0
    return compare(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
