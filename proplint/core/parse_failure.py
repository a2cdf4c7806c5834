"""PRP001: a file proplint could not read or parse. Reported like any finding; the run goes on."""

from __future__ import annotations

from proplint.core.rule import Invalid, Rule, Valid


class ParseFailure(Rule):
    code = "PRP001"
    name = "unparsable-file"
    summary = "A file could not be read or parsed, so it was not checked."
    what_it_does = """
        Reports a Python file that proplint could not decode, parse, or analyse within its limits
        (syntax errors, undecodable bytes, a bad coding cookie, nesting too deep for the parser).
        The message gives the reason; every other file is still checked. Only files that mention an API
        some enabled rule checks (e.g. `httpx`) are parsed at all, so a file that mentions none is never
        reported.
    """
    why = """
        A file that is not analysed may hold any of the propagation mistakes the other rules find.
        Reporting it keeps a clean run from meaning "not looked at".
    """
    example = """
        import httpx

        def handler(:
            ...
    """
    use_instead = """
        import httpx

        def handler():
            ...
    """
    fix_safety = "There is no fix: correct the file (or exclude it with `exclude`)."
    VALID = (Valid("import httpx\nx = 1\n"),)
    INVALID = (Invalid("import httpx\ndef f(:\n    pass\n"),)
