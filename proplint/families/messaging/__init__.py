"""Messages produced without a trace carrier, consumed without restoring it (PRP301-PRP307).

What the family contributes, as data (`FAMILY`); `proplint.registry` collects it.
"""

from __future__ import annotations

from proplint.core.family import Collector, Family
from proplint.families.messaging import messaging, messaging_catalog, messaging_rules

FAMILY = Family(
    name="messaging",
    prefix="PRP3",
    rules=(messaging.ProducerWithoutTraceCarrier, messaging.ConsumerWithoutExtract, messaging_rules.ExtractResultUnused, messaging_rules.SqsReceiveWithoutAttributeNames, messaging_rules.ConfluentEarlyImport, messaging_rules.CeleryDelayDropsHeaders, messaging_rules.MqttPropertiesOnV3Client,),
    checks=(messaging.MessagingCheck,),
    roles=(messaging_catalog.MessageClient, messaging_catalog.ClientMethod, messaging_catalog.Producer, messaging_catalog.Consumer, messaging_catalog.CarrierShape, messaging_catalog.ReceiveOption, messaging_catalog.EarlyImport,),
    collectors=(
        Collector("messaging", messaging_catalog.collect_messaging_facts, tokens=messaging_catalog.gate_tokens),
    ),
)
