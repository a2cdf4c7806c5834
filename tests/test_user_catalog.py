"""A user catalog is as good as the built-in one, across modules: the project index reads the facts of
its clients too (its gates come from the loaded catalogs, not from the built-in files)."""

from __future__ import annotations

BUS_CATALOG = """
[[message_client]]
name = "mybus"
library = "mybus"
constructors = ["mybus.Client"]

[[producer]]
kind = "mybus"
methods = ["send_event"]
library = "mybus"
payload_index = 0
advice = "put a carrier in the event"
"""


def test_a_user_catalog_client_made_in_one_module_is_a_producer_in_another(make_project):
    files = {
        "tools/bus.toml": BUS_CATALOG,
        "svc/__init__.py": "",
        "svc/bus.py": "import mybus\n\nclient = mybus.Client()\n",
    }
    api = "from svc.bus import client\n\n\ndef notify(order):\n    client.send_event({'order': order})\n"
    project = make_project(api, {"catalogs": ["tools/bus.toml"]}, files, path="svc/api.py")
    findings = [(f.code, f.line) for f in project.check()]
    assert findings == [("PRP301", 5)]


def test_without_the_user_catalog_nothing_is_reported(make_project):
    files = {"svc/__init__.py": "", "svc/bus.py": "import mybus\n\nclient = mybus.Client()\n"}
    api = "from svc.bus import client\n\n\ndef notify(order):\n    client.send_event({'order': order})\n"
    project = make_project(api, {}, files, path="svc/api.py")
    assert [f.code for f in project.check()] == []
