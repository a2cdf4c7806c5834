"""Version constraints: does a project pin keep a distribution below a release (the one that fixed a bug,
PRP410; the one from which a tracing SDK carries a boundary, `[[sdk_propagation]]` `since`)?

The project index reads the constraints from dependency and lock files (`index.pins`); this reads them.
"""

from __future__ import annotations

import re
from typing import Iterable

_PART = re.compile(r"^(===|==|!=|<=|>=|~=|<|>|\^|~)?\s*(.+)$")


def release(text: str) -> tuple[int, ...] | None:
    """`1.24.0` -> (1, 24, 0); `1.23.*` -> (1, 23); pre/post-release suffixes are dropped."""
    nums = []
    for piece in text.strip().split("."):
        m = re.match(r"^(\d+)", piece)
        if not m:
            break
        nums.append(int(m.group(1)))
        if m.group(1) != piece:
            break
    return tuple(nums) or None


def _cmp(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    n = max(len(a), len(b))
    a, b = a + (0,) * (n - len(a)), b + (0,) * (n - len(b))
    return (a > b) - (a < b)


def _bump(v: tuple[int, ...], at: int) -> tuple[int, ...]:
    return (*v[:at], v[at] + 1)


def forbids_at_least(spec: str, threshold: str) -> bool:
    """Whether a constraint like `>=1.15,<1.24` (all parts must hold) excludes every version >= threshold."""
    t = release(threshold)
    if t is None:
        return False
    for part in spec.split(","):
        m = _PART.match(part.strip())
        if not m:
            continue
        op, text = m.group(1) or "==", m.group(2)
        v = release(text)
        if v is None:
            continue
        if op in ("==", "===") and text.endswith("*"):
            if _cmp(_bump(v, len(v) - 1), t) <= 0:
                return True
        elif op in ("==", "==="):
            if _cmp(v, t) < 0:
                return True
        elif op == "<" and _cmp(v, t) <= 0:
            return True
        elif op == "<=" and _cmp(v, t) < 0:
            return True
        elif op in ("~=", "~", "^"):
            if op == "~=":
                upper = _bump(v, max(len(v) - 2, 0))
            elif op == "~":
                upper = _bump(v, 1 if len(v) > 1 else 0)
            else:
                upper = _bump(v, next((i for i, x in enumerate(v) if x), len(v) - 1))
            if _cmp(upper, t) <= 0:
                return True
    return False


def pinned_below(pins: dict[str, list[str]], dists: Iterable[str], threshold: str) -> tuple[str, str] | None:
    """(dist, constraint) of the first pin that keeps one of `dists` below `threshold`, if any."""
    for dist in dists:
        for spec in pins.get(dist, ()):
            if forbids_at_least(spec, threshold):
                return dist, spec
    return None
