"""Small LibCST helpers every family uses, one copy each: arguments of a call, names, short source text,
and catalog templates.

Plain `isinstance` code on purpose: `libcst.matchers` reads well but costs ~340 ms of import per process,
which every flake8 worker and editor save would pay.

Catalog templates (`rules/*.toml`: `template`, `new`, `merge`...) write their placeholders as `$name`
(Python code never contains `$`, so a template needs no escaping). The older `{name}` spelling of the
thread templates is still read when a template has no `$` (deprecated: see `docs/catalog.md`).
"""

from __future__ import annotations

import re
from string import Template

import libcst as cst

_EMPTY = cst.Module(body=[])
_LEGACY_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def keyword(call: cst.Call, name: str) -> cst.Arg | None:
    """The argument passed as `name=...`, or None."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg
    return None


def keyword_arg(call: cst.Call, name: str, index: int = -1) -> tuple[int, cst.Arg] | None:
    """The argument given by keyword `name`, or at positional `index` (counting positional arguments before
    any keyword, not `*args`); as (its position in `call.args`, the argument), or None."""
    positional = 0
    for i, arg in enumerate(call.args):
        if arg.keyword is not None:
            if name and arg.keyword.value == name:
                return i, arg
        elif not arg.star:
            if positional == index:
                return i, arg
            positional += 1
    return None


def has_star(call: cst.Call) -> bool:
    """Whether the call passes `*args` or `**kwargs` (its arguments cannot all be known)."""
    return any(arg.star for arg in call.args)


def code_of(node: cst.CSTNode) -> str:
    return _EMPTY.code_for_node(node)


def short(node: cst.CSTNode, limit: int = 40) -> str:
    """The node's source on one line, whitespace folded, cut to `limit` characters with `...`."""
    text = " ".join(code_of(node).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def last_name(expr: cst.BaseExpression | None) -> str | None:
    """`c` for the expression `a.b.c` or `c`, else None."""
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    if isinstance(expr, cst.Name):
        return expr.value
    return None


def last_part(name: str) -> str:
    """`c` for the dotted name `a.b.c`."""
    return name.rsplit(".", 1)[-1]


def fill_template(template: str, **values: str) -> str:
    """The template's text with each `$name` (or, in a template without `$`, the deprecated `{name}`)
    replaced by the given text."""
    if "$" in template or not _LEGACY_PLACEHOLDER.search(template):
        return Template(template).substitute(values)
    return template.format(**values)


class _Fill(cst.CSTTransformer):
    def __init__(self, values: dict[str, cst.BaseExpression]) -> None:
        self.values = values

    def leave_Name(self, original_node: cst.Name, updated_node: cst.Name) -> cst.BaseExpression:
        return self.values.get(original_node.value, updated_node)


def template_expression(template: str, **values: cst.BaseExpression) -> cst.BaseExpression:
    """The template as an expression whose placeholders are the given nodes themselves (moved, never
    re-typed or re-evaluated)."""
    placeholders = {key: f"__proplint_{key}__" for key in values}
    expr = cst.parse_expression(fill_template(template, **placeholders))
    return expr.visit(_Fill({placeholders[k]: v for k, v in values.items()}))  # type: ignore[return-value]
