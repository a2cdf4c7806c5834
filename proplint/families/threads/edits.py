"""Call arguments as the catalog describes them, and the CST edits the thread family's fixes are made of.

`argument` reads a callable or executor argument by catalog position/keyword. The builders move the
original argument nodes (never re-typed or re-evaluated), so comments and layout survive; `wrapper`
renders a catalog `[[context_wrapper]]` template (`$fn`, `$ctx`) through `core.cst.template_expression`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Sequence

import libcst as cst

from proplint.core.cst import code_of, has_star, keyword, template_expression
from proplint.core.rule import ImportRequest

if TYPE_CHECKING:
    from proplint.core.catalog import Catalog
    from proplint.families.threads.model import ThreadSpawner

SPACE = cst.SimpleWhitespace(" ")
NO_SPACE = cst.SimpleWhitespace("")


def _plain_comma() -> cst.Comma:
    return cst.Comma(whitespace_after=SPACE)


def _layout_comma(comma) -> cst.Comma:
    """A comma for an inserted item: the neighbour's when it breaks the line (and holds no comment)."""
    if isinstance(comma, cst.Comma):
        text = code_of(comma)
        if "\n" in text and "#" not in text:
            return comma
    return _plain_comma()


def argument(call: cst.Call, index: int | None, name: str | None) -> cst.Arg | None:
    """The argument at positional `index` or with keyword `name` (positional before any star)."""
    if name:
        found = keyword(call, name)
        if found is not None:
            return found
    if index is None or index < 0:
        return None
    for i, arg in enumerate(call.args):
        if arg.star or arg.keyword is not None:
            return None
        if i == index:
            return arg
    return None


def _new_arg(value: cst.BaseExpression, name: str | None = None, comma=cst.MaybeSentinel.DEFAULT) -> cst.Arg:
    if name is None:
        return cst.Arg(value=value, comma=comma)
    return cst.Arg(value=value, keyword=cst.Name(name),
                   equal=cst.AssignEqual(whitespace_before=NO_SPACE, whitespace_after=NO_SPACE), comma=comma)


def insert_after(args: Sequence[cst.Arg], index: int, new: cst.Arg) -> list[cst.Arg]:
    """`new` placed right after `args[index]`, taking over that argument's comma (and line break)."""
    out = list(args)
    before = out[index]
    new = new.with_changes(comma=before.comma)
    out[index] = before.with_changes(comma=_plain_comma())
    out.insert(index + 1, new)
    return out


def insert_before(args: Sequence[cst.Arg], index: int, value: cst.BaseExpression) -> list[cst.Arg]:
    """A positional argument inserted at `index`, laid out like the argument it precedes."""
    out = list(args)
    comma = _layout_comma(out[index].comma) if index < len(out) else _plain_comma()
    out.insert(index, _new_arg(value, comma=comma))
    return out


def prepend_item(seq: cst.BaseExpression, value: cst.BaseExpression) -> cst.BaseExpression:
    """`(fn, a, b)` from a literal tuple/list `(a, b)`; `(fn, *expr)` from anything else; `(fn,)` from None."""
    if isinstance(seq, (cst.Tuple, cst.List)):
        elements = list(seq.elements)
        if not elements:
            return seq.with_changes(elements=[cst.Element(value, comma=cst.Comma())])
        comma = _layout_comma(elements[0].comma)
        if len(elements) == 1 and isinstance(seq, cst.Tuple) and code_of(elements[0].comma) == ",":
            elements[0] = elements[0].with_changes(comma=cst.MaybeSentinel.DEFAULT)  # `(a,)` -> `(fn, a)`
        return seq.with_changes(elements=[cst.Element(value, comma=comma), *elements])
    if isinstance(seq, cst.Name) and seq.value == "None":
        return cst.Tuple([cst.Element(value, comma=cst.Comma())])
    return cst.Tuple([cst.Element(value, comma=_plain_comma()), cst.StarredElement(seq)])


def thread_call_fix(call: cst.Call, spawner: "ThreadSpawner", wrapper: cst.BaseExpression) -> cst.Call | None:
    """`Thread(target=fn, args=a)` -> `Thread(target=<wrapper>, args=(fn, *a))`; None if it cannot be done
    safely (a `*`/`**` argument may hold the target or args)."""
    if has_star(call):
        return None
    args = list(call.args)
    t = next((i for i, a in enumerate(args) if a.keyword is not None and a.keyword.value == spawner.target_keyword),
             None)
    if t is None:
        t = spawner.target_index if spawner.target_index < len(args) and args[spawner.target_index].keyword is None \
            else None
    if t is None:
        return None
    fn = args[t].value
    args[t] = args[t].with_changes(value=wrapper)
    a = next((i for i, x in enumerate(args) if x.keyword is not None and x.keyword.value == spawner.args_keyword),
             None)
    if a is None and spawner.args_index < len(args) and args[spawner.args_index].keyword is None:
        a = spawner.args_index
    if a is not None:
        args[a] = args[a].with_changes(value=prepend_item(args[a].value, fn))
        return call.with_changes(args=args)
    new = _new_arg(cst.Tuple([cst.Element(fn, comma=cst.Comma())]), spawner.args_keyword)
    # After a keyword target; after the last argument when the target is positional.
    at = t if args[t].keyword is not None else len(args) - 1
    return call.with_changes(args=insert_after(args, at, new))


def append_keyword(call: cst.Call, name: str, value: cst.BaseExpression) -> cst.Call | None:
    if any(a.star == "**" for a in call.args):
        return None
    args = list(call.args)
    new = _new_arg(value, name)
    if not args:
        return call.with_changes(args=[new])
    return call.with_changes(args=insert_after(args, len(args) - 1, new))


def copy_run(attr: cst.Attribute) -> cst.Attribute:
    """`ctx.run` -> `ctx.copy().run`."""
    return attr.with_changes(value=cst.Call(func=cst.Attribute(value=attr.value, attr=cst.Name("copy"))))


def context_wrapper(catalog: "Catalog", name: str,
                    **values: cst.BaseExpression) -> tuple[cst.BaseExpression, list[ImportRequest]]:
    """The catalog's `[[context_wrapper]]` `name` as an expression over the given nodes, and its imports."""
    entry = {e.name: e for e in catalog.get("context_wrapper")}[name]
    return template_expression(entry.template, **values), [ImportRequest(m) for m in entry.imports]
