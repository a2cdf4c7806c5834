"""`# noqa` suppression with flake8's semantics, for the CLI (flake8 applies its own): a bare `# noqa`
silences every code on its line, `# noqa: PRP101,PRP2` the codes and prefixes named; the text searched is
the physical line, or every line of a token spanning several (a multi-line string).

File level: a line that is only `# flake8: noqa` skips the whole file, as flake8 does (flake8 skips it even
when codes follow); a line that is only `# proplint: noqa` does the same, and `# proplint: noqa: PRP1`
silences the codes named in the whole file (the flake8 plugin honours it too).

`unused_noqa` finds the `# noqa: PRP...` codes that suppress nothing (PRP002, opt-in)."""

from __future__ import annotations

import io
import re
import tokenize

from proplint.core.rule import Finding

NOQA = re.compile(r"#\s*noqa(?::[\s]?(?P<codes>[A-Z]+[0-9]+(?:[,\s]+)?)+)?", re.IGNORECASE)
NOQA_CODES = re.compile(r"[A-Z]+[0-9]+", re.IGNORECASE)
#: flake8's own test (`defaults.NOQA_FILE`, matched at the start of a line)
FLAKE8_FILE = re.compile(r"\s*# flake8[:=]\s*noqa", re.IGNORECASE)
PROPLINT_FILE = re.compile(r"\s*#\s*proplint[:=]\s*noqa(?P<codes>:\s*[A-Z]+[0-9]*(?:[,\s]+[A-Z]+[0-9]*)*)?\s*$",
                           re.IGNORECASE)


def token_groups(text: str) -> list[tuple[int, int]] | None:
    """(first, last) physical line of each logical group of tokens flake8 searches for `noqa` as one text:
    one line, or every line of a token spanning several. None when the text does not tokenize."""
    lines = text.splitlines(keepends=True)
    groups: list[tuple[int, int]] = []
    lo, hi = len(lines) + 2, -1
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.ENDMARKER, tokenize.DEDENT):
                continue
            lo, hi = min(lo, tok.start[0]), max(hi, tok.end[0])
            if tok.type in (tokenize.NL, tokenize.NEWLINE):
                groups.append((lo, hi))
                lo, hi = len(lines) + 2, -1
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return None
    return groups


def noqa_line_map(text: str) -> dict[int, str]:
    """Physical line -> the text searched for `noqa` there, exactly as flake8 does it.

    flake8 joins the lines of one token (a multi-line string, a backslash continuation) and otherwise
    looks at the physical line only: a `# noqa` on the closing line of a multi-line call does not
    cover a finding reported on its first line.
    """
    lines = text.splitlines(keepends=True)
    mapping: dict[int, str] = {}
    for lo, hi in token_groups(text) or ():
        joined = "".join(lines[lo - 1:hi])
        for n in range(lo, hi + 1):
            mapping[n] = joined
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


def file_noqa(text: str) -> tuple[str, ...] | None:
    """What a file-level directive silences in the whole file: () for everything, the code prefixes a
    `# proplint: noqa: ...` names, or None when there is no such line."""
    if "noqa" not in text.lower():
        return None
    found: list[str] = []
    for line in text.splitlines():
        if "noqa" not in line.lower():
            continue
        if FLAKE8_FILE.match(line):
            return ()
        match = PROPLINT_FILE.match(line)
        if match:
            if not match.group("codes"):
                return ()
            found += [c.upper() for c in NOQA_CODES.findall(match.group("codes"))]
    return tuple(found) if found else None


def file_suppressed(code: str, directive: tuple[str, ...] | None) -> bool:
    return directive is not None and (not directive or any(code.startswith(c) for c in directive))


def apply_noqa(source: bytes, encoding: str, findings: list[Finding],
               judge: frozenset[str] | None = None, path: str = "") -> list[Finding]:
    """The findings no `noqa` silences; with `judge` (the enabled codes, when PRP002 is one of them), plus a
    PRP002 finding for each `# noqa: PRP...` comment naming codes that silence nothing here."""
    if not findings and judge is None:
        return findings
    if b"noqa" not in source.lower():
        return findings
    text = source.decode(encoding, errors="replace")
    directive = file_noqa(text)
    if directive == ():
        return []
    mapping = noqa_line_map(text)
    lines = text.splitlines()

    def line_of(n: int) -> str:
        return mapping.get(n) or (lines[n - 1] if 0 < n <= len(lines) else "")

    kept = [f for f in findings if not suppressed(f.code, line_of(f.line)) and not file_suppressed(f.code, directive)]
    if judge is not None:
        unused = [u for u in unused_noqa(text, findings, judge, path)
                  if not suppressed(u.code, line_of(u.line)) and not file_suppressed(u.code, directive)]
        kept = sorted(kept + unused, key=lambda f: f.sort_key)
    return kept


def unused_noqa(text: str, findings: list[Finding], enabled: frozenset[str], path: str) -> list[Finding]:
    """PRP002: each `# noqa: ...` comment whose PRP codes (those of a rule enabled in this run) silence no
    finding in the lines it covers. A bare `# noqa` and other tools' codes are not judged: they may be for
    another linter."""
    groups = token_groups(text)
    if groups is None:
        return []
    out: list[Finding] = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return []
    for tok in tokens:
        if tok.type != tokenize.COMMENT:
            continue
        match = NOQA.search(tok.string)
        if match is None or not match.group("codes"):
            continue
        codes = [c.upper() for c in NOQA_CODES.findall(match.group(0).split(":", 1)[1])]
        line = tok.start[0]
        lo, hi = next(((a, b) for a, b in groups if a <= line <= b), (line, line))
        here = [f.code for f in findings if lo <= f.line <= hi]
        idle = [c for c in codes if c.startswith("PRP") and c != "PRP002"
                and any(e.startswith(c) for e in enabled) and not any(h.startswith(c) for h in here)]
        if idle:
            comment = match.group(0).strip()
            out.append(Finding("PRP002", f"`{comment}`: {', '.join(idle)} suppress{'es' * (len(idle) == 1)} "
                                         f"nothing on this line", path or "", line, tok.start[1] + 1, line,
                               tok.start[1] + 1 + len(match.group(0))))
    return out
