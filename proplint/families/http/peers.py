"""Who receives an HTTP call: a boundary that leaves the system is not a propagation mistake.

A trace header matters only where one of the project's own services reads it. A call to a public API (a
vendor, a webhook receiver, an OAuth provider) carries nothing anyone downstream continues, so proplint
does not report it. The peer is known to be outside the system when:

* the URL (the request function's `url`, or a client's `base_url=`) is, or starts with, a literal absolute
  URL (through module-level constants of this file or of the project, concatenations and f-strings) whose
  host is a public DNS name (dotted, with a letter TLD; not `localhost`, not an IP address, not a
  `.local`/`.internal`/`.svc`/`.cluster.local`/`.lan`/`.corp` name, not a single-label service name like
  `http://orders:8000`), or matches `external.hosts` of `[tool.proplint]`;
  A class attribute holding such a URL counts too (`TELEMETRY_URL = "https://..."` read as `self.
  TELEMETRY_URL`), and so does a URL whose literal parts name a protocol's discovery endpoint of another
  party (`f"{issuer}/.well-known/openid-configuration"`: OpenID Connect, JWKS);
* the call is in a module whose path names the code that talks to other vendors by convention
  (`core.relevance.vendor_module`: `integrations/`, `plugins/`, `webhooks/`...);
* the client is made by a provider function (its return annotation names the client's class) and nothing in
  its deploy unit asks for that class (no parameter or attribute annotated with it): a dependency-injection
  provider nobody injects sends no request (`Unused`);
* the client is only handed to another vendor's SDK (`AsyncAnthropic(http_client=self.httpx_client)`, with
  no request made on it where it is made): the SDK sends its requests to its vendor;
* the URL starts with an attribute the class inherits from another vendor's class and never sets itself
  (`f"{self._base_url}/v3/tools"` in a subclass of an SDK's toolset);
* the URL is a loopback URL on a port the service passes to a non-Python program it launches itself
  (`sidecars.py`), or a URL the code also accepts as a `data:` URL: content handed in (`content_urls.py`);
* a client kept on the instance (`self.session`) is judged by every request its class makes on it
  (`instance_clients.py`), one made in a function by that function's requests.

A URL parameter counts through its callers: when every call of the function in its module passes, for it, a
URL that leaves the system (`self._download(url=self.MODEL_DOWNLOAD_URL)`), so does the request; a caller's
local name is read in the caller's function. A client handed to functions (nested, of the module, or of another
project module by import or by a module alias) is judged by their requests on it, a few hand-overs deep, and a
client that makes requests and is handed on is judged by both. A URL also reads through a setting with a public
fallback (`os.getenv(k) or "https://..."`), a module table of one host's URLs (`KNOWN_VIEWS[view]`), a module
function that lets only one host through (an allow-list guard), and a URL field of a record a module builder
fills (`request.target_url`). A client handed to a method of another vendor's SDK object is the SDK's to use.

A health or readiness probe (a URL whose literal text ends with `/health`, `/healthz`, `/readyz`, `/ping`...)
is not a trace hop either: a process checks that a server is up, and no trace continues from the check.
"""

from __future__ import annotations

import ast
import ipaddress
import re
import sys
from urllib.parse import urlsplit

import libcst as cst

from proplint.core.context import FileContext
from proplint.core.foreign import project_code
from proplint.core.ast_names import ast_qualname, all_nodes, walk
from proplint.core.cst import AttributeStores, code_of, keyword_arg
from proplint.core.relevance import external_name, path_kind, vendor_module
from proplint.core.units import importable_tops, units
from proplint.core.walk import visit
from proplint.families.http.content_urls import data_url
from proplint.families.http.instance_clients import REQUEST_METHODS, InstanceClientCalls, request_url
from proplint.families.http.handoffs import CallsOf, HandOffs, local_def
from proplint.families.http.sidecars import Launched

_PRIVATE_SUFFIXES = (".local", ".internal", ".svc", ".cluster.local", ".lan", ".corp", ".home", ".localdomain",
                     ".intranet", ".private", ".test", ".example", ".invalid", ".localhost")
_TLD = re.compile(r"\.[a-z]{2,24}$")
_URL_START = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def public_host(host: str) -> bool:
    """A host name on the public internet (not one of the system's own services)."""
    host = host.lower().rstrip(".")
    if not host or host == "localhost" or "." not in host:
        return False
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
    return not host.endswith(_PRIVATE_SUFFIXES) and bool(_TLD.search(host))


_DISCOVERY = ("/.well-known/",)
#: names in a URL's expression that say whose endpoint it is: an identity provider's (OAuth, OpenID Connect,
#: JWT keys), a receiver the caller was handed (a callback, a webhook), a captcha service, a search engine or
#: document store that reads no trace header (`self.token_url`, `settings.JWT_PUBLIC_KEY_URL`, `callback_url`)
_THIRD_PARTY_NAME = re.compile(
    r"oauth|openid|oidc|jwks|jwt|token_?(url|uri|endpoint)|userinfo|authori[sz]ation_?(url|endpoint)|issuer"
    r"|discovery|callback|webhook|redirect_?ur[il]|captcha|vespa|elasticsearch|opensearch|solr",
    re.IGNORECASE)
#: top-level packages that are not another vendor's SDK when a client or a base class comes from them: the
#: standard library, HTTP and RPC libraries, and tracing SDKs (they wrap a client, they do not own its peer)
_NOT_A_VENDOR = frozenset(getattr(sys, "stdlib_module_names", ())) | {
    "httpx", "requests", "aiohttp", "urllib3", "httpcore", "niquests", "pycurl", "tornado", "grpc", "starlette",
    "fastapi", "flask", "django", "opentelemetry", "sentry_sdk", "ddtrace", "newrelic", "elasticapm", "logfire",
    "tenacity", "backoff", "pydantic", "typing_extensions", "attr", "attrs", "dataclasses"}


def url_constants(tree: ast.Module, imports, module, config, catalog) -> dict[str, str]:
    """Index collector: module-level names (and class attributes, as `module.Class.NAME`) bound to a string
    that starts with an absolute URL (or to a concatenation or f-string that does), `{qualified name: the
    literal start}`."""
    if not module:
        return {}
    out: dict[str, str] = {}
    local: dict[str, str] = {}
    scopes = [(tree.body, module)] + [(n.body, f"{module}.{n.name}") for n in tree.body if isinstance(n, ast.ClassDef)]
    for body, prefix in scopes:
        for node in body:
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Dict):
                # a table of URLs (`KNOWN_VIEWS = {"flows": f"{REGISTRY}/flows.json", ...}`), read as `KNOWN_VIEWS[k]`:
                # kept when every value starts with an absolute URL of one same host
                texts = [_ast_text(v, local) for v in node.value.values]
                hosts = {urlsplit(t).hostname if t and _URL_START.match(t) else None for t in texts}
                if texts and len(hosts) == 1 and None not in hosts and None not in node.value.keys:
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for t in targets:
                        if isinstance(t, ast.Name):
                            out[f"{prefix}.{t.id}[]"] = texts[0]
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                text = _ast_text(node.value, local)
                if text and _URL_START.match(text):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    for t in targets:
                        if isinstance(t, ast.Name):
                            if prefix == module:
                                local[t.id] = text
                            out[f"{prefix}.{t.id}"] = text
    return out


#: settings readers whose default names the URL when the environment does not: `os.environ.get(k, d)`,
#: `os.getenv(k, d)`, django-environ's `env(k, default=d)` / `env.str(...)`, python-decouple's `config(...)`
_ENV_READERS = frozenset({"get", "getenv", "env", "str", "url", "config"})


#: string methods whose result starts like the string (`url.rstrip("/")`, `TEMPLATE.format(...)`)
_SAME_START = frozenset({"format", "rstrip", "removesuffix"})


def _env_read(expr: cst.BaseExpression) -> bool:
    """A settings read with no default of its own (`os.getenv("X")`, `os.environ.get("X")`): the right side of
    `... or "https://..."` is the URL used when the setting is not given."""
    if not isinstance(expr, cst.Call):
        return False
    func = expr.func
    name = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else ""
    return name in _ENV_READERS and len(expr.args) == 1 and expr.args[0].keyword is None


def _ast_text(expr: ast.AST, local: dict[str, str]) -> str | None:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.Or) and len(expr.values) == 2 \
            and isinstance(expr.values[0], ast.Call) and not expr.values[0].keywords and len(expr.values[0].args) == 1 \
            and (getattr(expr.values[0].func, "attr", None) or getattr(expr.values[0].func, "id", "")) in _ENV_READERS:
        return _ast_text(expr.values[1], local)  # `os.getenv("API_URL") or "https://api.example.com"`
    if isinstance(expr, ast.Call):
        name = expr.func.attr if isinstance(expr.func, ast.Attribute) else getattr(expr.func, "id", "")
        if name in _ENV_READERS:
            default = next((k.value for k in expr.keywords if k.arg == "default"), None)
            if default is None and len(expr.args) == 2:
                default = expr.args[1]
            return _ast_text(default, local) if default is not None else None
        return None
    if isinstance(expr, ast.Name):
        return local.get(expr.id)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _ast_text(expr.left, local)
    if isinstance(expr, ast.JoinedStr) and expr.values:
        first = expr.values[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
        if isinstance(first, ast.FormattedValue):
            return _ast_text(first.value, local)
    return None


#: the path a health, liveness or readiness probe asks for, at the end of a URL's literal text
_PROBE = re.compile(r"/(health|healthz|healthcheck|health-check|livez|liveness|readyz|ready|readiness|ping)/?$",
                    re.IGNORECASE)


def _probe_expr(expr: cst.BaseExpression) -> bool:
    """A URL whose literal text ends with a probe's path (`f"{self.api_url}/health"`, `"http://x:8080/readyz"`):
    a process checking that a server is up, which serves no request and whose check no trace continues."""
    if isinstance(expr, cst.FormattedString):
        last = expr.parts[-1] if expr.parts else None
        text = last.value if isinstance(last, cst.FormattedStringText) else ""
    elif isinstance(expr, cst.SimpleString) and isinstance(expr.evaluated_value, str):
        text = expr.evaluated_value
    else:
        return False
    return bool(_PROBE.search(text.split("?", 1)[0]))


class Peers:
    """Whether the call being visited goes to a peer outside the system."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.vendor = vendor_module(ctx.relpath)
        self.external = ctx.config.external_hosts
        self.launched = Launched(ctx)
        self._constants: dict[str, str] | None = None
        #: the functions around the expression being read, when it is not the visited call's (a caller's argument)
        self._scopes: list[cst.CSTNode] | None = None
        self._call_scopes: dict[int, list[cst.CSTNode]] | None = None

    def _functions_around(self, call: cst.Call) -> list[cst.CSTNode]:
        """The functions around a call of this module (outermost first)."""
        if self._call_scopes is None:
            finder = _CallScopes()
            visit(self.ctx.module, finder)
            self._call_scopes = finder.scopes
        return self._call_scopes.get(id(call), [])

    def _values(self, name: str) -> list[cst.BaseExpression]:
        return _local_values(self.ctx, name, self._scopes)

    def _leaves_at(self, expr: cst.BaseExpression, call: cst.Call) -> bool:
        """`_leaves` for an argument of `call`, somewhere else in the module: its local names are read in the
        functions around that call (`url = f"{SHEETS_API_BASE}/{sid}"; await _request_with_retry("GET", url)`)."""
        saved = self._scopes
        self._scopes = self._functions_around(call)
        try:
            return self._leaves(expr, here=False)
        finally:
            self._scopes = saved

    def outside(self, call: cst.Call, kind: str, name: str, bound: str | None = None) -> bool:
        if self.vendor:
            return True
        expr = self._url_arg(call, kind, name)
        if expr is not None:
            return self._leaves(expr)
        if kind != "request" and bound:
            kept = bound.startswith("self.") and isinstance(self.ctx.enclosing(cst.ClassDef), cst.ClassDef)
            # a client kept on the instance is judged by the requests of the whole class, not of one method
            return (self._class_calls_leave(bound) if kept else self._calls_leave(bound)) \
                or self._handed_to_vendor(bound)
        return False

    def _vendor(self, expr: cst.BaseExpression) -> bool:
        """`expr` names something of another vendor's package (not the project's, not a `_NOT_A_VENDOR`)."""
        q = self.ctx.qualified_name(expr)
        top = q.split(".")[0] if q else ""
        return bool(top) and top not in _NOT_A_VENDOR and top not in importable_tops(self.ctx.index)

    def _handed_to_vendor(self, bound: str) -> bool:
        """The client is passed to another vendor's SDK (`AsyncAnthropic(http_client=self.httpx_client)`) and no
        request is made on it where it is made (its class, for `self.<name>`; else its function)."""
        scope = self.ctx.enclosing(cst.ClassDef) if bound.startswith("self.") else self.ctx.enclosing(cst.FunctionDef)
        if scope is None:
            return False
        handed = _HandedTo(bound)
        visit(scope, handed)
        calls = _ClientCalls(bound)
        visit(scope, calls)
        return bool(handed.calls) and not calls.calls and not handed.other \
            and all(self._vendor(c.func) or self._vendor_object_method(c.func) for c in handed.calls)

    def _vendor_object_method(self, func: cst.BaseExpression) -> bool:
        """`client.get_object(bucket, key, session)` where the local `client` is bound once to an object of another
        vendor's SDK: made by its class (`Minio(...)`), or returned by a method of this class annotated with it
        (`client = self._client()` with `def _client(self) -> Minio`)."""
        if not (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)):
            return False
        values = self._values(func.value.value)
        if len(values) != 1:
            return False
        value = values[0].expression if isinstance(values[0], cst.Await) else values[0]
        if not isinstance(value, cst.Call):
            return False
        if self._vendor(value.func):
            return True
        target = value.func
        cls = self.ctx.enclosing(cst.ClassDef)
        if not (isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name)
                and target.value.value == "self" and isinstance(cls, cst.ClassDef)):
            return False
        method = next((f for f in cls.body.body if isinstance(f, cst.FunctionDef)
                       and f.name.value == target.attr.value), None)
        returns = method.returns.annotation if method is not None and method.returns is not None else None
        return isinstance(returns, (cst.Name, cst.Attribute)) and self._vendor(returns)

    def _inherited_from_vendor(self, expr: cst.BaseExpression) -> bool:
        """The URL starts with `self.<attr>` that the class never sets and inherits from a vendor's class."""
        head = expr
        for _ in range(6):
            if isinstance(head, cst.Name) and self.ctx.qualified_name(head) is None:
                values = self._values(head.value)
                if len(values) != 1:
                    return False
                head = values[0]  # `endpoint = f"{self._base_url}/v3/..."`
            elif isinstance(head, cst.FormattedString) and head.parts \
                    and isinstance(head.parts[0], cst.FormattedStringExpression):
                head = head.parts[0].expression
            elif isinstance(head, cst.BinaryOperation):
                head = head.left
            else:
                break
        if not (isinstance(head, cst.Attribute) and isinstance(head.value, cst.Name) and head.value.value == "self"):
            return False
        cls = self.ctx.enclosing(cst.ClassDef)
        if not isinstance(cls, cst.ClassDef) or not any(self._vendor(b.value) for b in cls.bases):
            return False
        attr = re.escape(head.attr.value)
        sets = re.compile(rf"self\.{attr}\s*(?::|=(?!=))|^\s*{attr}\s*(?::|=(?!=))|def\s+{attr}\b", re.M)
        return not sets.search(code_of(cls))

    def _leaves(self, expr: cst.BaseExpression, here: bool = True) -> bool:
        """A URL expression that names another party's endpoint or starts with a public host (`here`: it is in
        the function being visited)."""
        if _THIRD_PARTY_NAME.search(code_of(expr)) or self._discovery_expr(expr) or self._inherited_from_vendor(expr):
            return True
        if _probe_expr(expr):
            return True  # a health or readiness probe: no request's trace goes through it
        if here and isinstance(expr, cst.Name) and self.ctx.qualified_name(expr) is None \
                and data_url(self.ctx.module, self.ctx.enclosing(cst.FunctionDef), expr.value):
            return True  # a URL that may be a `data:` URL: content handed in, not an endpoint (`content_urls.py`)
        if self.launched.local_child(self._origin(expr)):
            return True  # a loopback port the service passes to a program it launches itself (`sidecars.py`)
        if here and isinstance(expr, cst.Name) and self._callers_pass_outside(expr.value):
            return True  # a parameter every caller in the module fills with another party's URL
        texts = self._texts(expr)
        if not texts:
            return False
        return all(_URL_START.match(t) and self._host_outside(urlsplit(t).hostname or "") for t in texts)

    def _origin(self, expr: cst.BaseExpression, depth: int = 0) -> cst.BaseExpression | None:
        """The literal or f-string a URL expression starts with, through the first part of f-strings and
        concatenations, a local name bound once, and `self.<attr>` set once in the class
        (`f"{self.server_url}/v2/check"` -> `f"http://localhost:{settings.LT_PORT}"`)."""
        if depth > 6:
            return None
        if isinstance(expr, cst.FormattedString) and expr.parts \
                and isinstance(expr.parts[0], cst.FormattedStringExpression):
            return self._origin(expr.parts[0].expression, depth + 1)
        if isinstance(expr, (cst.FormattedString, cst.SimpleString)):
            return expr
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return self._origin(expr.left, depth + 1)
        values: list[cst.BaseExpression] = []
        if isinstance(expr, cst.Name) and self.ctx.qualified_name(expr) is None:
            values = self._values(expr.value)
        elif isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self":
            cls = self.ctx.enclosing(cst.ClassDef)
            if isinstance(cls, cst.ClassDef):
                finder = AttributeStores("self", expr.attr.value)
                visit(cls, finder)
                values = [] if finder.opaque else finder.values
        return self._origin(values[0], depth + 1) if len(values) == 1 else None

    def _callers_pass_outside(self, name: str) -> bool:
        """`name` is a parameter of the enclosing function, and every call of that function in the module (by
        its name, or as `self.<name>`) passes, for it, a URL that leaves the system (`self._download(url=
        self.MODEL_DOWNLOAD_URL)` with a public host): the request goes where its callers send it."""
        fn = self.ctx.enclosing(cst.FunctionDef)
        if not isinstance(fn, cst.FunctionDef):
            return False
        params = [p.name.value for p in (*fn.params.posonly_params, *fn.params.params)]
        if name not in params and name not in {p.name.value for p in fn.params.kwonly_params}:
            return False
        method = isinstance(self.ctx.enclosing(cst.ClassDef), cst.ClassDef) and params[:1] in (["self"], ["cls"])
        index = params.index(name) - (1 if method else 0) if name in params else -1
        finder = CallsOf(fn.name.value, method)
        visit(self.ctx.module, finder)
        if not finder.calls:
            return False
        for call in finder.calls:
            found = keyword_arg(call, name, index)
            if found is None or not self._leaves_at(found[1].value, call):
                return False
        return True

    def _class_calls_leave(self, bound: str) -> bool:
        """A client kept on the instance (`self.session = aiohttp.ClientSession()`) whose every request in the
        class goes outside: on the attribute, or on a local name bound to it or to a method of the class that
        returns it (`session = await self._ensure_session()`)."""
        cls = self.ctx.enclosing(cst.ClassDef)
        if not bound.startswith("self.") or not isinstance(cls, cst.ClassDef):
            return False
        finder = InstanceClientCalls(bound, cls)
        visit(cls, finder)
        here = self.ctx.enclosing(cst.FunctionDef)
        if not finder.calls or finder.escapes:
            return False
        for call, fn, local in finder.calls:
            url = self._first_arg(call)
            # a URL made from the locals of another method cannot be read from here (`_local_values` reads the
            # function being visited): such a request is not judged to leave
            if url is None or (fn is not here and local) or not self._leaves(url, here=fn is here):
                return False
        return True

    def _host_outside(self, host: str) -> bool:
        return public_host(host) or external_name(host, self.external)

    def _calls_leave(self, bound: str) -> bool:
        """A client made with no base URL, whose every request call in the enclosing function goes outside
        (`async with httpx.AsyncClient() as c: await c.post("https://www.googleapis.com/...")`)."""
        fn = self.ctx.enclosing(cst.FunctionDef)
        if not isinstance(fn, cst.FunctionDef):
            return False
        finder = _ClientCalls(bound)
        visit(fn, finder)
        urls = [self._first_arg(c) for c in finder.calls]
        if not all(u is not None and self._leaves(u) for u in urls):
            return False
        handed = HandOffs(bound) if isinstance(bound, str) and bound.isidentifier() else None
        if handed is not None:
            visit(fn, handed)
        if handed is not None and (handed.calls or handed.unknown or not urls):
            return self._handed_on_leave(fn, bound, 0)  # the client is also handed to helpers: judged by theirs too
        return bool(urls)

    def _handed_on_leave(self, scope: cst.FunctionDef, name: str, depth: int) -> bool:
        """Client `name` is handed to functions (a nested `_fetch(client)`, a module helper `_get_json(client,
        url)`, or a helper of another project module, by import or by a module-level alias `_get_json =
        gmail_client.get_json`): it goes outside when every such function's requests on the parameter that
        receives it do (a URL parameter read at the call that handed the client over), and so does whatever it
        hands the client on to, up to six hand-overs deep. A hand-over to anything else cannot be followed."""
        hand = HandOffs(name)
        visit(scope, hand)
        if not hand.calls or hand.unknown or depth > 5:
            return False
        for call, callee, index, keyword in hand.calls:
            fdef = local_def(scope, self.ctx.module, callee)
            if fdef is None:
                target = self._project_function(call.func)
                if target is None or not self._foreign_leaves(target, call, index, keyword):
                    return False
                continue
            params = [p.name.value for p in (*fdef.params.posonly_params, *fdef.params.params)]
            param = keyword if keyword is not None else (params[index] if index < len(params) else None)
            if param is None or (keyword is not None and keyword not in params
                                 and keyword not in {p.name.value for p in fdef.params.kwonly_params}):
                return False
            inner = _ClientCalls(param)
            visit(fdef, inner)
            for request in inner.calls:
                url = self._first_arg(request)
                if url is None:
                    return False
                if isinstance(url, cst.Name) and url.value in params:
                    found = keyword_arg(call, url.value, params.index(url.value))
                    if found is None or not self._leaves_at(found[1].value, call):
                        return False
                elif isinstance(url, cst.Attribute) and isinstance(url.value, cst.Name) and url.value.value in params:
                    found = keyword_arg(call, url.value.value, params.index(url.value.value))
                    if found is None or not self._field_leaves(found[1].value, url.attr.value, call):
                        return False  # `client.post(request.target_url)`: a field of the record handed over
                elif not self._leaves_at(url, request):
                    return False
            onward = HandOffs(param)
            visit(fdef, onward)
            handed_on = onward.calls or onward.unknown or not inner.calls
            if handed_on and not self._handed_on_leave(fdef, param, depth + 1):
                return False
        return True

    def _field_leaves(self, expr: cst.BaseExpression, field: str, call: cst.Call) -> bool:
        """Field `field` of the record `expr` (an argument of `call`) goes outside: `expr` is, or a local bound once
        to, a call of a module function whose every `return` builds a record with that field's keyword, each a
        URL that leaves (`return UploadRequest(target_url=f"{DRIVE_UPLOAD_API_BASE}/files?{query}", ...)`)."""
        if isinstance(expr, cst.Name):
            values = _local_values(self.ctx, expr.value, self._functions_around(call))
            if len(values) != 1:
                return False
            expr = values[0]
        if isinstance(expr, cst.Await):
            expr = expr.expression
        if not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name)):
            return False
        builder = next((f for f in self.ctx.module.body if isinstance(f, cst.FunctionDef)
                        and f.name.value == expr.func.value), None)
        if builder is None:
            return False
        returns = _ReturnsOf()
        visit(builder.body, returns)
        for ret in returns.found:
            found = keyword_arg(ret.value, field) if isinstance(ret.value, cst.Call) else None
            if found is None or not self._leaves_at(found[1].value, ret.value):
                return False
        return bool(returns.found)

    def _project_function(self, func: cst.BaseExpression) -> str | None:
        """The qualified name of a project function called as `func` that is not defined in this module: imported,
        or bound to a module-level alias of one (`_get_json = gmail_client.get_json`)."""
        q = self.ctx.qualified_name(func)
        if q is None and isinstance(func, cst.Name):
            values = _module_values(self.ctx.module, func.value)
            q = self.ctx.qualified_name(values[0]) if len(values) == 1 else None
        if not q or q.split(".")[0] not in importable_tops(self.ctx.index):
            return None
        return q

    def _foreign_leaves(self, qualname: str, call: cst.Call, index: int, keyword: str | None) -> bool:
        """A function of another project module handed the client (`get_json(client, f"{GMAIL_API_BASE}/...")`):
        every request it makes on that parameter goes outside, its URL a parameter (read at `call`) or a literal
        start of its own module (through its constants). It must make one, and hand the client to nothing else."""
        found = project_code(self.ctx.index, units(self.ctx.index, self.ctx.catalog).module_files()).function(qualname)
        if found is None or found[1] is not None:
            return False  # not found, or a method: its receiver is not followed
        fn, _, imports, module, _ = found
        args = fn.args
        params = [a.arg for a in (*args.posonlyargs, *args.args)]
        param = keyword if keyword is not None else (params[index] if index < len(params) else None)
        if param is None or param not in params + [a.arg for a in args.kwonlyargs]:
            return False
        requests = 0
        for node in walk(fn):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            on_client = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == param
            if on_client and func.attr in REQUEST_METHODS:
                requests += 1
                url = _ast_url_arg(node)
                if isinstance(url, ast.Name) and url.id in params:
                    given = keyword_arg(call, url.id, params.index(url.id))
                    if given is None or not self._leaves_at(given[1].value, call):
                        return False
                elif url is None or not self._ast_leaves(url, imports, module):
                    return False
            elif any(isinstance(a, ast.Name) and a.id == param
                     for a in [*node.args, *(k.value for k in node.keywords)]):
                return False  # handed on again: not followed across modules
        return requests > 0

    def _ast_leaves(self, expr: ast.AST, imports: dict[str, str], module: str) -> bool:
        """A URL expression of another module (stdlib `ast`) whose literal start has a host outside the system."""
        text = None
        for _ in range(4):
            if isinstance(expr, ast.JoinedStr) and expr.values:
                first = expr.values[0]
                expr = first.value if isinstance(first, ast.FormattedValue) else first
            elif isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
                expr = expr.left
            else:
                break
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            text = expr.value
        elif isinstance(expr, (ast.Name, ast.Attribute)):
            q = ast_qualname(expr, imports) or (f"{module}.{expr.id}" if isinstance(expr, ast.Name) else None)
            text = self.constants().get(q) if q else None
        return bool(text) and bool(_URL_START.match(text)) and self._host_outside(urlsplit(text).hostname or "")

    _first_arg = staticmethod(request_url)

    def _url_arg(self, call: cst.Call, kind: str, name: str) -> cst.BaseExpression | None:
        if kind == "request":
            index = 1 if name.rsplit(".", 1)[-1] in ("request", "stream") else 0  # `httpx.stream("GET", url)`
            found = keyword_arg(call, "url", index)
        else:
            found = keyword_arg(call, "base_url")
        return found[1].value if found else None

    def _url_text(self, call: cst.Call, kind: str, name: str) -> str | None:
        expr = self._url_arg(call, kind, name)
        return self._text(expr) if expr is not None else None

    def _discovery_expr(self, expr: cst.BaseExpression | None) -> bool:
        """The URL's literal parts name another party's discovery endpoint (`/.well-known/...`)."""
        if isinstance(expr, cst.FormattedString):
            parts = [p.value for p in expr.parts if isinstance(p, cst.FormattedStringText)]
        elif isinstance(expr, cst.SimpleString) and isinstance(expr.evaluated_value, str):
            parts = [expr.evaluated_value]
        else:
            return False
        return any(d in p for p in parts for d in _DISCOVERY)

    def _texts(self, expr: cst.BaseExpression) -> list[str]:
        """The literal starts a URL expression can have: one, or one per value a local name is bound to (all
        its assignments in the enclosing functions, or the elements of the literal a `for` loops over)."""
        if isinstance(expr, cst.Name) and self.ctx.qualified_name(expr) is None:
            values = self._values(expr.value)
            if values:
                texts = [self._text(v) for v in values]
                return [t for t in texts if t is not None] if all(t is not None for t in texts) else []
        text = self._text(expr)
        return [text] if text is not None else []

    def _text(self, expr: cst.BaseExpression, depth: int = 0) -> str | None:
        if depth > 6:
            return None
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and expr.func.attr.value in _SAME_START:
            return self._text(expr.func.value, depth + 1)  # `GLEAN_PROBE_INFO.format(...)`, `api_url.rstrip("/")`
        if isinstance(expr, cst.BooleanOperation) and isinstance(expr.operator, cst.Or) and _env_read(expr.left):
            return self._text(expr.right, depth + 1)  # `os.getenv("DAYTONA_API_URL") or "https://app.daytona.io/api"`
        if isinstance(expr, cst.Name) and self.ctx.qualified_name(expr) is None and depth < 3:
            values = [v for v in self._values(expr.value) if not _starts_with_name(v, expr.value)]
            texts = [self._text(v, depth + 1) for v in values]
            if texts and all(t is not None for t in texts):
                return texts[0]
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) \
                and self.ctx.qualified_name(expr.func) is None:
            fdef = next((f for f in self.ctx.module.body if isinstance(f, cst.FunctionDef)
                         and f.name.value == expr.func.value), None)
            host = allowed_host(fdef) if fdef is not None else None
            if host is not None:
                return f"https://{host}/"  # `_validated_next_link(payload.get("@odata.nextLink"))`: one host
        if isinstance(expr, cst.SimpleString):
            return expr.evaluated_value if isinstance(expr.evaluated_value, str) else None
        if isinstance(expr, cst.Subscript) and isinstance(expr.value, (cst.Name, cst.Attribute)):
            q = self.ctx.qualified_name(expr.value)
            if q is None and isinstance(expr.value, cst.Name) and self.ctx.module_name:
                q = f"{self.ctx.module_name}.{expr.value.value}"
            return self.constants().get(f"{q}[]") if q else None  # `KNOWN_VIEWS[view]`: a table of one host's URLs
        if isinstance(expr, cst.ConcatenatedString):
            return self._text(expr.left, depth + 1)
        if isinstance(expr, cst.BinaryOperation) and isinstance(expr.operator, cst.Add):
            return self._text(expr.left, depth + 1)
        if isinstance(expr, cst.FormattedString) and expr.parts:
            first = expr.parts[0]
            if isinstance(first, cst.FormattedStringText):
                return first.value
            if isinstance(first, cst.FormattedStringExpression):
                return self._text(first.expression, depth + 1)
            return None
        if isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) \
                and expr.value.value in ("self", "cls") and self.ctx.module_name:
            cls = self.ctx.enclosing(cst.ClassDef)
            if isinstance(cls, cst.ClassDef):
                found = self.constants().get(f"{self.ctx.module_name}.{cls.name.value}.{expr.attr.value}")
                if found is None and depth < 3:  # `self.bz_url = settings.BUGFILER_API_URL + "/rest/bug"`
                    finder = AttributeStores("self", expr.attr.value)
                    visit(cls, finder)
                    texts = [self._text(v, depth + 1) for v in finder.values]
                    if texts and not finder.opaque and all(t is not None for t in texts):
                        found = texts[0]
                return found
        if isinstance(expr, (cst.Name, cst.Attribute)):
            q = self.ctx.qualified_name(expr)
            if q is None and isinstance(expr, cst.Name) and self.ctx.module_name:
                q = f"{self.ctx.module_name}.{expr.value}"
            found = self.constants().get(q) if q else None
            if found is None and isinstance(expr, cst.Attribute):
                found = self._setting(expr.attr.value)  # `settings.BUGZILLA_URL`: the project's only such name
            if found is None and isinstance(expr, cst.Name) and q == f"{self.ctx.module_name}.{expr.value}":
                values = _module_values(self.ctx.module, expr.value)  # `GMAIL_API_BASE = gmail_client.GMAIL_API_BASE`
                found = self._text(values[0], depth + 1) if len(values) == 1 else None
            return found
        return None

    def _setting(self, name: str) -> str | None:
        """The URL a project constant of that (distinctive, upper-case) name holds, when every constant of the
        name agrees on whether its host is outside the system."""
        if not name.isupper() or len(name) < 6:
            return None
        texts = [t for q, t in self.constants().items() if q.rsplit(".", 1)[-1] == name]
        if not texts:
            return None
        outside = {bool(_URL_START.match(t)) and self._host_outside(urlsplit(t).hostname or "") for t in texts}
        return texts[0] if len(outside) == 1 else None

    def constants(self) -> dict[str, str]:
        if self._constants is None:
            self._constants = self.ctx.index.derived(
                "http.url_constants", lambda ix: {k: v for _, facts in ix.facts("http.url_constants")
                                                  for k, v in facts.items()})
        return self._constants


# --- providers nobody injects ----------------------------------------------------------------------------


def wanted_types(tree: ast.Module, imports, module, config, catalog) -> list[str]:
    """Index collector: the class names (last parts) this file's parameters and attributes are annotated
    with (`session: ClientSession`, `http: FromDishka[httpx.AsyncClient]`, `self.s: "Session"`), among
    the catalog's HTTP client classes; return annotations are not asks."""
    classes = {e.name.rsplit(".", 1)[-1] for e in catalog.get("http_client") if e.kind != "request"}
    found: set[str] = set()

    def names(annotation: ast.AST | None) -> None:
        for n in walk(annotation) if annotation is not None else ():
            if isinstance(n, ast.Name) and n.id in classes:
                found.add(n.id)
            elif isinstance(n, ast.Attribute) and n.attr in classes:
                found.add(n.attr)
            elif isinstance(n, ast.Constant) and isinstance(n.value, str):
                found.update(w for w in re.findall(r"\w+", n.value) if w in classes)

    for node in all_nodes(tree):
        if isinstance(node, ast.arg):
            names(node.annotation)
        elif isinstance(node, ast.AnnAssign):
            names(node.annotation)
    return sorted(found)


def wanted_tokens(catalog) -> tuple[bytes, ...]:
    return tuple(sorted({e.name.rsplit(".", 1)[-1].encode() for e in catalog.get("http_client") if e.kind != "request"}))


class Unused:
    """A client returned by a provider function whose class nothing in the deploy unit asks for."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx

    def provider_nobody_injects(self, call: cst.Call, class_name: str) -> bool:
        fn = self.ctx.enclosing(cst.FunctionDef)
        if not isinstance(fn, cst.FunctionDef) or fn.returns is None:
            return False
        if not isinstance(self.ctx.parent(), cst.Return) and not (
                isinstance(self.ctx.parent(), cst.Await) and isinstance(self.ctx.parent(2), cst.Return)):
            return False
        last = class_name.rsplit(".", 1)[-1]
        if last not in re.findall(r"\w+", code_of(fn.returns.annotation)):
            return False
        where = units(self.ctx.index, self.ctx.catalog)
        mine = where.unit_dir(self.ctx.relpath)
        for rel, asked in self.ctx.index.facts("http.wanted"):
            if last in asked and path_kind(rel) is None and (mine is None or where.unit_dir(rel) == mine):
                return False
        return True



# --- traced client builders (`proplint init` proposes one as `http-client-factory`) -------------------------


def traced_builders(tree: ast.Module, imports, module, config, catalog) -> dict[str, str]:
    """Index collector: module-level functions that build a catalog HTTP client with tracing on (`trace_configs=`,
    a `transport=`, `instrument_client(...)`, headers from `inject`), `{"module:function": client}`."""
    if not module:
        return {}
    clients = {e.name for e in catalog.get("http_client") if e.kind != "request"}
    out: dict[str, str] = {}
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        built = [n for n in walk(node) if isinstance(n, ast.Call) and ast_qualname(n.func, imports) in clients]
        if not built:
            continue
        named = re.search(r"trac|otel|telemetry|instrument", f"{module}.{node.name}", re.IGNORECASE)
        traced = any(k.arg == "trace_configs" or (named and k.arg in ("transport", "event_hooks"))
                     for c in built for k in c.keywords)
        traced = traced or any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                               and n.func.attr in ("instrument_client", "inject") for n in walk(node))
        if traced:
            out[f"{module}:{node.name}"] = ast_qualname(built[0].func, imports) or ""
    return out


class _HandedTo(cst.CSTVisitor):
    """The calls that take `<bound>` as an argument; `other`: it is also returned, yielded or stored."""

    def __init__(self, bound: str) -> None:
        self.bound = bound
        self.calls: list[cst.Call] = []
        self.other = False

    def visit_Call(self, node: cst.Call) -> None:
        if any(code_of(a.value) == self.bound for a in node.args):
            self.calls.append(node)

    def visit_Return(self, node: cst.Return) -> None:
        self.other = self.other or (node.value is not None and code_of(node.value) == self.bound)


def client_calls(fn: cst.FunctionDef, bound: str) -> list[cst.Call]:
    """The request calls `fn` makes on the client bound to `bound` (`<bound>.get(...)`...)."""
    finder = _ClientCalls(bound)
    visit(fn, finder)
    return finder.calls


class _ClientCalls(cst.CSTVisitor):
    """`<bound>.get(...)`, `<bound>.post(...)`... in a function."""

    def __init__(self, bound: str) -> None:
        self.bound = bound
        self.calls: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in REQUEST_METHODS and code_of(func.value) == self.bound:
            self.calls.append(node)


class _Bindings(cst.CSTVisitor):
    """The values a name is bound to in a function: `name = value`, and the elements of a literal list or
    tuple a `for` loops over (the element at the name's position when the target is a tuple)."""

    def __init__(self, name: str, root: cst.CSTNode | None = None) -> None:
        self.name = name
        self.root = root  # the function searched (to read a loop's literal from a local name)
        self.values: list[cst.BaseExpression] = []
        self.opaque = False

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            if isinstance(t.target, cst.Name) and t.target.value == self.name:
                self.values.append(node.value)
            elif _binds(t.target, self.name):
                self.opaque = True

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name) and node.target.value == self.name and node.value is not None:
            self.values.append(node.value)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name) and node.target.value == self.name:
            self.opaque = True

    def visit_Param(self, node: cst.Param) -> None:
        if node.name.value == self.name:
            self.opaque = True  # a parameter: the callers choose it

    def visit_For(self, node: cst.For) -> None:
        if not _binds(node.target, self.name):
            return
        position = None
        if isinstance(node.target, (cst.Tuple, cst.List)):
            names = [el.value for el in node.target.elements]
            position = next((i for i, n in enumerate(names) if isinstance(n, cst.Name) and n.value == self.name), None)
        items = node.iter
        if isinstance(items, cst.Name):  # `for url, name in PROBES:` over a local list literal
            inner = _Bindings(items.value)
            if self.root is not None:
                visit(self.root, inner)
            literal = [v for v in inner.values if isinstance(v, (cst.List, cst.Tuple))]
            items = literal[0] if len(literal) == 1 and len(inner.values) == 1 and not inner.opaque else items
        if not isinstance(items, (cst.List, cst.Tuple)):
            self.opaque = True
            return
        for el in items.elements:
            value = el.value
            if position is not None:
                if not isinstance(value, (cst.Tuple, cst.List)) or position >= len(value.elements):
                    self.opaque = True
                    return
                value = value.elements[position].value
            self.values.append(value)


def _binds(target: cst.BaseExpression, name: str) -> bool:
    if isinstance(target, cst.Name):
        return target.value == name
    if isinstance(target, (cst.Tuple, cst.List)):
        return any(_binds(el.value, name) for el in target.elements)
    return False


def _starts_with_name(expr: cst.BaseExpression, name: str) -> bool:
    """`f"{url}?{query}"`, `url + path`: a value that keeps the name's own start."""
    if isinstance(expr, cst.FormattedString) and expr.parts:
        first = expr.parts[0]
        return isinstance(first, cst.FormattedStringExpression) and isinstance(first.expression, cst.Name) \
            and first.expression.value == name
    if isinstance(expr, cst.BinaryOperation):
        return isinstance(expr.left, cst.Name) and expr.left.value == name
    return False


class _CallScopes(cst.CSTVisitor):
    """For every call of a module, the functions around it (outermost first): one walk per module."""

    def __init__(self) -> None:
        self.stack: list[cst.CSTNode] = []
        self.scopes: dict[int, list[cst.CSTNode]] = {}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.stack.append(node)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.stack.pop()

    def visit_Call(self, node: cst.Call) -> None:
        self.scopes[id(node)] = list(self.stack)


def allowed_host(fn: cst.FunctionDef) -> str | None:
    """The one host a function lets a URL through to: an `if` whose test refuses any other host (`hostname !=
    "graph.microsoft.com"`, `not (host == "googleapis.com" or host.endswith(".googleapis.com"))`, among `or`ed
    conditions) and whose body ends in `return None` or `raise`, with every value the function returns given by
    a `return` after that `if` in the same block; every other `return` gives None."""
    guarded: set[int] = set()
    hosts: set[str] = set()
    finder = _Blocks()
    visit(fn.body, finder)
    for block in finder.blocks:
        seen = False
        for stmt in block:
            if isinstance(stmt, cst.If) and stmt.orelse is None and _refuses(stmt.body):
                found = _refused_hosts(stmt.test)
                if found:
                    hosts |= found
                    seen = True
                    continue
            if seen:
                for small in stmt.body if isinstance(stmt, cst.SimpleStatementLine) else ():
                    if isinstance(small, cst.Return):
                        guarded.add(id(small))
    returns = _ReturnsOf()
    visit(fn.body, returns)
    if len(hosts) != 1 or not guarded:
        return None
    for ret in returns.found:
        if id(ret) in guarded:
            continue
        if ret.value is not None and not (isinstance(ret.value, cst.Name) and ret.value.value == "None"):
            return None
    host = next(iter(hosts))
    return host if public_host(host) else None


def _refuses(body: cst.BaseSuite) -> bool:
    last = body.body[-1] if isinstance(body, cst.IndentedBlock) and body.body else None
    small = last.body[-1] if isinstance(last, cst.SimpleStatementLine) and last.body else \
        body.body[-1] if isinstance(body, cst.SimpleStatementSuite) and body.body else None
    if isinstance(small, cst.Raise):
        return True
    return isinstance(small, cst.Return) and (small.value is None or (
        isinstance(small.value, cst.Name) and small.value.value == "None"))


def _refused_hosts(test: cst.BaseExpression) -> set[str]:
    """The hosts a test refuses all others than, among its `or`ed conditions."""
    parts = _or_parts(test)
    out: set[str] = set()
    for p in parts:
        if isinstance(p, cst.Comparison) and len(p.comparisons) == 1 and isinstance(
                p.comparisons[0].operator, cst.NotEqual):
            right = p.comparisons[0].comparator
            if isinstance(right, cst.SimpleString) and isinstance(right.evaluated_value, str) \
                    and "host" in code_of(p.left).lower():
                out.add(right.evaluated_value.lower())
        elif isinstance(p, cst.UnaryOperation) and isinstance(p.operator, cst.Not):
            inner = p.expression
            alts = [inner.left, inner.right] if isinstance(inner, cst.BooleanOperation) and isinstance(
                inner.operator, cst.Or) else [inner]
            names = set()
            for a in alts:
                if isinstance(a, cst.Comparison) and len(a.comparisons) == 1 and isinstance(
                        a.comparisons[0].operator, cst.Equal) and "host" in code_of(a.left).lower():
                    right = a.comparisons[0].comparator
                    if isinstance(right, cst.SimpleString) and isinstance(right.evaluated_value, str):
                        names.add(right.evaluated_value.lower())
                        continue
                if isinstance(a, cst.Call) and isinstance(a.func, cst.Attribute) and a.func.attr.value == "endswith" \
                        and "host" in code_of(a.func.value).lower() and len(a.args) == 1 \
                        and isinstance(a.args[0].value, cst.SimpleString) \
                        and isinstance(a.args[0].value.evaluated_value, str):
                    names.add(a.args[0].value.evaluated_value.lower().lstrip("."))
                    continue
                names = set()
                break
            if len(names) == 1:
                out |= names
    return out


def _or_parts(test: cst.BaseExpression) -> list[cst.BaseExpression]:
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.Or):
        return _or_parts(test.left) + _or_parts(test.right)
    return [test]


class _Blocks(cst.CSTVisitor):
    """The statement lists of a function body (not of nested functions or classes)."""

    def __init__(self) -> None:
        self.blocks: list[list[cst.BaseStatement]] = []

    def visit_IndentedBlock(self, node: cst.IndentedBlock) -> None:
        self.blocks.append(list(node.body))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False


class _ReturnsOf(cst.CSTVisitor):
    def __init__(self) -> None:
        self.found: list[cst.Return] = []

    def visit_Return(self, node: cst.Return) -> None:
        self.found.append(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False


def _module_values(module: cst.Module, name: str) -> list[cst.BaseExpression]:
    """The values `name` is bound to by the module's top-level assignments."""
    out: list[cst.BaseExpression] = []
    for stmt in module.body:
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            if isinstance(small, cst.Assign) and any(isinstance(t.target, cst.Name) and t.target.value == name
                                                      for t in small.targets):
                out.append(small.value)
            elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name) \
                    and small.target.value == name and small.value is not None:
                out.append(small.value)
    return out


def _ast_url_arg(call: ast.Call) -> ast.AST | None:
    """The URL of a request method call (stdlib `ast`): `url=`, else the first argument (the second of
    `request`/`stream`)."""
    for k in call.keywords:
        if k.arg == "url":
            return k.value
    index = 1 if isinstance(call.func, ast.Attribute) and call.func.attr in ("request", "stream") else 0
    positional = [a for a in call.args if not isinstance(a, ast.Starred)]
    return positional[index] if len(positional) > index and len(positional) == len(call.args) else None


def _local_values(ctx: FileContext, name: str, scopes=None) -> list[cst.BaseExpression]:
    """Every value `name` is bound to in the innermost enclosing function that binds it (a closure reads its
    outer function's), or [] when one of its bindings cannot be read (a parameter, `+=`, a loop over a
    computed iterable). `scopes`: the functions around the expression, when it is not the visited call's."""
    for anc in reversed(ctx.ancestors if scopes is None else scopes):
        if isinstance(anc, cst.FunctionDef):
            finder = _Bindings(name, anc)
            visit(anc, finder)
            if finder.opaque:
                return []
            if finder.values:
                return finder.values
    return []


