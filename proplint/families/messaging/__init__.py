"""Messages produced without a trace carrier, consumed without restoring it (PRP301-PRP307).

A message crosses a process boundary: the OpenTelemetry context (a ContextVar) does not travel with it.
The producer must put a carrier (`traceparent`, `tracestate`, `baggage`) into the message, and the
consumer must extract it and make it the parent of the processing span; otherwise the enqueue and the
processing are two unrelated traces. What the family contributes, as data (`FAMILY`); `proplint.registry`
collects it. Catalog: `rules/messaging.toml` (roles in `model.py`).
"""

from __future__ import annotations

from proplint.core.family import Collector, Family
from proplint.families.messaging import facts, model, outbox, scheme, takers
from proplint.families.messaging.check import MessagingCheck
from proplint.families.messaging.rules.prp301_producer_without_trace_carrier import ProducerWithoutTraceCarrier
from proplint.families.messaging.rules.prp302_consumer_processes_without_extract import ConsumerWithoutExtract
from proplint.families.messaging.rules.prp303_extract_result_unused_or_misparented import ExtractResultUnused
from proplint.families.messaging.rules.prp304_sqs_receive_without_attribute_names import (
    SqsReceiveWithoutAttributeNames)
from proplint.families.messaging.rules.prp305_confluent_kafka_early_import import ConfluentEarlyImport
from proplint.families.messaging.rules.prp306_celery_delay_drops_headers import CeleryDelayDropsHeaders
from proplint.families.messaging.rules.prp307_mqtt_properties_on_v3_client import MqttPropertiesOnV3Client

FAMILY = Family(
    name="messaging",
    prefix="PRP3",
    rules=(ProducerWithoutTraceCarrier, ConsumerWithoutExtract, ExtractResultUnused, SqsReceiveWithoutAttributeNames,
           ConfluentEarlyImport, CeleryDelayDropsHeaders, MqttPropertiesOnV3Client),
    checks=(MessagingCheck,),
    roles=(model.MessageClient, model.ClientMethod, model.Producer, model.Consumer, model.CarrierShape,
           model.ReceiveOption, model.EarlyImport),
    collectors=(Collector("messaging", facts.collect_messaging_facts, tokens=facts.gate_tokens),
                Collector("messaging.restoring", facts.collect_restoring, tokens=facts.restoring_tokens),
                Collector("messaging.taken", takers.collect_taken, tokens=takers.taken_tokens),
                Collector("messaging.outbox", outbox.collect_outbox_names, tokens=outbox.OUTBOX_TOKENS),
                Collector("messaging.context_names", scheme.collect_context_names, tokens=scheme.CONTEXT_TOKENS)),
)
