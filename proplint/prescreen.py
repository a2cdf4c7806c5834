"""Decide, before LibCST sees a file, whether it can be parsed safely and in reasonable time.

Measured with LibCST 1.9 on this machine (one expression per file): a 20,000-term `x or x or ...`
segfaults the native parser (the whole process dies); 1,000 nested calls take 27 s to parse, a 5,000-link
`+` chain 18 s, a 2,000-link attribute chain 74 s, a 100,000-entry dict literal over 120 s, while the
standard library handles all of them in well under 5 s. Generated code (protobuf, migrations, data
tables) is full of such shapes.

The screen costs almost nothing on ordinary files: C-speed byte counts decide whether a tokenize pass
is needed at all, and only that pass measures each logical line (bracket depth, operators, dots, tokens).
A file over a limit gets PRP001 with the reason instead of a parse.
"""

from __future__ import annotations

import io
import re
import tokenize

#: CPython itself rejects more than 200 nested brackets ("too many nested parentheses").
MAX_DEPTH = 200
#: Binary/boolean operators in one logical line (20,000 `or` terms crash the parser; 5,000 `+` take 18 s).
MAX_OPERATORS = 2500
#: Attribute accesses in one logical line (LibCST is super-linear on long chains: 1,000 links ~1 s).
MAX_DOTS = 1200
#: Tokens in one logical line (a 30,000-entry dict literal, ~120,000 tokens, parses in ~3 s).
MAX_TOKENS = 150_000

_OPERATORS = frozenset("+ - * / // % ** @ << >> & | ^ == != < > <= >= and or in is not".split())

# Gates: below all of these, no logical line can reach a limit above.
_GATE_BYTES = 256 * 1024
_GATE_LINE = 4000
_GATE_BOOL = 2000


_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"()[]{}")))
_INNERMOST = re.compile(rb"\(\)|\[\]|\{\}")


def _nesting_exceeds(source: bytes, limit: int) -> bool:
    """Whether brackets may nest deeper than `limit` (C-speed: keep only brackets, then peel the
    innermost pairs; each peel removes one level). Brackets in strings make it an estimate: a gate."""
    brackets = source.translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        peeled = _INNERMOST.sub(b"", brackets)
        if peeled == brackets:
            return False
        brackets = peeled
    return bool(brackets)


def _needs_tokenize(source: bytes) -> bool:
    if len(source) > _GATE_BYTES:
        return True
    if _nesting_exceeds(source, MAX_DEPTH):
        return True
    if source.count(b" or ") + source.count(b" and ") > _GATE_BOOL:
        return True
    if source.count(b"+") > MAX_OPERATORS:
        return True
    longest = max((len(line) for line in source.splitlines()), default=0)
    return longest > _GATE_LINE


def screen(source: bytes | str) -> str | None:
    """None when LibCST may be given the file, else the reason it must not be."""
    raw = source.encode("utf-8", "surrogateescape") if isinstance(source, str) else source
    if not _needs_tokenize(raw):
        return None
    text = source if isinstance(source, str) else raw.decode("utf-8", errors="replace")
    depth = operators = dots = tokens = 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            kind, string = tok.type, tok.string
            if kind == tokenize.NEWLINE:
                operators = dots = tokens = 0
                continue
            tokens += 1
            if kind == tokenize.OP:
                if string in "([{":
                    depth += 1
                    if depth > MAX_DEPTH:
                        return f"brackets nested more than {MAX_DEPTH} deep (line {tok.start[0]})"
                elif string in ")]}":
                    depth = max(depth - 1, 0)
                elif string == ".":
                    dots += 1
                    if dots > MAX_DOTS:
                        return f"an attribute chain of more than {MAX_DOTS} links (line {tok.start[0]})"
                elif string in _OPERATORS:
                    operators += 1
            elif kind == tokenize.NAME and string in _OPERATORS:
                operators += 1
            if operators > MAX_OPERATORS:
                return f"an expression with more than {MAX_OPERATORS} operators (line {tok.start[0]})"
            if tokens > MAX_TOKENS:
                return f"a statement of more than {MAX_TOKENS} tokens (line {tok.start[0]})"
    except (tokenize.TokenError, SyntaxError, IndentationError, RecursionError):
        # Python 3.12+ tokenizes in C and itself refuses more than 200 nested brackets
        if _nesting_exceeds(raw, MAX_DEPTH):
            return f"brackets nested more than {MAX_DEPTH} deep"
        return None  # LibCST will report the syntax error itself
    return None
