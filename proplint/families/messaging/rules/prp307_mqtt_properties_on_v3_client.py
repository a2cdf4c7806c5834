"""PRP307 mqtt-properties-on-v3-client: paho `publish(properties=...)` on a client that is not MQTTv5.

The rule's whole truth: declaration, examples, message, fix and needs; the visitor is `check.py`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from proplint.core.cst import has_star, keyword_arg
from proplint.core.needs import all_of, any_of, words
from proplint.core.rule import UNSAFE, Fix, Invalid, Rule, Valid
from proplint.families.messaging.edits import kwarg, with_arg
from proplint.families.messaging.needs import sources

if TYPE_CHECKING:
    from proplint.core.context import NeedsContext
    from proplint.core.needs import Cond
    from proplint.families.messaging.edits import Fixes
    from proplint.families.messaging.model import MessageClient


class MqttPropertiesOnV3Client(Rule):
    code = "PRP307"
    name = "mqtt-properties-on-v3-client"
    summary = "paho `publish(..., properties=...)` on a client that is not MQTTv5 drops the properties."
    fix = "unsafe"
    what_it_does = """
        Finds paho-mqtt `publish(..., properties=...)` on a client whose construction proplint can see
        (`mqtt.Client(...)` in the module, a module-level or `self.` attribute) and whose `protocol=` is not
        `MQTTv5` (the default is MQTT 3.1.1). A client whose construction is not visible is not reported.
    """
    why = """
        User properties exist only in MQTT 5. paho accepts `properties=` on any client and silently does not
        send them on 3.1.1, so a trace carrier put into `UserProperty` never leaves the process and the
        subscriber starts a new trace with no error anywhere.
    """
    example = """
        import paho.mqtt.client as mqtt

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)

        def deliver(topic, payload, props):
            client.publish(topic, payload, properties=props)
    """
    use_instead = """
        import paho.mqtt.client as mqtt

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)

        def deliver(topic, payload, props):
            client.publish(topic, payload, properties=props)
    """
    fix_safety = """
        Adds `protocol=MQTTv5` to the client's construction: unsafe, because the broker must accept MQTT 5
        and some callbacks receive MQTT 5 reason codes and properties. On 3.1.1 put the carrier in the
        payload instead (PRP301's payload fix).
    """
    VALID = (
        Valid("import paho.mqtt.client as mqtt\n\nclient = mqtt.Client(protocol=mqtt.MQTTv5)\n\n"
              "def deliver(payload, props):\n    client.publish('t', payload, properties=props)\n"),
        Valid("import paho.mqtt.client as mqtt\n\ndef deliver(client: mqtt.Client, payload, props):\n"
              "    client.publish('t', payload, properties=props)\n"),
    )
    INVALID = (
        Invalid("import paho.mqtt.client as mqtt\nfrom opentelemetry.propagate import inject\n\n"
                "client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)\n\ndef deliver(payload, props):\n"
                "    carrier = {}\n    inject(carrier)\n    props.UserProperty = list(carrier.items())\n"
                "    client.publish('t', payload, properties=props)\n",
                fixed="import paho.mqtt.client as mqtt\nfrom opentelemetry.propagate import inject\n\n"
                      "client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)\n\n"
                      "def deliver(payload, props):\n    carrier = {}\n    inject(carrier)\n"
                      "    props.UserProperty = list(carrier.items())\n    client.publish('t', payload, properties=props)\n",
                unsafe=True),
    )

    @classmethod
    def needs(cls, project: "NeedsContext") -> "Cond":
        """The carrier of a statements-shaped producer (`mqtt_properties`) on a receiver whose constructor call
        lacks the client's `requires_keyword`: its kind is inferred, not guessed (`meets_requirement` is True
        without a kind), with its origin. The carrier may be positional: its keyword is not required."""
        found = sources(project)
        return any_of(*(all_of(words(e.methods), found.of(e.kind, origin=True)) for e in found.producers()
                        if e.shape == "mqtt_properties" and e.kind in found.clients
                        and found.clients[e.kind].requires_keyword))

    @staticmethod
    def message() -> str:
        return ("publish(properties=...) on an MQTT client not created with protocol=MQTTv5: paho drops the "
                "properties (and the trace carrier in them) without an error")

    @staticmethod
    def build_fix(edits: "Fixes", origin: cst.Call | None, client: "MessageClient | None") -> Fix | None:
        """The client's constructor call `origin` given the required keyword (`protocol=MQTTv5`)."""
        if origin is None or client is None or has_star(origin) or keyword_arg(origin, client.requires_keyword):
            return None
        value, imports = edits.name_for(client.requires_values[0])
        new = with_arg(origin, kwarg(client.requires_keyword, edits.expr(value)))
        return Fix(UNSAFE, f"Create the client with {client.requires_keyword}={value}",
                   replacements=[(origin, new)], imports=imports)
