"""`proplint check --add-noqa`: append the codes found on each line to its `# noqa` comment (a new one
when it has none), keeping the codes already there; what flake8 and the CLI then silence. The comment goes
where flake8 looks for it: the end of the line, or the last line of a token spanning several (a
multi-line string). The result must compile before it is written, atomically."""

from __future__ import annotations

import warnings
from pathlib import Path

from proplint.core.rule import Finding
from proplint.noqa import NOQA, NOQA_CODES, suppressed, token_groups

#: codes never added: a file that does not parse (PRP001), an unused noqa (PRP002)
NOT_ADDED = ("PRP001", "PRP002")


def add_to_text(text: str, findings: list[Finding]) -> tuple[str, int]:
    """The text with the findings' codes in `# noqa` comments, and how many comments were added or extended."""
    groups = token_groups(text)
    if groups is None:
        return text, 0
    lines = text.splitlines(keepends=True)
    wanted: dict[int, tuple[int, set[str]]] = {}
    for f in findings:
        if f.code in NOT_ADDED or not 0 < f.line <= len(lines):
            continue
        lo, hi = next(((a, b) for a, b in groups if a <= f.line <= b), (f.line, f.line))
        wanted.setdefault(hi, (lo, set()))[1].add(f.code)
    changed = 0
    for last, (first, codes) in sorted(wanted.items()):
        joined = "".join(lines[first - 1:last])
        new = sorted(c for c in codes if not suppressed(c, joined))
        if not new:
            continue
        line = lines[last - 1]
        body = line.rstrip("\r\n")
        ending = line[len(body):]
        match = NOQA.search(body)
        if match is not None and match.group("codes"):
            kept = NOQA_CODES.findall(match.group(0).split(":", 1)[1])
            rest = body[match.end():].strip()
            body = f"{body[:match.start()]}# noqa: {', '.join(kept + new)}" + (f" {rest}" if rest else "")
        else:
            body = f"{body.rstrip()}  # noqa: {', '.join(new)}"
        lines[last - 1] = body + ending
        changed += 1
    return "".join(lines), changed


def line_edit(text: str, line: int, code: str) -> tuple[int, str, str] | None:
    """How to silence `code` reported at `line` (1-based), as an editor's "ignore for this line" needs it: (the
    physical line that takes the comment, its text, its new text), without line endings; None when the line
    is already silenced. The same placement as `add_to_text`."""
    new, changed = add_to_text(text, [Finding(code, "", "", line)])
    if not changed:
        return None
    before, after = text.splitlines(), new.splitlines()
    for i, (a, b) in enumerate(zip(before, after)):
        if a != b:
            return i + 1, a, b
    return None


def add_noqa(path: Path, findings: list[Finding]) -> tuple[int, str | None]:
    """Add the comments to the file at `path`: (comments added or extended, an error or None)."""
    from proplint.fixes import atomic_replace

    try:
        original = path.read_bytes()
        text = original.decode("utf-8")
    except OSError as exc:
        return 0, f"cannot read: {exc.strerror or exc}"
    except UnicodeDecodeError:
        return 0, "not UTF-8; no noqa comment added"
    new, count = add_to_text(text, findings)
    if not count:
        return 0, None
    data = new.encode("utf-8")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(data, str(path), "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as exc:
        return 0, f"adding noqa comments would not compile ({exc}); file left unchanged"
    error = atomic_replace(path, original, data)
    return (0, error) if error else (count, None)
