"""The traced client factory profile (`http-client-factory` configured): which client constructions the
project's factory builds, the factory's own body (never reported), whether a call's arguments fit the
factory's signature, and the finding every HTTP rule reports there: the construction swapped for the
factory (safe when the project's factory takes the arguments), or, for a client closed in `finally`, the
`try` turned into the factory's `with` (unsafe). Used by all four HTTP rules."""

from __future__ import annotations

from typing import Any

import libcst as cst

from proplint.core.context import FileContext
from proplint.core.rule import SAFE, UNSAFE, Fix, ImportRequest
from proplint.families.http.edits import closing_try_fix
from proplint.families.http.model import HttpClient, HttpLibrary

FACTORY_EXAMPLE_CONFIG = {"http-client-factory": "svc.http:traced_client"}
FACTORY_EXAMPLE_FILE = {
    "svc/http.py": (
        "import contextlib\nimport httpx\n\n@contextlib.asynccontextmanager\n"
        "async def traced_client(timeout=10.0, **kwargs):\n"
        "    async with httpx.AsyncClient(timeout=timeout, **kwargs) as client:\n        yield client\n"
    )
}


class FactoryProfile:
    """The configured factory (`module`, `name`) and what the index knows of it (`info`: kind, signature,
    what it constructs; None when it is not in the project)."""

    def __init__(self, ctx: FileContext, factory: tuple[str, str]) -> None:
        self.ctx = ctx
        self.module, self.name = factory
        self.info: dict[str, Any] | None = ctx.index.factory()

    def covers(self, entry: HttpClient) -> bool:
        if entry.kind != "client":
            return False
        built = set(self.info["constructs"]) if self.info else {"httpx.AsyncClient"}
        return entry.name in built

    def inside_factory(self) -> bool:
        if self.ctx.module_name != self.module:
            return False
        top = self.name.split(".")[0]
        return any(isinstance(a, (cst.FunctionDef, cst.ClassDef)) and a.name.value == top
                   for a in self.ctx.ancestors)

    def accepts(self, node: cst.Call) -> bool:
        info = self.info
        if not info:
            return False
        positional = 0
        for arg in node.args:
            if arg.star == "*":
                if not info["var_pos"]:
                    return False
            elif arg.star == "**":
                if not info["var_kw"]:
                    return False
            elif arg.keyword is None:
                positional += 1
            elif arg.keyword.value not in info["params"] and not info["var_kw"]:
                return False
        return positional <= info["positional"] or info["var_pos"]

    def finding(self, node: cst.Call, entry: HttpClient, library: HttpLibrary) -> tuple[str, Fix | None]:
        """The message and fix for a raw construction of a client the factory builds."""
        target = f"{self.module}.{self.name}"
        message = f"{entry.name} sends no trace context; use {target}"
        kind = self.info["kind"] if self.info else None
        parent = self.ctx.parent()
        in_with = isinstance(parent, cst.WithItem)
        with_node = self.ctx.parent(2)
        is_async_with = isinstance(with_node, cst.With) and with_node.asynchronous is not None
        fixable = (
            kind == "client"
            or (kind == "async_cm" and in_with and is_async_with)
            or (kind == "cm" and in_with and not is_async_with)
            or (kind is None and in_with and is_async_with == entry.is_async)
        )
        closing = None
        if not fixable and kind in ("async_cm", "cm") and not in_with:
            closing = closing_try_fix(self.ctx, node, self.name, kind == "async_cm")
        if not fixable and closing is None:
            return message + " (no automatic fix for this use)", None
        drops = [a.keyword.value for a in node.args if a.keyword and a.keyword.value in library.transport_drops]
        safe = self.accepts(node)
        note = ""
        if drops and (not self.info or self.info.get("transport")):
            safe = False
            note = f"; check {', '.join(drops)}=: httpx ignores it once the factory sets transport="
        top = self.name.split(".")[0]
        if closing is not None:  # the client's own lifetime becomes the factory's: always unsafe
            kw = "async with" if kind == "async_cm" else "with"
            return message + note, Fix(UNSAFE, f"Replace {entry.name} and its close in finally with "
                                               f"`{kw} {self.name}(...)`", replacements=closing,
                                       imports=[ImportRequest(self.module, top)])
        fix = Fix(
            SAFE if safe else UNSAFE,
            f"Replace {entry.name} with {target}",
            replacements=[(node, node.with_changes(func=cst.parse_expression(self.name)))],
            imports=[ImportRequest(self.module, top)],
        )
        return message + note, fix
