"""The prefilter is exact on the whole benchmark corpus (~1M lines of 53 pinned PyPI packages).

Every file is checked twice, through the prefilter and with every rule (default-off ones included) on
the parsed file; not one finding may be lost. Each package directory is its own project, so modules get
their real names (`redis.client`) and a package's relative imports of its own clients resolve, as in
its repository. `scripts/test.sh` fetches the corpus first
(`benchmarks/fetch_corpus.py`), so CI always runs this; elsewhere it is skipped until the corpus is
fetched. A few minutes on two cores: the unfiltered run parses every file.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "benchmarks" / "corpus"

pytestmark = pytest.mark.corpus


def test_the_prefilter_loses_no_finding_on_the_benchmark_corpus():
    fetched = [d for d in CORPUS.glob("*") if (d / ".complete").is_file()] if CORPUS.is_dir() else []
    if len(fetched) < 50:
        if os.environ.get("CI"):
            pytest.fail("the benchmark corpus is missing in CI: scripts/test.sh should have fetched it")
        pytest.skip("benchmark corpus not fetched (python benchmarks/fetch_corpus.py)")
    run = subprocess.run([sys.executable, "-m", "proplint.exactness", "--per-package", str(CORPUS)],
                         capture_output=True, text=True, timeout=1800)
    report = run.stdout + run.stderr
    m = re.search(r"(\d+) files, ([\d,]+) lines .* prefilter skipped (\d+) files .* narrowed the rules on (\d+); "
                  r"files where it lost a finding: (\d+)", report)
    assert m, report
    files, lines, skipped, narrowed, lost = int(m[1]), int(m[2].replace(",", "")), int(m[3]), int(m[4]), int(m[5])
    assert lost == 0 and run.returncode == 0, report
    # the proof covers the corpus, and the prefilter really rules out most of it
    assert files > 3000 and lines > 900_000, report
    assert skipped > files // 2, report
