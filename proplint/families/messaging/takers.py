"""Who takes messages off a destination (`[[producer]] taken_by` and `stored_by`), and how.

A push onto a Redis list is a message only where someone takes it off as a unit of work: a worker that pops
one item and processes it. The index collector `collect_taken` records, per file, every call of a
`taken_by` or `stored_by` method (`blpop`, `lrange`...), and for a pop that takes no unit of work, how it
takes it (`method:how`):

* `signal`: the popped item is dropped (`client.blpop([key], timeout=5)` as a statement): a wait for a
  wake-up token, the waiter already holds the trace;
* `wrapper`: a function of the same name returns it (`def lpop(self, key): return self._redis.lpop(key)`):
  its callers call that name too and are classified themselves;
* `drain`: a loop collects the popped items into a list (`batch.append(record)`) that the same function
  writes to storage in one call (`bulk_create`, `executemany`...: `[[producer]] drained_into`), and does
  nothing else with them but make records of them (`record = Record.from_json(raw)`): the items are records
  on their way to a table, not work that continues a trace.

`list_uses(index)` answers for the whole project: the methods that take units of work, and the methods that
read a list as storage (a whole read, or a drain into storage).
"""

from __future__ import annotations

import ast

from proplint.config import Config
from proplint.core.ast_names import walk
from proplint.core.catalog import Catalog
from proplint.index import ProjectIndex

#: the methods that remove an item and return it (a move, `lmove`/`rpoplpush`, hands it to another list: not here)
_POPS = frozenset({"lpop", "rpop", "blpop", "brpop", "lmpop", "blmpop"})
#: a list collecting records: `batch.append(x)`, `batch.extend(xs)`, `seen.add(x)`
_COLLECT = frozenset({"append", "extend", "add"})


def taken_tokens(catalog: Catalog) -> tuple[bytes, ...]:
    return tuple(sorted({m.encode() for e in catalog.get("producer") for m in (*e.taken_by, *e.stored_by)}))


def collect_taken(tree: ast.Module, imports: dict, module: str | None, config: Config,
                  catalog: Catalog) -> list[str]:
    """The `taken_by` and `stored_by` methods this file calls (`blpop`, `lrange`...), a pop that takes no unit
    of work as `method:signal`, `method:wrapper` or `method:drain`."""
    producers = catalog.get("producer")
    taken = {m for e in producers for m in e.taken_by}
    names = taken | {m for e in producers for m in e.stored_by}
    bulk = frozenset(m for e in producers for m in e.drained_into)
    finder = _Takers(names, taken, bulk)
    finder.visit(tree)
    return sorted(finder.found)


def list_uses(index: ProjectIndex) -> tuple[frozenset[str], frozenset[str]]:
    """`(units, storage)`: the methods some file calls to take a unit of work off a list, and those it calls to
    read a list as storage (`lrange`, or a pop drained into a table, by its method name)."""
    def compute(ix: ProjectIndex) -> tuple[frozenset[str], frozenset[str]]:
        uses = [u for _, found in ix.facts("messaging.taken") for u in found]
        units = frozenset(u for u in uses if ":" not in u)
        storage = frozenset(u.split(":")[0] for u in uses if u.endswith(":drain"))
        return units, storage
    return index.derived("messaging.list_uses", compute)


class _Takers(ast.NodeVisitor):
    def __init__(self, names: set[str], taken: set[str], bulk: frozenset[str]) -> None:
        self.names, self.taken, self.bulk = names, taken, bulk
        self.found: set[str] = set()
        self.stack: list[ast.AST] = []  # the statements, loops and functions above the node visited

    def generic_visit(self, node: ast.AST) -> None:
        self.stack.append(node)
        super().generic_visit(node)
        self.stack.pop()

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in self.names:
            how = self._how(node, name) if name in self.taken else None
            self.found.add(f"{name}:{how}" if how else name)
        self.generic_visit(node)

    def _how(self, call: ast.Call, name: str) -> str | None:
        parent = self.stack[-1] if self.stack else None
        if isinstance(parent, ast.Await):
            parent = self.stack[-2] if len(self.stack) > 1 else None
        fn = next((n for n in reversed(self.stack) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))), None)
        if name not in _POPS:
            return None
        if isinstance(parent, ast.Expr):
            return "signal"
        if isinstance(parent, ast.Return) and fn is not None and fn.name == name:
            return "wrapper"
        if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name) \
                and fn is not None and self._drained(parent.targets[0].id, fn):
            return "drain"
        return None

    def _drained(self, item: str, fn: ast.AST) -> bool:
        """The popped `item` (or a value made from it) is collected into a list in the loop around the pop,
        and the function writes storage in bulk."""
        loop = next((n for n in reversed(self.stack) if isinstance(n, (ast.While, ast.For, ast.AsyncFor))
                     or n is fn), None)
        if loop is None or loop is fn:
            return False
        if not any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in self.bulk
                   for n in walk(fn)):
            return False
        body = walk(loop)
        derived = {item}
        changed = True
        while changed:  # `record = Record.from_json(item)`: a value made from the item is the item
            changed = False
            for n in body:
                targets = n.targets if isinstance(n, ast.Assign) else [n.target] if isinstance(n, ast.AnnAssign) else []
                if targets and n.value is not None and _mentions(n.value, derived):
                    for t in targets:
                        if isinstance(t, ast.Name) and t.id not in derived:
                            derived.add(t.id)
                            changed = True
        # the item only goes into the batch: made into a record (`x = Record.from_json(item)`) or collected;
        # any other call taking it (`handle(record)`) processes it one by one
        converting = {id(c) for n in body if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None
                      for c in walk(n.value) if isinstance(c, ast.Call)}
        collected = False
        for n in body:
            if not isinstance(n, ast.Call) or not any(_mentions(a, derived) for a in (*n.args, *n.keywords)):
                continue
            if isinstance(n.func, ast.Attribute) and n.func.attr in _COLLECT and not _mentions(n.func.value, derived):
                collected = True
            elif id(n) not in converting:
                return False
        return collected


def _mentions(expr: ast.AST, names: set[str]) -> bool:
    return any(isinstance(n, ast.Name) and n.id in names for n in walk(expr))
