"""Where an HTTP rule can report: a client or request function of the catalog with the rule's code is
resolved through an import of its library (its top-level module is named on an import statement), or, in
a project that is that library (`requests/api.py`: `from . import sessions`), through a relative import:
`from` and the client's own last name (`sessions.Session()`) are then words of the file, a file of that
library's package (`core.needs.inside`)."""

from __future__ import annotations

from proplint.core.context import NeedsContext
from proplint.core.cst import last_part
from proplint.core.needs import Cond, all_of, any_of, imported, inside, words


def client_needs(project: NeedsContext, code: str) -> Cond:
    entries = [e for e in project.catalog.get("http_client") if e.code == code]
    tops = sorted({e.name.split(".")[0] for e in entries})
    relative = [all_of(words({"from"}, {last_part(e.name) for e in entries if e.name.split(".")[0] == top}),
                       inside(top)) for top in tops if project.layout.provides(top)]
    return any_of(imported(tops), *relative)
