"""PRP305 confluent-kafka-early-import: `from confluent_kafka import Producer` before the instrumentor
swaps the class.

The rule's whole truth: declaration, examples, message, fix and needs; the visitor is `check.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from proplint.core.needs import any_of, imported
from proplint.core.rule import Invalid, Rule, Valid

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext
    from proplint.core.needs import Cond


class ConfluentEarlyImport(Rule):
    code = "PRP305"
    name = "confluent-kafka-early-import"
    summary = "`from confluent_kafka import Producer/Consumer` runs before the instrumentor swaps the class."
    fix = "none"
    what_it_does = """
        Finds a module-level `from confluent_kafka import Producer` (or `Consumer`) in a project that calls
        `ConfluentKafkaInstrumentor().instrument()`, unless the import runs after the instrumentation: later
        in the same module, or in a module that the instrumenting module imports (at module level) only
        after its `instrument()` call. An import inside a function runs when the function does and is not
        reported.
    """
    why = """
        The instrumentor works by replacing the module attributes `confluent_kafka.Producer` and `Consumer`
        with instrumented subclasses. A name bound by `from confluent_kafka import Producer` before that
        keeps the plain class, so producers built from it inject nothing and consumers restore nothing,
        although the project is instrumented (and PRP301/PRP302 trust the instrumentor).
    """
    example = """
        from confluent_kafka import Producer

        producer = Producer({"bootstrap.servers": "kafka:9092"})
    """
    use_instead = """
        import confluent_kafka

        producer = confluent_kafka.Producer({"bootstrap.servers": "kafka:9092"})
    """
    fix_safety = """
        No automatic fix: look the class up on the module at call time (`confluent_kafka.Producer(...)`), or
        wrap the instance with `ConfluentKafkaInstrumentor.instrument_producer(producer)`.
    """
    _TELEMETRY = {"telemetry.py": "from opentelemetry.instrumentation.confluent_kafka import "
                                  "ConfluentKafkaInstrumentor\n\ndef setup():\n"
                                  "    ConfluentKafkaInstrumentor().instrument()\n"}
    VALID = (
        Valid("from confluent_kafka import Producer\n\nproducer = Producer({})\n"),
        Valid("import confluent_kafka\n\nproducer = confluent_kafka.Producer({})\n", files=_TELEMETRY),
        Valid("from opentelemetry.instrumentation.confluent_kafka import ConfluentKafkaInstrumentor\n\n"
              "ConfluentKafkaInstrumentor().instrument()\n\nfrom confluent_kafka import Producer  # noqa: E402\n"),
        Valid("def make():\n    from confluent_kafka import Consumer\n    return Consumer({})\n", files=_TELEMETRY),
    )
    INVALID = (
        Invalid("from confluent_kafka import KafkaError, Producer\n\nproducer = Producer({})\n", files=_TELEMETRY),
        Invalid("from confluent_kafka import Consumer as KafkaConsumer\n", files=_TELEMETRY, path="app/worker.py"),
    )

    @classmethod
    def needs(cls, project: "NeedsContext") -> "Cond":
        """An absolute `from <module> import <name>` at module level, in a project that calls the library's
        instrumentor. The module is on the statement's first line, an import line; the names may be on
        continuation lines: plain words."""
        return any_of(*(imported([e.module.split(".")[0]], e.names) for e in project.catalog.get("early_import")
                        if project.index.instrumented(e.library)))

    @staticmethod
    def message(module: str, names: list[str], library: str) -> str:
        return (f"from {module} import {', '.join(names)} binds the class before the {library} instrumentor swaps "
                f"it: objects built from this name are not traced; use {module}.{names[0]}(...) at call time")
