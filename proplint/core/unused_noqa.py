"""PRP002: a `# noqa: PRP...` comment that suppresses nothing (opt-in, like ruff's RUF100)."""

from __future__ import annotations

from proplint.core.rule import Invalid, Rule, Valid


class UnusedNoqa(Rule):
    code = "PRP002"
    name = "unused-noqa"
    summary = "A `# noqa` comment names a proplint code that has no finding on its line."
    what_it_does = """
        Reports a `# noqa: PRP...` comment whose proplint codes suppress no finding on the line it
        covers, for example left behind after the code was fixed. Only codes of rules enabled in the run are
        judged; a bare `# noqa` and other tools' codes (`E501`) are left alone, since they may be for
        another linter. Reported by `proplint check` (flake8 applies its own `noqa`).
    """
    why = """
        A stale `# noqa` silences the next real finding on that line: a client or thread added there
        later would lose its trace context without anyone being told.
    """
    example = """
        import httpx

        client = httpx.Client(event_hooks=hooks)  # noqa: PRP101
    """
    use_instead = """
        import httpx

        client = httpx.Client(event_hooks=hooks)
    """
    fix_safety = "There is no fix: delete the code from the comment (or the comment)."
    default_enabled = False
    VALID = (
        Valid("import httpx\nclient = httpx.AsyncClient()  # noqa: PRP101\n", {"select": ["PRP002", "PRP1"]}),
        Valid("x = 1  # noqa: E501\ny = 2  # noqa\n", {"select": ["PRP002", "PRP1"]}),
    )
    INVALID = (
        Invalid("import httpx\nx = 1  # noqa: PRP101\n", config={"select": ["PRP002", "PRP1"]}),
    )
