"""The edit behind PRP201's fix for a `Thread` subclass that overrides `run()`: capture the creator's context
in `__init__` and run the original body inside it.

    class Worker(threading.Thread):               class Worker(threading.Thread):
        def run(self):                      ->        def __init__(self, *args, **kwargs):
            work()                                        super().__init__(*args, **kwargs)
                                                          self._caller_context = contextvars.copy_context()

                                                      def run(self):
                                                          self._caller_context.run(self._run)

                                                      def _run(self):
                                                          work()

`run` keeps its place and comments; its body (comments and all) moves unchanged to `_run`; an `__init__` of the
class's own gets the capture right after its `super().__init__(...)` (so before any `self.start()`).
The attribute is not `_context`: Python 3.14's `Thread` keeps its own `context=` there and enters it
around `run()`, so a second `run` of that name would raise "cannot enter context".
"""

from __future__ import annotations

import libcst as cst

#: names tried, in order, for the captured context and for the method the original body moves to
CONTEXT_NAMES = ("_caller_context", "_copied_context")
BODY_NAMES = ("_run", "_run_body")


def _method(cls: cst.ClassDef, name: str) -> cst.FunctionDef | None:
    return next((s for s in cls.body.body if isinstance(s, cst.FunctionDef) and s.name.value == name), None)


class _Names(cst.CSTVisitor):
    """Every identifier in the class (a name, an attribute, a parameter): a new name must be none of them."""

    def __init__(self) -> None:
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.names.add(node.value)


def _free(taken: set[str], choices: tuple[str, ...]) -> str | None:
    return next((n for n in choices if n not in taken), None)


def _self_name(fn: cst.FunctionDef) -> str | None:
    """The name of `fn`'s only parameter (`self`), or None when it takes anything else."""
    p = fn.params
    if len(p.params) != 1 or p.posonly_params or p.kwonly_params or p.star_kwarg \
            or not isinstance(p.star_arg, cst.MaybeSentinel) or p.params[0].default is not None:
        return None
    return p.params[0].name.value


def _is_super_init(stmt: cst.BaseStatement) -> bool:
    """`super().__init__(...)` or `<Base>.__init__(self, ...)` as a statement of its own."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1 or not isinstance(stmt.body[0], cst.Expr):
        return False
    call = stmt.body[0].value
    return isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and call.func.attr.value == "__init__"


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr) \
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))


def _blank_lines(stmt: cst.BaseStatement) -> list[cst.EmptyLine]:
    """The blank lines (never the comments) above a statement."""
    return [line for line in stmt.leading_lines if line.comment is None]


def run_in_captured_context(cls: cst.ClassDef, capture: cst.BaseExpression) -> cst.ClassDef | None:
    """`cls` capturing `capture` (the `copy_context()` expression) in `__init__` and running `run()`'s body
    in it; None when that cannot be done cleanly (no plain `run(self)` of its own, a decorated or async
    `run`, no free names)."""
    if not isinstance(cls.body, cst.IndentedBlock):
        return None
    run = _method(cls, "run")
    if run is None or run.asynchronous is not None or run.decorators:
        return None
    self_name = _self_name(run)
    if self_name is None:
        return None
    names = _Names()
    cls.visit(names)
    attr, body_name = _free(names.names, CONTEXT_NAMES), _free(names.names, BODY_NAMES)
    if attr is None or body_name is None:
        return None
    init = _method(cls, "__init__")
    if init is not None and (init.asynchronous is not None or not isinstance(init.body, cst.IndentedBlock)
                             or not init.params.params):
        return None
    stmts = list(cls.body.body)
    methods = [i for i, s in enumerate(stmts) if isinstance(s, cst.FunctionDef)]
    # the blank lines the class puts between its methods (one, if it shows none)
    gaps = [_blank_lines(stmts[i]) for i in methods if i > 0]
    gap = next((g for g in gaps if g), [cst.EmptyLine(indent=False)])

    capture_line = cst.SimpleStatementLine([cst.Assign(
        [cst.AssignTarget(cst.Attribute(cst.Name(init.params.params[0].name.value if init else "self"),
                                        cst.Name(attr)))], capture)])
    if not isinstance(run.body, cst.IndentedBlock):
        return None
    # `run` keeps its place, its comments and its header's; its body moves to the new method
    new_run = run.with_changes(body=run.body.with_changes(body=[cst.SimpleStatementLine([cst.Expr(
        cst.parse_expression(f"{self_name}.{attr}.run({self_name}.{body_name})"))])], footer=[]))
    moved = run.with_changes(name=cst.Name(body_name), leading_lines=gap,
                             body=run.body.with_changes(header=cst.TrailingWhitespace()))

    out: list[cst.BaseStatement] = []
    for stmt in stmts:
        if stmt is run:
            out += [new_run, moved]
        elif stmt is init:
            out.append(_with_capture(init, capture_line))
        else:
            out.append(stmt)
    if init is None:
        first = methods[0]  # run is a method: there is one
        new_init = cst.parse_statement(
            "def __init__(self, *args, **kwargs):\n    super().__init__(*args, **kwargs)\n")
        assert isinstance(new_init, cst.FunctionDef)
        body = new_init.body
        assert isinstance(body, cst.IndentedBlock)
        new_init = new_init.with_changes(
            body=body.with_changes(body=[*body.body, capture_line],
                                   indent=run.body.indent),
            leading_lines=_blank_lines(out[first]) if first > 0 else [])
        out[first] = out[first].with_changes(leading_lines=[*gap, *[line for line in out[first].leading_lines
                                                                     if line.comment is not None]])
        out.insert(first, new_init)
    return cls.with_changes(body=cls.body.with_changes(body=out))


def _with_capture(init: cst.FunctionDef, line: cst.SimpleStatementLine) -> cst.FunctionDef:
    """`init` with `line` right after its `super().__init__(...)` (else first, after any docstring)."""
    body = init.body
    assert isinstance(body, cst.IndentedBlock)
    stmts = list(body.body)
    at = next((i + 1 for i, s in enumerate(stmts) if _is_super_init(s)), None)
    if at is None:
        at = 1 if stmts and _is_docstring(stmts[0]) else 0
    stmts.insert(at, line)
    return init.with_changes(body=body.with_changes(body=stmts))
