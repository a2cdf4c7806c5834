"""The messaging family's shared fix edits (`Fixes`): a carrier built before the producer call and merged
into the library's carrier argument (shapes from `[[carrier_shape]]`; PRP301, PRP306), the payload
`trace_context` key (PRP301), the consumer wrap in a CONSUMER span (PRP302), and the small argument edits
the other rules' fixes use (`with_arg`, `kwarg`).

Every edit is in statement position: the carrier statements (`_carrier = {}` and `inject(_carrier)`, or
the configured injector) are inserted before the statement that is changed, keeping that statement's
leading comments above them. Templates are Python text with `$carrier`, `$value`, `$props`, `$message`
and `$key` (`core.cst.fill_template`), parsed with LibCST after substitution. `Fixes` is one class (about
280 lines) because every edit shares the per-file state: the carrier name already taken in a function, the
injector configured, the fresh names.
"""

from __future__ import annotations

import re

import libcst as cst

from proplint.core.context import FileContext
from proplint.core.cst import fill_template
from proplint.core.cst import append_args, exploded, has_star, keyword_arg, too_long
from proplint.core.rule import SAFE, UNSAFE, Fix, ImportRequest
from proplint.core.walk import visit
from proplint.families.messaging.facts import project_facts
from proplint.families.messaging.model import CarrierShape, Consumer, Producer

CARRIER = "_carrier"
PROPS = "_properties"
OTEL_INJECT = "opentelemetry.propagate.inject"
OTEL_EXTRACT = "opentelemetry.propagate.extract"


def with_arg(call: cst.Call, new_arg: cst.Arg) -> cst.Call:
    """`call` with `new_arg` appended in the call's own layout (`core.cst.append_args`)."""
    return append_args(call, [new_arg])


def kwarg(name: str, value: cst.BaseExpression) -> cst.Arg:
    return cst.Arg(keyword=cst.Name(name), value=value,
                   equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace("")))


class Fixes:
    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.shapes: dict[str, CarrierShape] = {e.name: e for e in ctx.catalog.get("carrier_shape")}

    # -- names and imports ----------------------------------------------------------------------------
    def name_for(self, qualname: str) -> tuple[str, list[ImportRequest]]:
        """How to spell an imported object here: an existing import of it, or a new one."""
        imports = self.ctx.resolver.module_scope.imports()
        for local, q in imports.items():
            if q == qualname:
                return local, []
        module, _, obj = qualname.rpartition(".")
        for local, q in imports.items():
            if q == module:
                return f"{local}.{obj}", []
        if obj not in imports and not self.ctx.resolver.module_defines(obj):
            return obj, [ImportRequest(module, obj)]
        return qualname, [ImportRequest(module)]

    def code(self, node: cst.CSTNode) -> str:
        return self.ctx.module.code_for_node(node)

    def expr(self, text: str) -> cst.BaseExpression:
        return cst.parse_expression(text, config=self.ctx.module.config_for_parsing)

    def stmt(self, text: str) -> cst.BaseStatement:
        return cst.parse_statement(text + "\n", config=self.ctx.module.config_for_parsing)

    # -- the carrier statements -----------------------------------------------------------------------
    def injector(self) -> tuple[str, str]:
        """(qualified name, style) of the injector the fixes call: the first configured one, else OTel's."""
        if self.ctx.config.injectors:
            name = self.ctx.config.injectors[0]
            styles = {style for q, style in project_facts(self.ctx.index)["injectors"] if q == name}
            return name, "returns" if styles == {"returns"} else "fills"
        return OTEL_INJECT, "fills"

    def carrier_statements(self) -> tuple[list[cst.BaseStatement], list[ImportRequest]]:
        qualname, style = self.injector()
        call, imports = self.name_for(qualname)
        if style == "returns":
            return [self.stmt(f"{CARRIER} = {call}()")], imports
        return [self.stmt(f"{CARRIER} = {{}}"), self.stmt(f"{call}({CARRIER})")], imports

    def statement_of(self, node: cst.CSTNode, ancestors: list[cst.CSTNode]) -> cst.SimpleStatementLine | None:
        """The simple statement line holding `node` (an ancestor), if it sits in a block of statements."""
        for i in range(len(ancestors) - 1, -1, -1):
            anc = ancestors[i]
            if isinstance(anc, (cst.Lambda, cst.BaseCompoundStatement)) and anc is not node:
                return None
            if isinstance(anc, cst.SimpleStatementLine):
                parent = ancestors[i - 1] if i else None
                return anc if isinstance(parent, (cst.IndentedBlock, cst.Module)) else None
        return None

    def insert_before(self, line: cst.SimpleStatementLine, new: list[cst.BaseStatement],
                      replaced: cst.SimpleStatementLine | None = None,
                      block: cst.CSTNode | None = None) -> tuple[cst.CSTNode, object]:
        """`new` statements inserted before `line` (replaced by `replaced`). With the indented `block` holding
        the line, the block is the fix's target: two carrier fixes in one block then overlap, so the second
        is built in the next round, where it finds the first one's carrier and reuses it (`carrier_ready`)."""
        target = replaced if replaced is not None else line
        if not new:
            return line, target
        first = new[0].with_changes(leading_lines=line.leading_lines)
        stmts = [first, *new[1:], target.with_changes(leading_lines=())]
        if isinstance(block, cst.IndentedBlock) and any(st is line for st in block.body):
            body = list(block.body)
            i = next(k for k, st in enumerate(body) if st is line)
            return block, block.with_changes(body=[*body[:i], *stmts, *body[i + 1:]])
        return line, cst.FlattenSentinel(stmts)

    @staticmethod
    def block_of(line: cst.CSTNode, ancestors: list[cst.CSTNode]) -> cst.CSTNode | None:
        """The indented block (or module) whose body holds `line`."""
        for i in range(len(ancestors) - 1, 0, -1):
            if ancestors[i] is line:
                return ancestors[i - 1]
        return None

    def carrier_ready(self, block: cst.CSTNode | None, line: cst.CSTNode) -> bool:
        """An earlier statement of the same block already fills the carrier (a fix applied before this one,
        or the project's code), and nothing between rebinds it or changes the current context: one carrier
        per block, not one per message."""
        if not isinstance(block, (cst.IndentedBlock, cst.Module)):
            return False
        made = {self.code(st).strip() for st in self.carrier_statements()[0][-1:]}
        ready = False
        for st in block.body:
            if st is line:
                return ready
            text = self.code(st).strip()
            if text in made:
                ready = True
            elif ready and (re.search(rf"\b{CARRIER}\b\s*(=|:)(?!=)", text) or re.search(r"\b(attach|detach)\(", text)
                            or isinstance(st, cst.BaseCompoundStatement) and CARRIER in text):
                ready = False
        return False

    # -- producer fixes -------------------------------------------------------------------------------
    def carrier_fix(self, call: cst.Call, entry: Producer, ancestors: list[cst.CSTNode],
                    bound: dict[str, cst.BaseExpression], v5: bool | None) -> Fix | None:
        shape = self.shapes.get(entry.shape)
        line = self.statement_of(call, ancestors)
        if shape is None or line is None:
            return None
        block = self.block_of(line, ancestors)
        before, imports = ([], []) if self.carrier_ready(block, line) else self.carrier_statements()
        imports = imports + [ImportRequest(*i.split(":")) if ":" in i else ImportRequest(i) for i in shape.imports]
        found = keyword_arg(call, entry.keyword, entry.index)
        present = found is not None and not (isinstance(found[1].value, cst.Name) and found[1].value.value == "None")
        if not present and has_star(call) and shape.kind not in ("kwargs", "rewrite"):
            return None
        new_call: cst.Call | None = None
        extra: list[cst.BaseStatement] = []
        keyword = entry.keyword or shape.keyword
        if shape.kind == "argument":
            if present:
                if not shape.merge:
                    return None
                value = self.expr(fill_template(shape.merge, value=self.code(found[1].value), carrier=CARRIER))
                new_call = call.deep_replace(found[1].value, value)
            elif shape.new:
                new_call = self._set_arg(call, found, keyword, self.expr(fill_template(shape.new, carrier=CARRIER)))
        elif shape.kind == "object":
            return self._object_fix(call, entry, shape, found, present, line, before, imports, ancestors, bound)
        elif shape.kind == "entries":
            if not present:
                return None
            value = self._entries(found[1].value, shape)
            if value is None:
                return None
            new_call = call.deep_replace(found[1].value, value)
        elif shape.kind == "kwargs":
            new_call = with_arg(call, cst.Arg(value=cst.Name(CARRIER), star="**"))
        elif shape.kind == "statements":
            if v5 is not True:
                return None
            if present and isinstance(found[1].value, cst.Name):
                extra = [self.stmt(fill_template(s, value=found[1].value.value, carrier=CARRIER)) for s in shape.merge_setup]
                new_call = call
            elif not present:
                extra = [self.stmt(fill_template(s, props=PROPS, carrier=CARRIER)) for s in shape.setup]
                new_call = self._set_arg(call, found, keyword, self.expr(fill_template(shape.new, props=PROPS)))
        elif shape.kind == "rewrite":
            new_call = self._rewrite(call, shape)
        if new_call is None:
            return None
        replaced = line.deep_replace(call, new_call) if new_call is not call else line
        depth = sum(isinstance(a, cst.IndentedBlock) for a in ancestors)
        unit = self.ctx.module.default_indent
        if new_call is not call and too_long(replaced, depth, unit, self.ctx.config.line_length):
            replaced = line.deep_replace(call, exploded(new_call, unit))  # the project's line length
        return Fix(SAFE if shape.safety == "safe" else UNSAFE,
                   f"Build a carrier with {self.injector()[0]} and pass it in {keyword or 'the message'}",
                   replacements=[self.insert_before(line, [*before, *extra], replaced, block)], imports=imports)

    def producer_fix(self, call: cst.Call, entry: Producer, ancestors: list[cst.CSTNode],
                     bound: dict[str, cst.BaseExpression], v5: bool | None) -> Fix | None:
        """The carrier in the library's own argument, else (`payload_fix` entries) in the payload."""
        fix = self.carrier_fix(call, entry, ancestors, bound, v5)
        if fix is None and entry.payload_fix:
            fix = self.payload_fix(call, entry, ancestors, bound)
        return fix

    def _set_arg(self, call: cst.Call, found, keyword: str, value: cst.BaseExpression) -> cst.Call:
        if found is not None:  # present as None: replace the value
            return call.deep_replace(found[1].value, value)
        return with_arg(call, kwarg(keyword, value))

    def _object_fix(self, call, entry, shape, found, present, line, before, imports, ancestors, bound) -> Fix | None:
        if not present:
            if not shape.new:
                return None
            new_call = self._set_arg(call, found, entry.keyword, self.expr(fill_template(shape.new, carrier=CARRIER)))
            return Fix(SAFE if shape.safety == "safe" else UNSAFE, f"Pass {entry.keyword} with a carrier",
                       replacements=[self.insert_before(line, before, line.deep_replace(call, new_call))],
                       imports=imports)
        value = found[1].value
        ctor, ctor_line = None, line
        if isinstance(value, cst.Call) and self.ctx.qualified_name(value.func) in shape.constructors:
            ctor = value
        elif isinstance(value, cst.Name) and value.value in bound:
            candidate = bound[value.value]
            if isinstance(candidate, cst.Call) and self.ctx.qualified_name(candidate.func) in shape.constructors:
                ctor = candidate
                ctor_line = self._line_in(candidate, ancestors)
        if ctor is None or ctor_line is None or has_star(ctor):
            return None
        field = keyword_arg(ctor, shape.field)
        if field is not None:
            merged = self.expr(fill_template(shape.merge, value=self.code(field[1].value), carrier=CARRIER))
            new_ctor = ctor.deep_replace(field[1].value, merged)
        else:
            new_ctor = with_arg(ctor, kwarg(shape.field, cst.Name(CARRIER)))
        replaced = ctor_line.deep_replace(ctor, new_ctor)
        return Fix(SAFE if shape.safety == "safe" else UNSAFE, f"Add the carrier to {shape.field}=",
                   replacements=[self.insert_before(ctor_line, before, replaced)], imports=imports)

    def _line_in(self, node: cst.CSTNode, ancestors: list[cst.CSTNode]) -> cst.SimpleStatementLine | None:
        """The statement line (in the current function's blocks) that holds `node`."""
        scope = self.ctx.resolver.function_scope()
        root = scope.node if scope is not None else self.ctx.module
        finder = _LineFinder(node)
        visit(root, finder)
        return finder.line

    def _entries(self, value: cst.BaseExpression, shape: CarrierShape) -> cst.BaseExpression | None:
        def entry(d: cst.BaseExpression) -> cst.BaseExpression | None:
            if not isinstance(d, cst.Dict):
                return None
            for el in d.elements:
                if isinstance(el, cst.DictElement) and isinstance(el.key, cst.SimpleString) \
                        and el.key.evaluated_value == shape.field:
                    merged = self.expr(fill_template(shape.merge, value=self.code(el.value), carrier=CARRIER))
                    return d.deep_replace(el.value, merged)
            new = cst.DictElement(cst.SimpleString(f'"{shape.field}"'), self.expr(fill_template(shape.new, carrier=CARRIER)))
            elements = list(d.elements)
            if elements and elements[-1].comma is cst.MaybeSentinel.DEFAULT:
                elements[-1] = elements[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            return d.with_changes(elements=[*elements, new])

        if isinstance(value, cst.List) and value.elements:
            out = []
            for el in value.elements:
                if not isinstance(el, cst.Element):
                    return None
                new = entry(el.value)
                if new is None:
                    return None
                out.append(el.with_changes(value=new))
            return value.with_changes(elements=out)
        if isinstance(value, cst.ListComp):
            new = entry(value.elt)
            return value.with_changes(elt=new) if new is not None else None
        return None

    def _rewrite(self, call: cst.Call, shape: CarrierShape) -> cst.Call | None:
        func = call.func
        if not isinstance(func, cst.Attribute):
            return None
        positional = [a for a in call.args if a.keyword is None and a.star != "**"]
        keywords = [a for a in call.args if a.keyword is not None or a.star == "**"]
        args: list[cst.Arg] = []
        if positional:
            parts = [("*" if a.star == "*" else "") + self.code(a.value) for a in positional]
            args.append(kwarg(shape.args_keyword, self.expr("(" + ", ".join(parts) + ",)")))
        if keywords:
            parts = [f"**{self.code(a.value)}" if a.star == "**" else f'"{a.keyword.value}": {self.code(a.value)}'
                     for a in keywords]
            args.append(kwarg(shape.kwargs_keyword, self.expr("{" + ", ".join(parts) + "}")))
        args.append(kwarg(shape.keyword, cst.Name(CARRIER)))
        for i in range(len(args) - 1):
            args[i] = args[i].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return call.with_changes(func=func.with_changes(attr=cst.Name(shape.method)), args=args)

    # -- payload fix ------------------------------------------------------------------------------------
    def payload_fix(self, call: cst.Call, entry: Producer, ancestors: list[cst.CSTNode],
                    bound: dict[str, cst.BaseExpression]) -> Fix | None:
        found = keyword_arg(call, entry.payload_keyword, entry.payload_index)
        if found is None:
            return None
        literal = self._dict_in(found[1].value, bound, 0)
        if literal is None:
            return None
        line = self._line_in(literal, ancestors)
        if line is None:
            return None
        key = self.ctx.config.trace_context_key
        if any(isinstance(el, cst.DictElement) and isinstance(el.key, cst.SimpleString)
               and el.key.evaluated_value == key for el in literal.elements):
            return None
        elements = list(literal.elements)
        if elements and elements[-1].comma is cst.MaybeSentinel.DEFAULT:
            elements[-1] = elements[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        new_el = cst.DictElement(cst.SimpleString(f'"{key}"'), cst.Name(CARRIER))
        new_literal = literal.with_changes(elements=[*elements, new_el])
        block = self.block_of(line, ancestors)
        before, imports = ([], []) if self.carrier_ready(block, line) else self.carrier_statements()
        return Fix(UNSAFE, f'Add the carrier to the payload under "{key}" (the consumer must read it)',
                   replacements=[self.insert_before(line, before, line.deep_replace(literal, new_literal), block)],
                   imports=imports)

    def _dict_in(self, expr: cst.BaseExpression, bound: dict[str, cst.BaseExpression], depth: int) -> cst.Dict | None:
        if depth > 3:
            return None
        if isinstance(expr, cst.Dict):
            return expr
        if isinstance(expr, cst.Call):
            func = expr.func
            if self.ctx.qualified_name(func) == "json.dumps" and expr.args and expr.args[0].keyword is None:
                return self._dict_in(expr.args[0].value, bound, depth + 1)
            if isinstance(func, cst.Attribute) and func.attr.value == "encode":
                return self._dict_in(func.value, bound, depth + 1)
        if isinstance(expr, cst.Name) and expr.value in bound:
            return self._dict_in(bound[expr.value], bound, depth + 1)
        return None

    # -- consumer wrap ------------------------------------------------------------------------------------
    def tracer(self) -> tuple[str, list[ImportRequest]]:
        for stmt in self.ctx.module.body:
            if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign):
                assign = stmt.body[0]
                if isinstance(assign.value, cst.Call) and len(assign.targets) == 1 and \
                        isinstance(assign.targets[0].target, cst.Name) and \
                        self.ctx.qualified_name(assign.value.func) == "opentelemetry.trace.get_tracer":
                    return assign.targets[0].target.value, []
        get_tracer, imports = self.name_for("opentelemetry.trace.get_tracer")
        return f"{get_tracer}(__name__)", imports

    def wrap(self, consumer: Consumer, message: str, body: list[cst.BaseStatement]) -> tuple[cst.With, list[ImportRequest]] | None:
        if not consumer.getter or not body:
            return None
        tracer, imports = self.tracer()
        extract, more = self.name_for(OTEL_EXTRACT)
        kind, more2 = self.name_for("opentelemetry.trace.SpanKind")
        getter = fill_template(consumer.getter, message=message, key=self.ctx.config.trace_context_key)
        span = fill_template(consumer.span, message=message)
        header = self.stmt(f"with {tracer}.start_as_current_span({span}, context={extract}({getter}), "
                           f"kind={kind}.CONSUMER):\n    pass")
        assert isinstance(header, cst.With)
        first = body[0]
        lead = getattr(first, "leading_lines", ())
        body = [first.with_changes(leading_lines=()), *body[1:]] if lead else body
        with_stmt = header.with_changes(body=cst.IndentedBlock(body=body), leading_lines=lead)
        return with_stmt, imports + more + more2


class _LineFinder(cst.CSTVisitor):
    def __init__(self, target: cst.CSTNode) -> None:
        self.target = target
        self.line: cst.SimpleStatementLine | None = None
        self._stack: list[cst.CSTNode] = []

    def on_visit(self, node: cst.CSTNode) -> bool:
        if self.line is not None:
            return False
        if node is self.target:
            for i in range(len(self._stack) - 1, -1, -1):
                anc = self._stack[i]
                if isinstance(anc, (cst.Lambda, cst.BaseCompoundStatement)):
                    return False
                if isinstance(anc, cst.SimpleStatementLine):
                    parent = self._stack[i - 1] if i else None
                    if isinstance(parent, (cst.IndentedBlock, cst.Module)):
                        self.line = anc
                    return False
            return False
        self._stack.append(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if self._stack and self._stack[-1] is original_node:
            self._stack.pop()
