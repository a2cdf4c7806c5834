"""The per-file context, the `Check` base class, and the single traversal that runs every check.

One walk of the CST serves all enabled checks (never a pass per rule). The dispatcher keeps the
ancestor stack and the scope stack (for `resolve.Resolver`) and calls `visit_<Node>`/`leave_<Node>` on
each check, like LibCST's batched visitors but with the scopes still in place when a check's `leave_`
runs. No metadata provider is computed during the walk; positions are computed after it, and only for
files that have findings.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterable

import libcst as cst

from proplint.core.ast_names import ast_imports, module_name_for, parse_ast
from proplint.core.needs import Layout, Need, minimal, needs_of
from proplint.core.relevance import ProjectContext, project_context
from proplint.core.resolve import Resolver
from proplint.core.rule import Finding, Fix, Rule
from proplint.core.walk import visit

if TYPE_CHECKING:
    from proplint.core.catalog import Catalog
    from proplint.config import Config
    from proplint.index import ProjectIndex


@dataclass
class FileContext:
    path: str
    relpath: str
    module: cst.Module
    module_name: str | None
    config: "Config"
    catalog: "Catalog"
    index: "ProjectIndex"
    enabled: frozenset[str]
    #: the stdlib `ast` of the same text, when the engine already parsed it for an `ast_gates` test
    ast_file: "AstFile | None" = None
    resolver: Resolver = field(init=False)
    ancestors: list[cst.CSTNode] = field(default_factory=list)
    #: the most ancestors any node had: how deep LibCST's recursive code generation will go
    deepest: int = 0
    findings: list[Finding] = field(default_factory=list)
    #: the text may hold an assignment expression (`:=`): False lets the resolver skip expressions when it
    #: collects a scope's names
    walrus: bool = True

    def __post_init__(self) -> None:
        package = None
        if self.module_name is not None:
            is_pkg = self.relpath.endswith("__init__.py")
            package = self.module_name if is_pkg else self.module_name.rpartition(".")[0] or None
        self.resolver = Resolver(self.module, package, self.walrus)

    # -- convenience used by checks ----------------------------------------------------------------
    def qualified_name(self, expr: cst.BaseExpression) -> str | None:
        return self.resolver.qualified_name(expr)

    @property
    def project(self) -> "ProjectContext":
        """What says a context exists in this project, and which boundaries other SDKs carry
        (`core/relevance.py`), computed once per index."""
        return project_context(self.index, self.catalog)

    def parent(self, levels: int = 1) -> cst.CSTNode | None:
        """The ancestor `levels` above the node being visited (1 = its parent)."""
        i = len(self.ancestors) - 1 - levels
        return self.ancestors[i] if i >= 0 else None

    def enclosing(self, *types: type) -> cst.CSTNode | None:
        for node in reversed(self.ancestors[:-1]):
            if isinstance(node, types):
                return node
        return None

    def enclosing_statement(self) -> cst.CSTNode | None:
        """The innermost statement (simple line or compound) around the node being visited."""
        for node in reversed(self.ancestors[:-1]):
            if isinstance(node, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
                return node
        return None


class AstFile:
    """A file as the stdlib `ast` sees it (several times cheaper to get than LibCST's tree). `indexed`: the
    project index's facts of this exact text (`ProjectIndex.parsed_facts`), when it read it; then the tree is
    parsed only if something asks for it. `derived`: what gates computed from it, once."""

    def __init__(self, tree: ast.Module | None, module_name: str | None, relpath: str,
                 indexed: dict[str, Any] | None = None, source: bytes | str | None = None) -> None:
        self._tree, self.module_name, self.relpath = tree, module_name, relpath
        self.indexed, self._source = indexed, source
        self._imports: dict[str, str] | None = None
        self.derived: dict[str, Any] = {}

    @staticmethod
    def parse(source: bytes | str, relpath: str, src: tuple[str, ...] = ()) -> "AstFile | None":
        """The file's stdlib `ast`; None when it does not parse (LibCST then reports why)."""
        try:
            return AstFile(parse_ast(source), module_name_for(relpath, src), relpath)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None

    @staticmethod
    def of(source: bytes | str, raw: bytes, relpath: str, index: "ProjectIndex") -> "AstFile | None":
        """`parse`, or, when the index parsed exactly these bytes (so they do parse), a file whose tree is
        parsed on first use and whose gates can read the index's facts."""
        indexed = index.parsed_facts(relpath, raw)
        if indexed is None:
            return AstFile.parse(source, relpath, index.src)
        return AstFile(None, module_name_for(relpath, index.src), relpath, indexed, source)

    @property
    def tree(self) -> ast.Module:
        if self._tree is None:
            self._tree = parse_ast(self._source)  # type: ignore[arg-type]
            self._source = None
        return self._tree

    @property
    def imports(self) -> dict[str, str]:
        if self._imports is None:
            self._imports = ast_imports(self.tree, self.module_name, self.relpath.endswith("__init__.py"))
        return self._imports


@dataclass
class NeedsContext:
    """What a rule's `needs` may read: the loaded catalog, the config and the project index, plus the
    project's `Layout` (which packages a checked file can be in), computed once per index."""

    catalog: "Catalog"
    config: "Config"
    index: "ProjectIndex"

    @property
    def layout(self) -> Layout:
        return self.index.derived("core.layout", lambda ix: Layout(Path(self.config.root), ix))


class Check:
    """A family of rules implemented as one visitor. Subclasses define `visit_<Node>` methods."""

    rules: ClassVar[tuple[type[Rule], ...]] = ()

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx

    @classmethod
    def needs(cls, catalog: "Catalog", config: "Config", index: "ProjectIndex") -> list[Need]:
        """Where each rule can report (`core.needs.Need`); a rule none of whose needs a file meets is skipped.

        Each rule states its own condition (`Rule.needs`, in the one language of `core.needs`); this
        collects them for the prefilter.
        """
        project = NeedsContext(catalog, config, index)
        return minimal([n for rule in cls.rules for n in needs_of([rule.code], rule.needs(project))])

    @classmethod
    def ast_gates(cls, catalog: "Catalog", config: "Config", index: "ProjectIndex") -> dict[str, Callable[[AstFile], bool]]:
        """Exact second-stage tests, per rule, on a file's stdlib `ast`: a rule whose gate is False cannot
        report on the file. The engine uses them only when every rule still possible after the word test
        has one, so a file that fails them all is never given to LibCST."""
        return {}

    def enabled(self, rule: type[Rule]) -> bool:
        return rule.code in self.ctx.enabled

    def report(self, rule: type[Rule], node: cst.CSTNode, message: str, fix: Fix | None = None) -> None:
        if rule.code not in self.ctx.enabled:
            return
        self.ctx.findings.append(Finding(code=rule.code, message=message, path=self.ctx.path, fix=fix, node=node))


_SCOPE_KINDS = {cst.FunctionDef: "function", cst.ClassDef: "class", cst.Lambda: "lambda",
                cst.ListComp: "comprehension", cst.SetComp: "comprehension", cst.DictComp: "comprehension",
                cst.GeneratorExp: "comprehension"}


class Dispatcher(cst.CSTVisitor):
    def __init__(self, ctx: FileContext, checks: Iterable[Check]) -> None:
        self.ctx = ctx
        self._visit: dict[str, list[Callable[[Any], Any]]] = {}
        self._leave: dict[str, list[Callable[[Any], Any]]] = {}
        #: the same hooks by node type (looked up once per type)
        self._visit_of: dict[type, tuple[Callable[[Any], Any], ...]] = {}
        self._leave_of: dict[type, tuple[Callable[[Any], Any], ...]] = {}
        for check in checks:
            for attr in dir(type(check)):
                if attr.startswith("visit_"):
                    self._visit.setdefault(attr[6:], []).append(getattr(check, attr))
                elif attr.startswith("leave_"):
                    self._leave.setdefault(attr[6:], []).append(getattr(check, attr))

    # LibCST looks up visit_<Node>_<attribute> methods for every child attribute; no check uses them.
    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        pass

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        pass

    def walk(self, module: cst.Module) -> None:
        """Every code node of the module, in LibCST's order, through `walk.visit` (no node rebuilt)."""
        visit(module, self)

    def on_visit(self, node: cst.CSTNode) -> bool:
        ctx = self.ctx
        ancestors = ctx.ancestors
        ancestors.append(node)
        if len(ancestors) > ctx.deepest:
            ctx.deepest = len(ancestors)
        cls = type(node)
        kind = _SCOPE_KINDS.get(cls)
        if kind is not None:
            ctx.resolver.push(kind, node)
        hooks = self._visit_of.get(cls)
        if hooks is None:
            hooks = self._visit_of[cls] = tuple(self._visit.get(cls.__name__, ()))
        for fn in hooks:
            fn(node)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        cls = type(original_node)
        hooks = self._leave_of.get(cls)
        if hooks is None:
            hooks = self._leave_of[cls] = tuple(self._leave.get(cls.__name__, ()))
        for fn in hooks:
            fn(original_node)
        if cls in _SCOPE_KINDS:
            self.ctx.resolver.pop()
        self.ctx.ancestors.pop()
