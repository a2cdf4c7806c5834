"""Long fuzz run: hypothesmith programs through the whole engine, every rule and every fix.

    python scripts/fuzz.py --programs 3000

Each generated program is checked as is, and again with a header importing the APIs every family
matches (so the prefilter lets it through and the checks really run), plus a few real call sites so
fixes are produced. Properties: no exception escapes, PRP001 never reports an internal error, and every
fix compiles and is left unchanged by a second fix. Prints a summary; exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path

import hypothesmith
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proplint.config import load_config
from proplint.engine import analyse
from proplint.settings import make_settings
from proplint.fixes import fix_source

HEADER = (
    "import httpx, requests, aiohttp, threading, contextvars, asyncio, functools, redis\n"
    "from concurrent.futures import ThreadPoolExecutor\n"
    "from opentelemetry import trace, context\n"
)
SITES = [
    "client = httpx.AsyncClient()\n",
    "t = threading.Thread(target=print, args=(1,))\n",
    "with ThreadPoolExecutor() as pool:\n    pool.submit(print, 1)\n",
    "r = redis.Redis()\nr.lpush('q', '{}')\n",
    "var = None\ndef make():\n    return contextvars.ContextVar('x')\n",
]

stats = {"programs": 0, "analysed": 0, "fixed": 0, "failures": []}


def run(source: str, engine_settings) -> None:
    data = source.encode("utf-8", "surrogatepass")
    result = analyse(data, "fuzz.py", "fuzz.py", engine_settings)
    stats["analysed"] += bool(result.parsed)
    internal = [f for f in result.findings if f.code == "PRP001" and "internal error" in f.message]
    if internal:
        raise AssertionError(internal[0].message)
    fixed = fix_source(data, "fuzz.py", "fuzz.py", engine_settings, unsafe=True)
    if fixed.fixed is not None:
        stats["fixed"] += 1
        compile(fixed.fixed, "fuzz.py", "exec", dont_inherit=True)
        again = fix_source(fixed.fixed, "fuzz.py", "fuzz.py", engine_settings, unsafe=True)
        if again.fixed is not None and again.fixed != fixed.fixed:
            raise AssertionError("a second fix changed the fixed code")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--programs", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "pyproject.toml").write_text("[project]\nname = 'fuzz'\n")
        engine_settings = make_settings(load_config(root), use_cache=False, include_default_off=True)

        @settings(max_examples=args.programs, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(program=hypothesmith.from_grammar(), mode=st.sampled_from(["plain", "header", "sites"]),
               site=st.sampled_from(SITES))
        def fuzz(program: str, mode: str, site: str) -> None:
            stats["programs"] += 1
            source = {"plain": program, "header": HEADER + program, "sites": HEADER + program + "\n" + site}[mode]
            try:
                run(source, engine_settings)
            except SyntaxError:
                raise
            except Exception as exc:  # record and keep going: the summary lists every failure
                stats["failures"].append((source, "".join(traceback.format_exception(exc))))

        start = time.perf_counter()
        fuzz()
        elapsed = time.perf_counter() - start
    print(f"programs tried: {stats['programs']}, analysed: {stats['analysed']}, "
          f"with fixes: {stats['fixed']}, failures: {len(stats['failures'])}, {elapsed:.0f} s")
    for source, error in stats["failures"][:5]:
        print("-" * 60, "\n", source[:2000], "\n", error)
    return 1 if stats["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
