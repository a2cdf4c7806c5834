"""The prefilter is exact: a file it skips is one on which the full rules find nothing.

Checked here on a deterministic sample of real code (the running Python's standard library); the whole
benchmark corpus is checked by `python scripts/realcode.py --exactness` (its result is in the notes).
"""

from __future__ import annotations

import dataclasses
import sysconfig
from pathlib import Path

from proplint.config import Config
from proplint.engine import analyse, make_settings


def test_files_the_prefilter_skips_have_no_findings(tmp_path):
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts)
    sample = files[::12]
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    filtered = make_settings(Config(root=tmp_path), use_cache=False, include_default_off=True)
    exact = dataclasses.replace(filtered, use_prefilter=False, _checks=None, _prefilter=None)
    skipped = 0
    for path in sample:
        data = path.read_bytes()
        if filtered.prefilter().search(data) or len(data) > 300_000:
            continue
        skipped += 1
        found = [f for f in analyse(data, str(path), path.name, exact).findings if f.code != "PRP001"]
        assert found == [], f"{path}: the prefilter skipped a file with findings: {found[:3]}"
    assert skipped > 50
