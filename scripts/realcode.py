"""Check and fix real code: the benchmark corpus plus the running Python's standard library.

    python scripts/realcode.py [PATH ...]     (default: benchmarks/corpus and the stdlib)

Zero crashes expected: no PRP001 "internal error", no exception. Every file with fixable findings is
fixed in memory (never written), with unsafe fixes too; the result must compile and a second fix must
leave it unchanged. Prints files, lines, findings per rule (so a jump is noticed), PRP001 reasons, and
fix statistics. Exits 1 on any crash or bad fix.
"""

from __future__ import annotations

import argparse
import collections
import sys
import sysconfig
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from proplint.config import Config
from proplint.engine import analyse, default_jobs
from proplint.settings import make_settings
from proplint.exactness import missed, unfiltered
from proplint.fixes import fix_source

_SETTINGS = None
_EXACT = None


def _init(root: str, exactness: bool) -> None:
    global _SETTINGS, _EXACT
    # scope "all": every file is analysed (tests and scripts too), as a robustness run should
    _SETTINGS = make_settings(Config(root=Path(root), scope="all"), use_cache=False, include_default_off=True)
    if exactness:
        _EXACT = unfiltered(_SETTINGS)


def _one(path: str) -> dict:
    out = {"path": path, "lines": 0, "codes": [], "prp001": [], "fixed": 0, "bad_fix": None, "crash": None,
           "skipped": False, "missed": []}
    try:
        data = Path(path).read_bytes()
        out["lines"] = data.count(b"\n")
        if _EXACT is not None:
            out["skipped"] = not _SETTINGS.possible(data) - {"PRP001"}
            out["missed"] = [f"{f.code}:{f.line}" for f in missed(data, path, path, _SETTINGS, _EXACT)]
        result = analyse(data, path, path, _SETTINGS)
        out["codes"] = [f.code for f in result.findings]
        out["prp001"] = [f.message for f in result.findings if f.code == "PRP001"]
        if any("internal error" in m for m in out["prp001"]):
            out["crash"] = out["prp001"][0]
        if any(f.fix is not None for f in result.findings):
            fixed = fix_source(data, path, path, _SETTINGS, unsafe=True)
            if fixed.error:
                out["bad_fix"] = fixed.error
            elif fixed.fixed is not None:
                compile(fixed.fixed, path, "exec", dont_inherit=True)
                again = fix_source(fixed.fixed, path, path, _SETTINGS, unsafe=True)
                if again.fixed is not None and again.fixed != fixed.fixed:
                    out["bad_fix"] = "not idempotent"
                out["fixed"] = fixed.applied
    except Exception as exc:  # the point of the script is to find these
        out["crash"] = f"{type(exc).__name__}: {exc}"
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--jobs", type=int, default=default_jobs())
    parser.add_argument("--exactness", action="store_true",
                        help="also run every rule wherever the prefilter ruled one out: no finding may be lost")
    args = parser.parse_args()
    roots = [Path(p) for p in args.paths] or [Path(__file__).resolve().parents[1] / "benchmarks" / "corpus",
                                             Path(sysconfig.get_paths()["stdlib"])]
    files = sorted(str(p) for r in roots if r.exists() for p in r.rglob("*.py")
                   if "site-packages" not in p.parts and p.is_file())
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(args.jobs, initializer=_init,
                                                                   initargs=(tmp, args.exactness)) as pool:
        results = list(pool.map(_one, files, chunksize=32))
    elapsed = time.perf_counter() - start
    per_rule = collections.Counter(c for r in results for c in r["codes"])
    crashes = [r for r in results if r["crash"]]
    bad = [r for r in results if r["bad_fix"]]
    reasons = collections.Counter(m.split(":")[0] for r in results for m in r["prp001"])
    print(f"roots: {', '.join(map(str, roots))}")
    print(f"files: {len(results)}, lines: {sum(r['lines'] for r in results)}, {elapsed:.0f} s with {args.jobs} jobs")
    print(f"crashes: {len(crashes)}; fixes applied: {sum(r['fixed'] for r in results)} in "
          f"{sum(1 for r in results if r['fixed'])} files; fixes that failed verification: {len(bad)}")
    print("findings per rule: " + ", ".join(f"{c} {n}" for c, n in sorted(per_rule.items())))
    print("PRP001 reasons: " + ", ".join(f"{n}x {m}" for m, n in reasons.most_common(8)))
    if args.exactness:
        skipped = [r for r in results if r["skipped"]]
        lost = [r for r in results if r["missed"]]
        print(f"prefilter: skipped {len(skipped)} of {len(results)} files "
              f"({sum(r['lines'] for r in skipped)} lines); files where it lost a finding: {len(lost)}")
        for r in lost[:10]:
            print(f"  MISSED {r['path']}: {r['missed']}")
    missed_any = any(r["missed"] for r in results)
    return 1 if crashes or missed_any or any(r["bad_fix"] == "not idempotent" for r in bad) else 0


if __name__ == "__main__":
    sys.exit(main())
