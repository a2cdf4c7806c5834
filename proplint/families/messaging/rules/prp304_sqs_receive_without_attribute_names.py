"""PRP304 sqs-receive-without-attribute-names: SQS `receive_message` without the attributes that carry
the trace context.

The rule's whole truth: declaration, examples, message, fix and needs; the visitor is `check.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.needs import all_of, any_of, words
from proplint.core.rule import SAFE, Fix, Invalid, Rule, Valid
from proplint.families.messaging.edits import kwarg, with_arg
from proplint.families.messaging.needs import sources

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext
    from proplint.core.needs import Cond
    from proplint.families.messaging.model import ReceiveOption


class SqsReceiveWithoutAttributeNames(Rule):
    code = "PRP304"
    name = "sqs-receive-without-attribute-names"
    summary = "SQS `receive_message` does not ask for the message attributes that carry the trace context."
    side = "receiver"
    fix = "always safe"
    what_it_does = """
        Finds boto3 SQS `receive_message(...)` calls (on a receiver inferred to be an SQS client) without
        `MessageAttributeNames`, or with a literal list that includes none of `All`, `.*` or `traceparent`.
        A non-literal value or `**kwargs` is not reported.
    """
    why = """
        SQS returns message attributes only when they are requested. The producer's `traceparent` travels as
        a message attribute, so a consumer that does not ask for it receives messages without a carrier and
        every processing span starts a new trace, whatever the consumer does next.
    """
    already_propagated = """
        `Boto3SQSInstrumentor().instrument()` anywhere in the project (or zero-code): it adds the propagator's
        fields to `MessageAttributeNames` itself.
    """
    example = """
        import boto3

        sqs = boto3.client("sqs")

        def poll(queue_url):
            return sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=20)
    """
    use_instead = """
        import boto3

        sqs = boto3.client("sqs")

        def poll(queue_url):
            return sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=20, MessageAttributeNames=["All"])
    """
    fix_safety = """
        Adds `MessageAttributeNames=["All"]`, or appends `"All"` to the literal list: safe, the response only
        gains the attributes.
    """
    VALID = (
        Valid("import boto3\n\nsqs = boto3.client('sqs')\nsqs.receive_message(QueueUrl='q', "
              "MessageAttributeNames=['traceparent', 'tracestate'])\n"),
        Valid("import boto3\n\nsqs = boto3.client('sqs')\n\ndef poll(names):\n"
              "    return sqs.receive_message(QueueUrl='q', MessageAttributeNames=names)\n"),
        Valid("import boto3\n\nsqs = boto3.client('sqs')\nsqs.receive_message(QueueUrl='q')\n",
              files={"telemetry.py": "from opentelemetry.instrumentation.boto3sqs import Boto3SQSInstrumentor\n\n"
                                     "Boto3SQSInstrumentor().instrument()\n"}),
        Valid("def poll(client):\n    return client.receive_message(QueueUrl='q')\n"),
    )
    INVALID = (
        Invalid("import boto3\n\nsqs = boto3.client('sqs')\n\ndef poll(url):\n"
                "    return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20)\n",
                fixed="import boto3\n\nsqs = boto3.client('sqs')\n\ndef poll(url):\n"
                      "    return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20, MessageAttributeNames=[\"All\"])\n"),
        Invalid("import boto3\n\nclass Poller:\n    def __init__(self):\n        self.sqs = boto3.Session().client('sqs')\n\n"
                "    def poll(self):\n        return self.sqs.receive_message(QueueUrl='q', MessageAttributeNames=['tenant'])\n",
                fixed="import boto3\n\nclass Poller:\n    def __init__(self):\n        self.sqs = boto3.Session().client('sqs')\n\n"
                      "    def poll(self):\n        return self.sqs.receive_message(QueueUrl='q', "
                      "MessageAttributeNames=['tenant', \"All\"])\n"),
    )

    @classmethod
    def needs(cls, project: "NeedsContext") -> "Cond":
        """A receive method on a receiver of the option's kind (`_receive_option`), for the options not
        instrumented here."""
        found = sources(project)
        return any_of(*(all_of(words(e.methods), found.of(e.kind)) for e in project.catalog.get("receive_option")
                        if not found.silenced(e.instrumented_by)))

    @staticmethod
    def message(method: str, option: "ReceiveOption") -> str:
        return (f"{method}() without {option.keyword} including "
                f"{', '.join(repr(a) for a in option.accepted)}: the trace carrier is not returned")

    @staticmethod
    def build_fix(call: cst.Call, option: "ReceiveOption", found: tuple[int, cst.Arg] | None) -> Fix:
        """The option added with the value `option.add`, or that value appended to the literal list `found`."""
        if found is None:
            value = cst.List([cst.Element(cst.SimpleString(f'"{option.add}"'))])
            new = with_arg(call, kwarg(option.keyword, value))
        else:
            value = found[1].value
            elements = list(value.elements)  # type: ignore[attr-defined]
            if elements and elements[-1].comma is cst.MaybeSentinel.DEFAULT:
                elements[-1] = elements[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
            new_value = value.with_changes(elements=[*elements, cst.Element(cst.SimpleString(f'"{option.add}"'))])
            new = call.deep_replace(value, new_value)
        return Fix(SAFE, f'Ask for the message attributes: {option.keyword} with "{option.add}"',
                   replacements=[(call, new)])
