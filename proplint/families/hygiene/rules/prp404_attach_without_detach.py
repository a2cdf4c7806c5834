"""PRP404 attach-without-detach: the rule's declaration, docs and VALID/INVALID examples, its `message`, its fix
(`build_fix`, when it has one) and where it can report (`needs`). What it finds:
`opentelemetry.context.attach(...)` whose token is discarded or not detached on every path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.needs import Cond, all_of, words
from proplint.core.resolve import dotted
from proplint.core.rule import Fix, ImportRequest, Invalid, Rule, Valid
from proplint.families.hygiene.edits import closer_into_finally, rest_in_finally
from proplint.families.hygiene.needs import attach

if TYPE_CHECKING:
    from proplint.core.context import FileContext, NeedsContext


class AttachWithoutDetach(Rule):
    code = "PRP404"
    name = "attach-without-detach"
    summary = "`opentelemetry.context.attach(...)` whose token is discarded or not detached on every path."
    fix = "sometimes safe"
    what_it_does = """
        Finds `opentelemetry.context.attach(ctx)` in a function when its token is discarded, assigned and
        never detached, or detached by a `detach(token)` that is not in a `finally` (skipped when the code
        in between raises).
    """
    why = """
        `attach` makes a context current on this thread until the token is detached. Without the detach the
        context outlives the job: on a pooled thread the next task's current span was still `request-A`
        (measured), which mis-parents unrelated work. A detach that an exception skips does the same.
    """
    already_propagated = """
        `detach(token)` in a `finally` (anywhere in the function); a token stored elsewhere (`self._token`,
        `request.state.token`), returned, yielded or passed to another call (a callback that detaches it):
        it is detached elsewhere. A setter helper whose last action is the `attach` (the context is meant to
        outlive the call), and an `attach` at module level (a script's process-wide context), are not
        reported.
    """
    example = """
        from opentelemetry import context, propagate


        def handle(message):
            context.attach(propagate.extract(message.headers))
            process(message)
    """
    use_instead = """
        from opentelemetry import context, propagate


        def handle(message):
            token = context.attach(propagate.extract(message.headers))
            try:
                process(message)
            finally:
                context.detach(token)

        # or, when the context came from extract:
        #     with tracer.start_as_current_span("handle", context=propagate.extract(message.headers)):
    """
    fix_safety = """
        Safe where the rest of the block is clear. A discarded (or never used) token: `token = attach(...)`
        and the rest of the function body moves into `try: ... finally: detach(token)`; only when the
        `attach` is a statement of the function body itself (so the rest of the block is the rest of the
        function), that rest is not empty and contains no `yield`, other `attach`/`detach`/`reset`. A detach
        outside `finally`: the statements between the attach and the detach move into the `try` and the
        detach into the `finally`. `detach` is imported from `opentelemetry.context` when the code imported
        `attach` by name. Otherwise the finding has no fix.
    """
    VALID = (
        # a pytest yield fixture: pytest always runs the code after `yield` (test code is not checked either)
        Valid("import pytest\nfrom opentelemetry import context\n\n\n@pytest.fixture\ndef traced(ctx):\n"
              "    token = context.attach(ctx)\n    yield\n    context.detach(token)\n", path="app/testing_support.py"),
        Valid("from opentelemetry import context\n\n\ndef handle(ctx):\n    token = context.attach(ctx)\n    try:\n"
              "        work()\n    finally:\n        context.detach(token)\n"),
        Valid("from opentelemetry import context\n\n\nclass Job:\n    def __enter__(self):\n"
              "        self._token = context.attach(self.ctx)\n        return self\n\n    def __exit__(self, *exc):\n"
              "        context.detach(self._token)\n"),
        Valid("from opentelemetry.context import attach\n\n\ndef activate(ctx):\n    token = attach(ctx)\n"
              "    return token\n"),
        Valid("from opentelemetry import context, propagate\nimport os\n\n"
              "context.attach(propagate.extract(os.environ))\n"),
        Valid("from opentelemetry import context\n\n\ndef set_labeler(ctx):\n    try:\n        context.attach(ctx)\n"
              "    except Exception:\n        pass\n"),
        Valid("from opentelemetry.context import attach, detach\n\n\ndef handle(ctx, future):\n"
              "    token = attach(ctx)\n"
              "    future.add_done_callback(lambda _: detach(token))\n"),
        Valid("from opentelemetry.context import attach, detach\n\n\ndef handle(ctx):\n    token = None\n    try:\n"
              "        token = attach(ctx)\n        work()\n    finally:\n        if token is not None:\n"
              "            detach(token)\n"),
    )
    INVALID = (
        Invalid("from opentelemetry import context, propagate\n\n\ndef handle(message):\n"
                "    context.attach(propagate.extract(message.headers))  # adopt the caller's trace\n"
                "    process(message)\n    return True\n",
                fixed="from opentelemetry import context, propagate\n\n\ndef handle(message):\n"
                      "    token = context.attach(propagate.extract(message.headers))  # adopt the caller's trace\n"
                      "    try:\n        process(message)\n        return True\n    finally:\n"
                      "        context.detach(token)\n"),
        Invalid("from opentelemetry.context import attach, detach\n\n\ndef handle(ctx):\n    token = attach(ctx)\n"
                "    process()\n    detach(token)\n    log()\n",
                fixed="from opentelemetry.context import attach, detach\n\n\ndef handle(ctx):\n"
                      "    token = attach(ctx)\n"
                      "    try:\n        process()\n    finally:\n        detach(token)\n    log()\n"),
        Invalid("from opentelemetry.context import attach\n\n\ndef handle(ctx):\n    attach(ctx)\n    process()\n",
                fixed="from opentelemetry.context import detach, attach\n\n\ndef handle(ctx):\n"
                      "    token = attach(ctx)\n"
                      "    try:\n        process()\n    finally:\n        detach(token)\n"),
        Invalid("from opentelemetry import context\n\n\ndef handle(ctx, enabled):\n    if enabled:\n"
                "        context.attach(ctx)\n    process()\n"),
    )

    @staticmethod
    def message(call: str, closer: str, token: str | None, skipped: bool) -> str:
        """`call` (its source) attached a context; its `token` (None: discarded) is detached by `closer`
        only outside a `finally` (`skipped`), or never."""
        if skipped:
            return (f"`{call}`: `{closer}({token})` is skipped when the code before it raises, and "
                    f"the context stays attached to this thread; detach in a `finally`")
        what = "is discarded" if token is None else "is never detached"
        return (f"the token of `{call}` {what}: the context stays attached after this function, "
                f"so the next job on this thread runs inside it; keep the token and detach it in `finally`")

    @staticmethod
    def build_fix(ctx: "FileContext", fn: cst.FunctionDef, block: cst.IndentedBlock, line: cst.SimpleStatementLine,
                 node: cst.Call, token: str | None, entry, closer_call: cst.Call | None = None) -> Fix | None:
        """With the one `closer_call` of the token later in `block`: move it into a `finally` around what
        runs between. Without: keep the token and detach it in a `finally` around the rest of `fn`."""
        if closer_call is not None:
            return closer_into_finally(block, line, closer_call, entry.closer.rsplit(".", 1)[-1])
        return rest_in_finally(ctx.module, fn, block, line, node, token, _detach_expr(ctx, node, entry), "token")

    @classmethod
    def needs(cls, project: "NeedsContext") -> Cond:
        """A call resolving to an attach-kind opener, inside a `def`."""
        return all_of(attach(project), words({"def"}))


def _detach_expr(ctx: "FileContext", node: cst.Call, entry) -> tuple[str, list[ImportRequest]] | None:
    """How the fix spells the closer (`context.detach`, `detach`) and the import it needs (None: no safe way)."""
    closer_module, _, closer = entry.closer.rpartition(".")
    func = node.func
    if isinstance(func, cst.Attribute):
        base = dotted(func.value)
        return (f"{base}.{closer}", []) if base else None
    imports = ctx.resolver.module_scope.imports()
    if imports.get(closer) == entry.closer:
        return closer, []
    if closer in imports or ctx.resolver.module_defines(closer):
        return None
    return closer, [ImportRequest(closer_module, closer)]
