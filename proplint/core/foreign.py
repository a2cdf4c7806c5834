"""The project's own functions in other modules: does one of them read the context? (`core/readers.py` asks.)

A consumer's handler, a thread's target or an executor's task often calls the project's code in another
module (`stats.interpret_ks_test(...)`, `handle_order(msg)`, `destination_is_blocked(host)`). The readers
looked only at the module at hand and took every call into another module as a read: the worker that runs
numpy statistics behind a helper of another module was reported. Here such a function is found by its
qualified name through the project's module map, its module parsed with the standard library's `ast`
(once per process, only when a check asks), and its body judged like the processing itself:

* `maybe` (conservative): some call may read the context: a `[[trace_activity]]` name or method, an injector
  or extractor, an instrumented library, a log call where the project's logs carry its request context, a
  method of something unknown, or the project's code that does (followed a few calls deep);
* `surely` (positive evidence): it starts or reads a span (trace activity), logs where logs carry the request
  context, or names one of the project's ContextVars, itself or in the project code it calls.

Builtins, calls of libraries not instrumented in the unit, and methods of values such calls returned read
nothing. A function that cannot be found (a dynamic attribute, a class's inherited method) is `maybe` and not
`surely`, so each question errs the way its caller needs.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass
from pathlib import Path

from proplint.core.ast_names import ast_imports, ast_qualname, dotted_name, parse_ast
from proplint.core.reexports import defining_name

_MAX_DEPTH = 3
#: annotations of plain values, whose methods run no user code
PLAIN_TYPES = frozenset({"str", "bytes", "int", "float", "bool", "complex", "bytearray"})


@dataclass(frozen=True)
class Verdict:
    maybe: bool
    surely: bool


_UNKNOWN = Verdict(maybe=True, surely=False)


class ProjectCode:
    """The project's functions by qualified name, parsed on demand (one per index: `project_code(index)`)."""

    def __init__(self, index, module_files: dict[str, str]) -> None:
        self.index = index
        self.module_files = module_files
        self._modules: dict[str, "tuple[ast.Module, dict[str, str], str] | None"] = {}
        self.verdicts: dict[tuple, Verdict] = {}
        #: project classes found with no `__init__` of their own -> (the class, its module's imports, module, tree)
        self.inherited: dict[str, tuple] = {}

    def _module(self, rel: str):
        if rel not in self._modules:
            try:
                source = (Path(self.index.root) / rel).read_bytes()
                tree = parse_ast(source)
            except (OSError, SyntaxError, ValueError, RecursionError, MemoryError):
                self._modules[rel] = None
            else:
                module = self.index.module_name(rel) or ""
                self._modules[rel] = (tree, ast_imports(tree, module, rel.endswith("__init__.py")), module)
        return self._modules[rel]

    def function(self, qualname: str):
        """(def node, its class or None, the module's imports, module name, the module tree) of the project
        function `pkg.mod.func` or method `pkg.mod.Class.method`, or None; a package's re-export is followed
        to the module defining it."""
        found = self._function(qualname)
        if found is None and qualname not in self.inherited:
            defined = defining_name(self.index, qualname)
            if defined is not None:
                found = self._function(defined)
                if defined in self.inherited:
                    self.inherited[qualname] = self.inherited[defined]
        if found is None and qualname not in self.inherited:
            found = self._inherited_method(qualname)
        return found

    def _inherited_method(self, qualname: str):
        """`pkg.models.Variant.save` that `Variant` does not define: the first of its project bases (in
        order, depth first) that defines it."""
        cls, _, method = qualname.rpartition(".")
        bases = self.index.class_bases()
        if cls not in bases or method == "__init__":
            return None
        todo, seen = list(bases[cls]), {cls}
        while todo and len(seen) < 30:
            base = todo.pop(0)
            if base in seen or base not in bases:
                continue
            seen.add(base)
            found = self._function(f"{base}.{method}")
            if found is not None:
                return found
            todo[:0] = bases[base]
        return None

    def _function(self, qualname: str):
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            rel = self.module_files.get(".".join(parts[:cut]))
            if rel is None:
                continue
            found = self._module(rel)
            if found is None:
                return None
            tree, imports, module = found
            rest = parts[cut:]
            body, cls = tree.body, None
            for i, name in enumerate(rest):
                node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                             and n.name == name), None)
                if node is None:
                    return None
                if isinstance(node, ast.ClassDef):
                    if i == len(rest) - 1:
                        init = next((n for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                                     and n.name == "__init__"), None)
                        if init is None:
                            self.inherited[qualname] = (node, imports, module, tree)
                        return (init, node, imports, module, tree) if init is not None else None
                    body, cls = node.body, node
                    continue
                if i != len(rest) - 1 or _stub(node):
                    return None  # a protocol's or an abstract method's body says nothing of what runs
                return node, cls, imports, module, tree
            return None
        return None


def _stub(fn) -> bool:
    """A body of only a docstring, `...`, `pass` or `raise NotImplementedError`, or an `@abstractmethod`."""
    if any((d.attr if isinstance(d, ast.Attribute) else getattr(d, "id", "")) == "abstractmethod"
           for d in fn.decorator_list):
        return True
    for stmt in fn.body:
        if isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
            continue
        if isinstance(stmt, ast.Raise) and stmt.exc is not None and "NotImplementedError" in ast.dump(stmt.exc):
            continue
        return False
    return True


def project_code(index, module_files: dict[str, str]) -> ProjectCode:
    return index.derived("core.project_code", lambda ix: ProjectCode(ix, module_files))


class Judge:
    """Judges project functions for a `core.readers.Readers` (its tables say what reads)."""

    def __init__(self, readers, code: ProjectCode) -> None:
        self.readers = readers
        self.code = code

    def verdict(self, qualname: str, depth: int = 0) -> Verdict:
        key = (qualname, self.readers.logs_read, self.readers.instrumented())
        if key in self.code.verdicts:
            return self.code.verdicts[key]
        found = self.code.function(qualname)
        if found is None:
            return self._inherited_constructor(qualname, depth)
        self.code.verdicts[key] = Verdict(maybe=False, surely=False)  # recursion: what is seen so far
        fn, cls, imports, module, tree = found
        result = _Body(self, fn, cls, imports, module, tree, depth).judge()
        self.code.verdicts[key] = result
        return result


    def _inherited_constructor(self, qualname: str, depth: int) -> Verdict:
        """`MigrationException("...")`: a project class with no `__init__` of its own runs its bases' one. Bases
        that are builtins (`Exception`), library classes where neither they nor a database or cache are
        instrumented in the unit, or project classes judged the same way, read nothing; anything else is
        unknown."""
        found = self.code.inherited.get(qualname)
        if found is None or depth >= _MAX_DEPTH:
            return _UNKNOWN
        cls, imports, module, tree = found
        local = {n.name for n in tree.body if isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))}
        maybe = surely = False
        for base in cls.bases:
            name = base.id if isinstance(base, ast.Name) else ""
            if name and hasattr(builtins, name) and name not in imports and name not in local:
                continue  # `Exception`, `ValueError`
            q = ast_qualname(base, imports, module, local)
            if q is None:
                return _UNKNOWN
            top = q.split(".")[0]
            if self.readers._library(top):  # an object mapper's model reaches an instrumented store (`_model_call`)
                maybe = maybe or self.readers._instrumented_top(top) or self.readers.stores_instrumented()
                continue
            v = self.verdict(q, depth + 1)
            maybe, surely = maybe or v.maybe, surely or v.surely
        return Verdict(maybe, surely)


class _Body:
    def __init__(self, judge: Judge, fn, cls, imports, module, tree, depth: int) -> None:
        self.judge_ = judge
        self.r = judge.readers
        self.fn, self.cls, self.imports, self.module, self.tree, self.depth = fn, cls, imports, module, tree, depth
        self.inert: set[str] = set()
        self.models: dict[str, str] = {}  # parameter -> the project class it is annotated with
        self.maybe = self.surely = False
        self.vars = set(self.r.ctx.index.project_contextvars())
        self.local_defs = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                           ast.ClassDef))}

    def judge(self) -> Verdict:
        for a in (*self.fn.args.posonlyargs, *self.fn.args.args, *self.fn.args.kwonlyargs):
            if a.annotation is not None and self._library_type(a.annotation):
                self.inert.add(a.arg)
            elif a.annotation is not None:
                typed = _plain_annotation(a.annotation)
                q = self._qualname(typed) if typed is not None else None
                if q and self.r._class(q) is not None:
                    self.models[a.arg] = q  # `order: Order`: its library members read nothing (`_model_call`)
        for stmt in self.fn.body:
            self._statement(stmt)
            if self.maybe and self.surely:
                break
        return Verdict(self.maybe, self.surely)

    # -- walking ------------------------------------------------------------------------------------------
    def _statement(self, stmt: ast.stmt) -> None:
        for node in _own_nodes(stmt):
            if isinstance(node, ast.NamedExpr) and self._inert(node.value):
                self._bind(node.target)  # `if rows := curs.execute(...).fetchall():`
            elif isinstance(node, ast.comprehension) and self._inert(node.iter):
                self._bind(node.target)  # `[row.get("id") for row in rows]`
        for node in _own_nodes(stmt):
            if isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and self.vars:
                q = self.imports.get(node.id) or (f"{self.module}.{node.id}" if node.id in self.local_defs else None)
                if q and any(q == v or v.endswith("." + q) for v in self.vars):
                    self.maybe = self.surely = True
        if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None and self._inert(stmt.value):
            for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]):
                self._bind(t)
        elif isinstance(stmt, (ast.For, ast.AsyncFor)) and self._inert(stmt.iter):
            self._bind(stmt.target)
        elif isinstance(stmt, (ast.With, ast.AsyncWith)):
            for item in stmt.items:
                if item.optional_vars is not None and self._inert(item.context_expr):
                    self._bind(item.optional_vars)
        for block in ("body", "orelse", "finalbody", "handlers"):
            for inner in getattr(stmt, block, ()) or ():
                if isinstance(inner, ast.ExceptHandler):
                    for s in inner.body:
                        self._statement(s)
                elif isinstance(inner, ast.stmt) and not isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                               ast.ClassDef)):
                    self._statement(inner)

    def _bind(self, target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            self.inert.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for el in target.elts:
                self._bind(el)

    def _inert(self, expr: ast.AST) -> bool:
        """Every call and name in `expr` is inert. What an inert call returns is a plain value, whatever its
        arguments were (`curs.execute(SQL, (State.DONE,)).fetchall()`): its arguments are not looked at."""
        stack = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Call):
                if self._call_verdict(node).maybe:
                    return False
                continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in self.inert \
                    and node.id not in ("self", "cls") and not self._is_library_name(node.id):
                return False
            if not isinstance(node, ast.Lambda):
                stack.extend(ast.iter_child_nodes(node))
        return True

    def _library_type(self, ann: ast.AST) -> bool:
        """An annotation of a plain value or of a library's class not instrumented in the unit, generics and
        `X | None` included (`curs: Cursor[DictRow]`, `pool: ConnectionPool | None`): its methods read nothing."""
        ann = _plain_annotation(ann)
        if ann is None:
            return False
        if isinstance(ann, ast.Name) and ann.id in PLAIN_TYPES:
            return True
        q = self._qualname(ann)
        top = q.split(".")[0] if q else ""
        return bool(top) and top not in ("typing", "typing_extensions", "collections", "abc") and \
            self.r._library(top) and not self.r._instrumented_top(top)

    def _module_value(self, name: str) -> bool:
        """A module-level variable of this module whose annotation is a library's class not instrumented in
        the unit (`pool: ConnectionPool[Connection] = create_pool()`): its methods read nothing."""
        ann = _module_annotations(self.tree).get(name)
        return ann is not None and self._library_type(ann)

    def _is_library_name(self, name: str) -> bool:
        if hasattr(builtins, name) and name not in self.imports:
            return True
        q = self.imports.get(name)
        return bool(q) and self.r._library(q.split(".")[0])

    def _qualname(self, expr: ast.AST) -> str | None:
        """`ast_qualname` through the module's imports and own definitions; `self.x`/`cls.x` as the class's."""
        if self.cls is not None:
            root = expr
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in ("self", "cls"):
                return ast_qualname(expr, {root.id: f"{self.module}.{self.cls.name}"})
        return ast_qualname(expr, self.imports, self.module, self.local_defs)

    # -- calls --------------------------------------------------------------------------------------------
    def _call(self, call: ast.Call) -> None:
        v = self._call_verdict(call)
        self.maybe = self.maybe or v.maybe
        self.surely = self.surely or v.surely

    def _call_verdict(self, call: ast.Call) -> Verdict:
        r = self.r
        func = call.func
        last = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if last in r.methods:
            return Verdict(True, True)
        root = func
        while isinstance(root, (ast.Attribute, ast.Subscript)):
            root = root.value
        if isinstance(root, ast.Call):
            inner = self._call_verdict(root)
            return inner if inner.maybe else Verdict(False, False)
        if isinstance(root, (ast.Constant, ast.JoinedStr)):
            return Verdict(False, False)  # `", ".join(parts)`: a method of a literal (its arguments are walked apart)
        if not isinstance(root, ast.Name):
            return _UNKNOWN
        name = root.id
        if name == self.fn.name and isinstance(func, ast.Attribute) and func.value is root and self.cls is None \
                and name not in self.imports and name not in self.inert:
            return Verdict(False, False)  # the function enqueues itself again (`task.delay(rest)`)
        if name in self.models and isinstance(func, ast.Attribute) and name not in self.inert:
            path = dotted_name(func)  # `order.save(...)`, `variant.attributes.filter(...)`
            if path and r._model_call(self.models[name] + path[len(name):]):
                return Verdict(False, False)  # a library model's own member
            if func.value is root and self.depth < _MAX_DEPTH and self.judge_.code.function(
                    f"{self.models[name]}.{func.attr}") is not None:
                return self.judge_.verdict(f"{self.models[name]}.{func.attr}", self.depth + 1)  # its own method
        if name in self.inert or _debug_record(func) or name not in self.imports and func is not root \
                and self._module_value(name):
            return Verdict(False, False)  # an inert value's method; a debug record, off where the service runs
        if r.logs_read and last in LOG_METHODS and _log_receiver(func):
            return Verdict(True, True)  # `self.logger.warning(...)`: a log record, whatever the logger's class
        if last in LOG_METHODS and _log_receiver(func) and not r.records_read():
            return Verdict(False, False)  # a log record where no record carries a context
        q = self._qualname(func)
        if q in r.names:
            return Verdict(True, True)
        if q is None:
            if hasattr(builtins, name) and func is root:
                return Verdict(False, False)
            return _UNKNOWN
        top = q.split(".")[0]
        if r.logs_read and (top in ("logging", "structlog", "loguru") or (
                last in LOG_METHODS and "log" in name.lower())):
            loud = last not in DEBUG_METHODS  # a debug record is off where the service runs
            return Verdict(loud, loud)
        if r._library(top):
            hit = r._instrumented_top(top)
            return Verdict(hit, False)
        if func is not root and r._model_call(q):
            return Verdict(False, False)  # `Page.objects.filter(...)`: a library model's own member
        if self.depth >= _MAX_DEPTH:
            return _UNKNOWN
        return self.judge_.verdict(q, self.depth + 1)


LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log", "notice",
                          "success"})
#: log levels off where a service runs: a record at this level is read by nobody in production, so the request
#: context its formatter would stamp on it is not a read (`logger.debug(...)`)
DEBUG_METHODS = frozenset({"debug"})


def _plain_annotation(ann: ast.AST) -> ast.AST | None:
    """The class an annotation names: `Cursor` of `Cursor[DictRow]`, of `Cursor | None` and of
    `Optional[Cursor]`; None for a string or a union of several classes."""
    if isinstance(ann, ast.BinOp) and isinstance(ann.op, ast.BitOr):
        sides = [a for a in (ann.left, ann.right) if not (isinstance(a, ast.Constant) and a.value is None)]
        return _plain_annotation(sides[0]) if len(sides) == 1 else None
    if isinstance(ann, ast.Constant) and isinstance(ann.value, str):  # `variant: "ProductVariant"`
        try:
            inner = ast.parse(ann.value.strip(), mode="eval").body
        except (SyntaxError, ValueError):
            return None
        return inner if isinstance(inner, (ast.Name, ast.Attribute)) else None
    if isinstance(ann, ast.Subscript):
        head = ann.value
        if (head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", "")) == "Optional":
            return _plain_annotation(ann.slice)
        return head
    return ann if isinstance(ann, (ast.Name, ast.Attribute)) else None


def _module_annotations(tree: ast.Module) -> dict[str, ast.AST]:
    """The module's annotated variables (`pool: ConnectionPool[...] = ...`), once per tree."""
    found = _ANNOTATIONS.get(id(tree))
    if found is None or found[0] is not tree:
        found = (tree, {n.target.id: n.annotation for n in tree.body
                        if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)})
        _ANNOTATIONS[id(tree)] = found
    return found[1]


_ANNOTATIONS: dict[int, tuple[ast.Module, dict[str, ast.AST]]] = {}


def _log_receiver(func: ast.AST) -> bool:
    """`logger.x`, `self._log.x`, `logging.x`: a method of a logger (a receiver whose name says `log`)."""
    if not isinstance(func, ast.Attribute):
        return False
    receiver = func.value
    name = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
    return isinstance(name, str) and "log" in name.lower()


def _debug_record(func: ast.AST) -> bool:
    """`logger.debug(...)`, `self._log.debug(...)`: a debug record of a logger."""
    return isinstance(func, ast.Attribute) and func.attr in DEBUG_METHODS and _log_receiver(func)


def _own_nodes(node: ast.AST):
    """The nodes of a statement's own expressions (not those of nested statements or definitions)."""
    stack = [node]
    first = True
    while stack:
        n = stack.pop()
        if not first and isinstance(n, (ast.stmt, ast.Lambda)):
            continue
        first = False
        yield n
        stack.extend(ast.iter_child_nodes(n))
