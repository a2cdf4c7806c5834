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


def noqa_line_map(text: str) -> dict[int, str]:
    """Physical line -> the text searched for `noqa` there, exactly as flake8 does it.

    flake8 joins the lines of one token (a multi-line string, a backslash continuation) and otherwise
    looks at the physical line only: a `# noqa` on the closing line of a multi-line call does not
    cover a finding reported on its first line.
    """
    lines = text.splitlines(keepends=True)
    mapping: dict[int, str] = {}
    lo, hi = len(lines) + 2, -1
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            lo, hi = min(lo, tok.start[0]), max(hi, tok.end[0])
            if tok.type in (tokenize.NL, tokenize.NEWLINE):
                joined = "".join(lines[lo - 1:hi])
                for n in range(lo, hi + 1):
                    mapping[n] = joined
                lo, hi = len(lines) + 2, -1
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return {}
    return mapping


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
