"""Local servers a service launches itself: a call to one leaves the traced system.

A service that starts another program as a child process (`asyncio.create_subprocess_exec("java", "-jar",
"languagetool-server.jar", "--port", str(settings.LT_PORT))`) and talks to it on the loopback interface
(`f"http://localhost:{settings.LT_PORT}/v2/check"`) talks to a process of its own making that is not one
of the system's Python services: a Java or Node server, a binary. Such a program reads no trace header
unless it is launched with an agent, so the call carries nothing anyone continues. The evidence is the
launch itself:

* the index collector `launched_ports` records, per file, the ports a spawn call (`[[program_launcher]]`)
  passes to a program that is not a Python interpreter or a Python server launcher (`_OWN_RUNTIMES`), and
  that is not launched with a tracing agent (`-javaagent`, an `opentelemetry` or `otel` argument): the
  value after a port flag (`--port 8081`, `-p`, `--port=8081`, `f"--port={settings.LT_PORT}"`), or an
  argument that names a port (`str(settings.LANGUAGE_TOOL_PORT)`), as its digits or the last part of the
  name (`LANGUAGE_TOOL_PORT`; `port_name`);
* a URL whose start is a loopback origin (`localhost`, `127.*`, `[::1]`) with one of those ports of the same
  deploy unit goes to such a child (`Launched.local_child`).

A loopback URL alone is not enough: a sidecar proxy or a Dapr runtime on `localhost` does read trace
headers; nor is a Python child: it may be the project's own traced service.
"""

from __future__ import annotations

import ast
import re
import shlex

import libcst as cst

from proplint.core.ast_names import ast_qualname, all_nodes, walk
from proplint.core.context import FileContext
from proplint.core.units import units


#: programs that run Python (maybe the project's own traced service), and launchers that trace what they run
_OWN_RUNTIMES = re.compile(r"^(python[0-9.]*|pypy[0-9.]*|uvicorn|gunicorn|hypercorn|daphne|granian|celery|flask"
                           r"|django-admin|fastapi|opentelemetry-instrument|ddtrace-run|newrelic-admin|sentry-cli"
                           r"|uv|poetry|pipenv|pdm|hatch)$", re.IGNORECASE)
_AGENT = re.compile(r"javaagent|opentelemetry|otel|dd-java-agent|elastic-apm|newrelic", re.IGNORECASE)
_PORT_FLAG = re.compile(r"^-{1,2}([a-z-]*port|p)$", re.IGNORECASE)
_PORT_INLINE = re.compile(r"^-{1,2}[a-z-]*port=(\d+)$", re.IGNORECASE)
_LOOPBACK = re.compile(r"^[a-z][a-z0-9+.-]*://(localhost|127(?:\.\d{1,3}){3}|\[::1\]):(\d*)", re.IGNORECASE)


def spawner_tokens(catalog) -> tuple[bytes, ...]:
    """The words a launching file must contain: a launcher's own name, or its module's for the short common ones
    (`subprocess` for `subprocess.run`: `run` is in nearly every file, and the gate would pass them all)."""
    out = set()
    for e in catalog.get("program_launcher"):
        parts = e.name.split(".")
        out.add((parts[-2] if len(parts) > 1 and len(parts[-1]) <= 5 else parts[-1]).encode())
    return tuple(sorted(out))


def launched_ports(tree: ast.Module, imports, module, config, catalog) -> list[str]:
    """Index collector: the ports (digits, or the last part of the name that holds one) this file passes to a
    non-Python program it launches as a child process with no tracing agent."""
    spawners = {e.name: e.argv_index for e in catalog.get("program_launcher")}
    found: set[str] = set()
    for fn in [tree, *(n for n in all_nodes(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]:
        body = fn.body
        for node in (n for stmt in body for n in walk(stmt)):
            if not isinstance(node, ast.Call):
                continue
            index = spawners.get(ast_qualname(node.func, imports) or "")
            if index is None:
                continue
            argv = _argv(node, index, fn)
            if argv:
                found.update(_ports(argv))
    return sorted(found)


def _argv(call: ast.Call, index: int, scope: ast.AST) -> list[ast.expr] | None:
    """The launched command as a list of expressions, when it can be read: a list or tuple literal, `*cmd` or
    `cmd` bound once to one in the function, a command line string, or the program and its arguments passed
    one by one (`create_subprocess_exec("java", "-jar", path)`)."""
    if index >= len(call.args):
        return None
    first = call.args[index]
    if isinstance(first, ast.Starred):
        first = first.value
    elif isinstance(first, ast.Constant) and len(call.args) > index + 1:
        return list(call.args[index:])
    if isinstance(first, ast.Name):
        values = [n.value for n in walk(scope) if isinstance(n, ast.Assign)
                  and any(isinstance(t, ast.Name) and t.id == first.id for t in n.targets)]
        if len(values) != 1:
            return None
        first = values[0]
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        try:
            return [ast.Constant(value=w) for w in shlex.split(first.value)]
        except ValueError:
            return None
    return list(first.elts) if isinstance(first, (ast.List, ast.Tuple)) else None


def _ports(argv: list[ast.expr]) -> set[str]:
    program = argv[0] if argv else None
    if not (isinstance(program, ast.Constant) and isinstance(program.value, str)):
        return set()  # `sys.executable`, a name: not known to be another program
    if _OWN_RUNTIMES.match(program.value.rsplit("/", 1)[-1]) or any(_AGENT.search(_text(a)) for a in argv):
        return set()
    out: set[str] = set()
    for before, arg in zip(argv, argv[1:]):
        flagged = isinstance(before, ast.Constant) and isinstance(before.value, str) and _PORT_FLAG.match(before.value)
        if isinstance(arg, ast.Constant):
            inline = _PORT_INLINE.match(str(arg.value))
            if inline:
                out.add(inline.group(1))
            elif flagged and str(arg.value).isdigit():
                out.add(str(arg.value))
            continue
        if isinstance(arg, ast.JoinedStr) and len(arg.values) == 2 and isinstance(arg.values[0], ast.Constant) \
                and isinstance(arg.values[1], ast.FormattedValue) and _PORT_INLINE.match(f"{arg.values[0].value}0"):
            flagged, arg = True, arg.values[1].value  # `f"--port={settings.PORT}"`
        name = port_name(arg)
        if name and (flagged or "port" in name.lower()):
            out.add(name)
    return out


def port_name(expr) -> str | None:
    """The name a port is read from, through `str(...)`/`int(...)`: an attribute's last part
    (`settings.LT_PORT`) or an upper-case constant; a bare local (`port`) says nothing across functions."""
    while isinstance(expr, (ast.Call, cst.Call)) and len(expr.args) == 1:
        expr = expr.args[0] if isinstance(expr, ast.Call) else expr.args[0].value
    if isinstance(expr, ast.Attribute):
        return expr.attr
    if isinstance(expr, cst.Attribute):
        return expr.attr.value
    name = expr.id if isinstance(expr, ast.Name) else expr.value if isinstance(expr, cst.Name) else ""
    return name if name.isupper() else None


def _text(expr: ast.AST) -> str:
    return " ".join(str(n.value) for n in walk(expr) if isinstance(n, ast.Constant))


class Launched:
    """Whether a URL goes to a local child process the service launched itself (see the module docs)."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self._ports: frozenset[str] | None = None

    def ports(self) -> frozenset[str]:
        if self._ports is None:
            where = units(self.ctx.index, self.ctx.catalog)
            mine = where.unit_dir(self.ctx.relpath)
            self._ports = frozenset(p for rel, found in self.ctx.index.facts("http.launched")
                                    if mine is None or where.unit_dir(rel) == mine for p in found)
        return self._ports

    def local_child(self, origin: cst.BaseExpression | None) -> bool:
        """`origin` (the start of a URL, a literal or an f-string) is a loopback URL whose port is one the unit
        passes to a program it launches."""
        if origin is None or not self.ports():
            return False
        if isinstance(origin, cst.SimpleString) and isinstance(origin.evaluated_value, str):
            found = _LOOPBACK.match(origin.evaluated_value)
            return bool(found and found.group(2) and found.group(2) in self.ports())
        if not isinstance(origin, cst.FormattedString) or len(origin.parts) < 2:
            return False
        head, port = origin.parts[0], origin.parts[1]
        if not isinstance(head, cst.FormattedStringText):
            return False
        found = _LOOPBACK.match(head.value)
        if not found or found.group(2) or not head.value.endswith(":"):
            return False
        if not isinstance(port, cst.FormattedStringExpression):
            return False
        name = port_name(port.expression)
        return bool(name) and name in self.ports()
