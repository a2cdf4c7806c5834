"""Does the cost per file grow with the project? A project checked as one (cold, `--jobs 1`, no cache)
against the sum of its parts each checked as a project of its own, with the files that pass the prefilter
in each case. A report, never a pass/fail.

    python benchmarks/growth.py benchmarks/corpus              # parts: each package directory
    python benchmarks/growth.py path/to/monorepo               # parts: services/*, libs/*, other folders

Each run is a fresh process; CPU is user + system of the children (`RUSAGE_CHILDREN`), not wall time.
A part is made its own project root (`Config(root=part)`), whatever pyproject.toml is above it.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

_ONE = r"""
import sys
from pathlib import Path
from proplint.config import Config, load_config
from proplint.engine import check_paths, relpath_of
from proplint.files import iter_python_files
from proplint.settings import make_settings

root = Path(sys.argv[1]).resolve()
config = Config(root=root) if sys.argv[2] == "own" else load_config(root)
settings = make_settings(config, use_cache=False, jobs=1)
files = list(iter_python_files([root], config))
passed = lines = 0
for p in files:
    data = p.read_bytes()
    lines += data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
    module = settings.index.module_name(relpath_of(p, root))
    passed += bool(settings.possible(data, module) & settings.enabled - {"PRP001"})
print(len(files), passed, len(check_paths(files, settings, jobs=1)), lines)
"""

#: folders of a monorepo that hold one part per subfolder
CONTAINERS = ("services", "libs", "apps", "packages")


def parts(root: Path) -> list[Path]:
    out = []
    for d in sorted(root.iterdir()):
        if not d.is_dir() or d.name.startswith(("_", ".")):
            continue
        if d.name in CONTAINERS:
            out += sorted(x for x in d.iterdir() if x.is_dir() and not x.name.startswith(("_", ".")))
        else:
            out.append(d)
    return out


def measure(roots: list[Path], own: bool) -> tuple[int, int, int, float, int]:
    """(files, files through the prefilter, findings, CPU seconds, lines) summed over `roots`."""
    total = [0, 0, 0, 0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    for r in roots:
        out = subprocess.run([sys.executable, "-c", _ONE, str(r), "own" if own else "config"],
                             capture_output=True, text=True, cwd=r)
        if out.returncode:
            print(f"  {r}: failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            continue
        for i, v in enumerate(out.stdout.split()):
            total[i] += int(v)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return total[0], total[1], total[2], cpu, total[3]


def growth(root: Path) -> dict:
    """The figures of one project: checked as one, and as the sum of its parts."""
    pieces = parts(root)
    whole = measure([root], own=False)
    split = measure(pieces, own=True)
    keys = ("files", "passed", "findings", "cpu", "lines")
    return {"root": str(root), "parts": len(pieces), "whole": dict(zip(keys, whole)),
            "split": dict(zip(keys, split))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON (for run.py)")
    args = parser.parse_args(argv)
    data = growth(Path(args.root).resolve())
    if args.json:
        print(json.dumps(data))
        return 0
    keys = ("files", "passed", "findings", "cpu")
    whole = [data["whole"][k] for k in keys]
    split = [data["split"][k] for k in keys]
    pieces = range(data["parts"])
    print("| run | projects | files | through the prefilter | findings | CPU (s) |")
    print("|-----|------:|------:|------:|------:|------:|")
    print(f"| one project | 1 | {whole[0]:,} | {whole[1]:,} | {whole[2]:,} | {whole[3]:.1f} |")
    print(f"| each part its own | {len(pieces)} | {split[0]:,} | {split[1]:,} | {split[2]:,} | {split[3]:.1f} |")
    print(f"\none project / sum of parts, CPU: {whole[3] / split[3]:.2f}x" if split[3] else "")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
