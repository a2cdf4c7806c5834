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

from proplint.core.walk import visit

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


# --- appending arguments in the call's own layout ----------------------------------------------------------


def _breaks(ws) -> bool:
    return isinstance(ws, cst.ParenthesizedWhitespace)


def append_args(call: cst.Call, extra) -> cst.Call:
    """`call` with the arguments `extra` added at the end, laid out like the call already is:

    * one argument per line (a line break after the last argument's comma, the "magic trailing comma", or
      before the closing parenthesis): each new argument goes on its own line at the others' indentation,
      and the trailing comma is kept or left out as it was;
    * on one line: `, new`.
    The new arguments' own commas and trailing whitespace are replaced."""
    extra = [a.with_changes(comma=cst.MaybeSentinel.DEFAULT, whitespace_after_arg=cst.SimpleWhitespace(""))
             for a in extra]
    if not extra:
        return call
    args = list(call.args)
    if not args:
        return call.with_changes(args=_joined(extra, cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))))
    last = args[-1]
    trailing = isinstance(last.comma, cst.Comma)
    closing = last.comma.whitespace_after if trailing else last.whitespace_after_arg
    if _breaks(closing):
        # the whitespace between two arguments: after an earlier comma, or after the opening parenthesis
        between = args[-2].comma.whitespace_after if len(args) > 1 and isinstance(args[-2].comma, cst.Comma) \
            else call.whitespace_before_args
        if not _breaks(between):
            between = closing.with_changes(last_line=cst.SimpleWhitespace(closing.last_line.value + "    "))
        sep = cst.Comma(whitespace_after=between)
        before = last.comma.whitespace_before if trailing else cst.SimpleWhitespace("")
        args[-1] = last.with_changes(comma=sep.with_changes(whitespace_before=before),
                                     whitespace_after_arg=cst.SimpleWhitespace(""))
        new = _joined(extra, sep)
        if trailing:
            new[-1] = new[-1].with_changes(comma=cst.Comma(whitespace_after=closing))
        else:
            new[-1] = new[-1].with_changes(whitespace_after_arg=closing)
        return call.with_changes(args=[*args, *new])
    if not trailing:
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    return call.with_changes(args=[*args, *_joined(extra, cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))])


def _joined(items: list[cst.Arg], sep: cst.Comma) -> list[cst.Arg]:
    return [a.with_changes(comma=sep) for a in items[:-1]] + items[-1:]


def exploded(call: cst.Call, unit: str = "    ") -> cst.Call:
    """`call` with one argument per line, indented one `unit` deeper than its statement, and a trailing comma
    (black's and ruff's layout for a call that does not fit the line)."""
    if not call.args:
        return call

    def line(extra: str) -> cst.ParenthesizedWhitespace:
        return cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(), empty_lines=[], indent=True,
                                           last_line=cst.SimpleWhitespace(extra))

    args = [a.with_changes(comma=cst.Comma(whitespace_after=line(unit)), whitespace_after_arg=cst.SimpleWhitespace(""))
            for a in call.args]
    args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=line("")))
    return call.with_changes(whitespace_before_args=line(unit), args=args)


def too_long(statement: cst.CSTNode, depth: int, unit: str, width: int) -> bool:
    """`statement`, written at block `depth`, has a line longer than `width` characters."""
    lines = _EMPTY.code_for_node(statement).splitlines()
    return any(len(unit * depth) + len(text) > width for text in lines)


class AttributeStores(cst.CSTVisitor):
    """The values stored into `<owner>.<attr>` (any attribute when `attr` is None) under a node:
    `self.url = BASE + "/x"`, `_local.loop = asyncio.new_event_loop()`. `opaque`: it is also changed in
    place (`+=`) or through `setattr(<owner>, ...)`, so the values do not say all it holds."""

    def __init__(self, owner: str, attr: str | None = None) -> None:
        self.owner = owner
        self.attr = attr
        self.values: list[cst.BaseExpression] = []
        self.opaque = False

    def _matches(self, target: cst.BaseExpression) -> bool:
        return isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name) \
            and target.value.value == self.owner and (self.attr is None or target.attr.value == self.attr)

    def visit_Assign(self, node: cst.Assign) -> None:
        if any(self._matches(t.target) for t in node.targets):
            self.values.append(node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if self._matches(node.target):
            self.opaque = True

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "setattr" and node.args \
                and isinstance(node.args[0].value, cst.Name) and node.args[0].value.value == self.owner:
            self.opaque = True


def target_names(target: cst.CSTNode) -> set[str]:
    """The names an assignment, `for` or `with` target binds (`a`, `a, b`, `*rest`); an attribute or item target
    binds none."""
    if isinstance(target, cst.Name):
        return {target.value}
    if isinstance(target, (cst.Tuple, cst.List)):
        return {n for el in target.elements for n in target_names(el.value)}
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return set()



def variable_names(expr: cst.CSTNode) -> set[str]:
    """The variable names an expression reads (`x` of `x.attr`, not `attr`)."""
    finder = _VariableNames()
    visit(expr, finder)
    return finder.found


class _VariableNames(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.found.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        visit(node.value, self)  # `x.attr`: the attribute's name is not a variable
        return False
