"""What a rule is (code, name, message, docs, examples) and what a finding and a fix are.

A `Rule` is declarative: one class per public code, holding its documentation in ruff's sections and
its VALID/INVALID examples. The tests turn every example into a test and the docs generator renders
the same text, so code, tests and docs cannot drift. Behaviour lives in a `Check` (see `check.py`),
one visitor per family, which reports findings for one or more rules.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

import libcst as cst

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext
    from proplint.core.needs import Cond

SAFE = "safe"
UNSAFE = "unsafe"
DISPLAY_ONLY = "display-only"

#: How a rule's fix is described in `proplint rules` and the docs.
FIX_KINDS = ("always safe", "sometimes safe", "unsafe", "none")

#: An example project's dependency on OpenTelemetry (a fix imports `opentelemetry` only in a project that uses it)
OTEL_DEPENDENCY = {"requirements.txt": "opentelemetry-api\nopentelemetry-sdk\n"}

#: Where rule documentation is published (one page per code under docs/rules/).
DOCS_URL = "https://github.com/proplint/proplint/blob/main/docs/rules/{code}.md"


def rule_url(code: str) -> str:
    return DOCS_URL.format(code=code)


@dataclass(frozen=True)
class ImportRequest:
    """`from module import obj [as asname]`, or `import module` when obj is None."""

    module: str
    obj: str | None = None
    asname: str | None = None


@dataclass
class Fix:
    """An atomic group of edits: node replacements (by identity) plus imports to ensure."""

    applicability: str
    message: str
    replacements: list[tuple[cst.CSTNode, Any]] = field(default_factory=list)
    imports: list[ImportRequest] = field(default_factory=list)


@dataclass
class Finding:
    code: str
    message: str
    path: str
    line: int = 1
    column: int = 1
    end_line: int = 1
    end_column: int = 1
    fix: Fix | None = None
    node: cst.CSTNode | None = field(default=None, repr=False, compare=False)
    #: ruff-style edits, filled only when an output format asks for them.
    edits: list[dict] | None = field(default=None, repr=False, compare=False)
    #: stable identity across line shifts (`proplint.baseline`), filled by the CLI for baselines and reports.
    fingerprint: str | None = field(default=None, repr=False, compare=False)

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.line, self.column, self.code)

    def display_message(self) -> str:
        if self.fix is None:
            return self.message
        if self.fix.applicability == SAFE:
            return f"{self.message} (fixable)"
        return f"{self.message} (fixable with --unsafe-fixes)"


@dataclass(frozen=True)
class Valid:
    """Code on which the rule must report nothing. `files` are extra project files (for the index)."""

    code: str
    config: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    path: str = "example.py"


@dataclass(frozen=True)
class Invalid:
    """Code on which the rule must report `count` findings; `fixed` is the expected fix output."""

    code: str
    fixed: str | None = None
    unsafe: bool = False
    count: int = 1
    config: Mapping[str, Any] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    path: str = "example.py"


class Rule:
    """One public code. Subclasses fill the class attributes; nothing here runs on files."""

    code: ClassVar[str]
    name: ClassVar[str]
    summary: ClassVar[str]
    what_it_does: ClassVar[str]
    why: ClassVar[str]
    example: ClassVar[str]
    use_instead: ClassVar[str]
    already_propagated: ClassVar[str] = ""
    fix_safety: ClassVar[str]
    fix: ClassVar[str] = "none"  # one of FIX_KINDS
    default_enabled: ClassVar[bool] = True
    #: for a boundary rule, which side of the boundary it looks at: "caller" (an HTTP call, a thread, a
    #: producer: reported only where a context can exist, `core/units.py`'s sources) or "receiver" (a
    #: consumer: reported only where someone reads the context it would restore, the unit's readers)
    side: ClassVar[str] = "caller"
    VALID: ClassVar[Sequence[Valid]] = ()
    INVALID: ClassVar[Sequence[Invalid]] = ()

    @classmethod
    def needs(cls, project: "NeedsContext") -> "Cond":
        """Where this rule can report, in the language of `core.needs` (`words`, `imported`, `any_of`,
        `all_of`, `project.layout.named`): a file meeting none of it is never given to the rule. Read off
        the check's paths to the report: a need that misses a path loses findings (`python -m
        proplint.exactness` proves there is none on real code)."""
        raise NotImplementedError(f"{cls.code} states no needs")

    @classmethod
    def url(cls) -> str:
        return rule_url(cls.code)

    @classmethod
    def documentation(cls) -> str:
        """The rule's page, in ruff's sections; `docs/rules/<code>.md` is exactly this text."""

        def block(text: str) -> str:
            return textwrap.dedent(text).strip("\n")

        parts = [
            f"# {cls.code} {cls.name}",
            "",
            f"{cls.summary}",
            "",
            f"Fix: {cls.fix}." + ("" if cls.default_enabled else " Off by default: enable it with `select`."),
            "",
            "## What it does",
            block(cls.what_it_does),
            "",
            "## Why it breaks tracing",
            block(cls.why),
            "",
        ]
        if cls.already_propagated:
            parts += ["## What counts as already propagated", block(cls.already_propagated), ""]
        parts += [
            "## Example",
            "```python",
            block(cls.example),
            "```",
            "",
            "## Use instead",
            "```python",
            block(cls.use_instead),
            "```",
            "",
            "## Fix safety",
            block(cls.fix_safety),
            "",
        ]
        return "\n".join(parts)
