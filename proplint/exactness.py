"""Proof that the prefilter is exact: what the needs rule out is never something the rules would find.

`missed(...)` runs one file twice, through the prefilter and with every rule on the parsed file, and
returns the findings only the second run has. Used by `tests/test_prefilter_exact.py` (CI: a standard
library sample and the benchmark corpus) and by `scripts/realcode.py --exactness`.
"""

from __future__ import annotations

import dataclasses

from proplint.engine import analyse
from proplint.settings import Settings
from proplint.core.rule import Finding


def unfiltered(settings: Settings) -> Settings:
    """The same settings with the prefilter off: every file parsed, every enabled rule run."""
    return dataclasses.replace(settings, use_prefilter=False, _checks=None, _filter=None)


def missed(data: bytes, path: str, relpath: str, filtered: Settings, exact: Settings) -> list[Finding]:
    """Findings the full rules make on this file that the prefiltered run does not (empty when exact)."""
    possible = filtered.possible(data, filtered.index.module_name(relpath)) & filtered.enabled
    if possible >= filtered.enabled - {"PRP001"} and not possible - {"PRP001"} <= filtered.gates().keys():
        return []  # nothing was ruled out, by the words or the ast gates: both runs are the same run
    def key(f: Finding) -> tuple:
        return f.code, f.line, f.column, f.message

    have = {key(f) for f in analyse(data, path, relpath, filtered).findings} if possible - {"PRP001"} else set()
    return [f for f in analyse(data, path, relpath, exact).findings if f.code != "PRP001" and key(f) not in have]


# -- python -m proplint.exactness ROOT : the same proof over a tree, on every core ---------------------------
_PAIRS: dict[str, tuple[Settings, Settings]] = {}
_SELECT: tuple[str, ...] | None = None


def _init(select: tuple[str, ...] | None) -> None:
    global _SELECT
    _SELECT = select


def _pair(root: str) -> tuple[Settings, Settings]:
    """The (prefiltered, unfiltered) settings of one project, made once per worker process."""
    if root not in _PAIRS:
        from pathlib import Path

        from proplint.config import Config, load_config
        from proplint.settings import make_settings

        from dataclasses import replace

        path = Path(root)
        config = load_config(path) if (path / "pyproject.toml").is_file() else Config(root=path)
        # every file is checked, tests and scripts too: the prefilter does not depend on the scope, and the
        # proof covers more code this way
        config = replace(config, scope="all")
        filtered = make_settings(config, select=_SELECT, use_cache=False, include_default_off=True)
        _PAIRS[root] = (filtered, unfiltered(filtered))
    return _PAIRS[root]


def _one(job: tuple[str, str]) -> tuple[str, int, bool, bool, list[str]]:
    from pathlib import Path

    root, path = job
    data = Path(path).read_bytes()
    filtered, exact = _pair(root)
    relpath = Path(path).relative_to(root).as_posix()
    possible = filtered.possible(data, filtered.index.module_name(relpath)) - {"PRP001"}
    lost = [f"{f.code}:{f.line}:{f.column} {f.message[:80]}" for f in missed(data, path, relpath, filtered, exact)]
    return path, data.count(b"\n"), not possible, possible != filtered.enabled - {"PRP001"}, lost


def main(argv: list[str] | None = None) -> int:
    import argparse
    import time
    from concurrent.futures import ProcessPoolExecutor
    from pathlib import Path

    from proplint.config import Config, load_config
    from proplint.engine import default_jobs
    from proplint.files import iter_python_files

    parser = argparse.ArgumentParser(prog="python -m proplint.exactness",
                                     description="Prove the prefilter exact on real code: every file is also "
                                                 "checked with every rule, and no finding may be lost.")
    parser.add_argument("root", help="the project root (its [tool.proplint] config is used)")
    parser.add_argument("--per-package", action="store_true",
                        help="treat each directory directly under ROOT as a project of its own (the benchmark "
                             "corpus: `redis-5.2.1/` holds the package `redis`, so its modules get their real "
                             "names and relative imports resolve, as in the package's own repository)")
    parser.add_argument("--select", action="append", help="only these codes or prefixes (repeatable)")
    parser.add_argument("--jobs", type=int, default=default_jobs())
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    roots = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith(("_", "."))) \
        if args.per_package else [root]
    jobs = [(str(r), str(p)) for r in roots
            for p in iter_python_files([r], load_config(r) if (r / "pyproject.toml").is_file() else Config(root=r))]
    if not jobs:
        print(f"no Python files to check under {root} (is it git-ignored, or excluded by its config?)")
        return 2
    start = time.perf_counter()
    with ProcessPoolExecutor(args.jobs, initializer=_init, initargs=(args.select,)) as pool:
        results = list(pool.map(_one, jobs, chunksize=16))
    lines = sum(r[1] for r in results)
    skipped = [r for r in results if r[2]]
    narrowed = [r for r in results if r[3] and not r[2]]
    lost = [r for r in results if r[4]]
    print(f"{len(results)} files, {lines:,} lines in {time.perf_counter() - start:.0f} s; prefilter skipped "
          f"{len(skipped)} files ({sum(r[1] for r in skipped):,} lines), narrowed the rules on {len(narrowed)}; "
          f"files where it lost a finding: {len(lost)}")
    for path, _, _, _, found in lost[:20]:
        print(f"  LOST {path}: {'; '.join(found[:3])}")
    return 1 if lost else 0


if __name__ == "__main__":
    raise SystemExit(main())
