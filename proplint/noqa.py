"""`# noqa` suppression with flake8's semantics, for the CLI (flake8 applies its own): a bare `# noqa`
silences every code on its line, `# noqa: PRP101,PRP2` the codes and prefixes named; the text searched is
the physical line, or every line of a token spanning several (a multi-line string)."""

from __future__ import annotations

import io
import re
import tokenize

from proplint.core.rule import Finding

NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+)?)+)?", re.IGNORECASE)
NOQA_CODES = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)


def _token_groups(text: str) -> list[tuple[int, int]]:
    """The (first, last) physical lines of each run of tokens flake8 reads as one line for `noqa`."""
    groups = []
    lo, hi = 1 << 30, -1
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.ENDMARKER, tokenize.DEDENT):
            continue
        lo, hi = min(lo, tok.start[0]), max(hi, tok.end[0])
        if tok.type in (tokenize.NL, tokenize.NEWLINE):
            groups.append((lo, hi))
            lo, hi = 1 << 30, -1
    return groups


def noqa_line_map(text: str) -> dict[int, str]:
    """Physical line -> the text searched for `noqa` there, exactly as flake8 does it.

    flake8 joins the lines of one token (a multi-line string, a backslash continuation) and otherwise
    looks at the physical line only: a `# noqa` on the closing line of a multi-line call does not
    cover a finding reported on its first line.
    """
    lines = text.splitlines(keepends=True)
    mapping: dict[int, str] = {}
    try:
        groups = _token_groups(text)
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return {}
    for lo, hi in groups:
        joined = "".join(lines[lo - 1:hi])
        for n in range(lo, hi + 1):
            mapping[n] = joined
    return mapping


def add_noqa(text: str, line: int, code: str) -> tuple[int, str, str] | None:
    """How to silence `code` reported at `line` (1-based): (the physical line that takes the comment, its
    text, its new text), without line endings. The comment goes on the last line flake8 joins with `line`
    (after a multi-line string or a backslash continuation, where a comment is legal); `code` is added to a
    `# noqa: ...` already there, else `  # noqa: CODE` is appended. None if the line is already silenced."""
    physical = io.StringIO(text).readlines()
    target = line
    try:
        for lo, hi in _token_groups(text):
            if lo <= line <= hi:
                target = hi
                break
    except (tokenize.TokenError, SyntaxError, IndentationError):
        pass
    if not 0 < target <= len(physical):
        return None
    old = physical[target - 1].rstrip("\r\n")
    match = NOQA.search(old)
    if match is not None:
        if suppressed(code, old):
            return None
        if match.group("codes"):
            end = match.start() + len(match.group(0).rstrip(", \t"))
            return target, old, f"{old[:end]},{code}{old[end:]}"
    return target, old, f"{old.rstrip()}  # noqa: {code}"


def suppressed(code: str, line_text: str) -> bool:
    match = NOQA.search(line_text)
    if match is None:
        return False
    codes_text = match.group("codes")
    if not codes_text:
        return True
    codes = [c.upper() for c in NOQA_CODES.findall(match.group(0).split(":", 1)[1])]
    return any(code == c or code.startswith(c) for c in codes)


def apply_noqa(source: bytes, encoding: str, findings: list[Finding]) -> list[Finding]:
    if not findings:
        return findings
    text = source.decode(encoding, errors="replace")
    if "noqa" not in text.lower():
        return findings
    mapping = noqa_line_map(text)
    lines = text.splitlines()
    kept = []
    for f in findings:
        line_text = mapping.get(f.line) or (lines[f.line - 1] if 0 < f.line <= len(lines) else "")
        if not suppressed(f.code, line_text):
            kept.append(f)
    return kept
