"""The factory fix of a client closed in `finally` (PRP101/PRP102, `http/edits.py:closing_try_fix`) is
offered only for the shape it rewrites faithfully; every other shape is still reported, without a fix."""

from __future__ import annotations

import pytest

from proplint.families.http.factory import FACTORY_EXAMPLE_CONFIG, FACTORY_EXAMPLE_FILE

REWRITTEN = ("async def fetch(url):\n    client = httpx.AsyncClient()\n    try:\n        return await client.get(url)\n"
             "    finally:\n        await client.aclose()\n")

NOT_REWRITTEN = {
    "used after the try": "async def fetch(url):\n    client = httpx.AsyncClient()\n    try:\n"
                          "        r = await client.get(url)\n    finally:\n        await client.aclose()\n"
                          "    return r, client\n",
    "more in finally": "async def fetch(url):\n    client = httpx.AsyncClient()\n    try:\n"
                       "        return await client.get(url)\n    finally:\n        await client.aclose()\n"
                       "        log('closed')\n",
    "a comment in finally": "async def fetch(url):\n    client = httpx.AsyncClient()\n    try:\n"
                            "        return await client.get(url)\n    finally:  # always\n"
                            "        await client.aclose()\n",
    "another client closed": "async def fetch(url, other):\n    client = httpx.AsyncClient()\n    try:\n"
                             "        return await client.get(url)\n    finally:\n        await other.aclose()\n",
    "a statement in between": "async def fetch(url):\n    client = httpx.AsyncClient()\n    log('open')\n    try:\n"
                              "        return await client.get(url)\n    finally:\n        await client.aclose()\n",
    "an else clause": "async def fetch(url):\n    client = httpx.AsyncClient()\n    try:\n"
                      "        r = await client.get(url)\n    except OSError:\n        r = None\n    else:\n"
                      "        log(r)\n    finally:\n        await client.aclose()\n",
    "stored on self": "class Api:\n    async def open(self, url):\n        self.client = httpx.AsyncClient()\n"
                      "        try:\n            return await self.client.get(url)\n        finally:\n"
                      "            await self.client.aclose()\n",
}


def _prp101(make_project, body):
    project = make_project("import httpx\n\n\n" + body, FACTORY_EXAMPLE_CONFIG, FACTORY_EXAMPLE_FILE)
    return [f for f in project.check() if f.code == "PRP101"]


def test_the_closing_try_gets_the_factory_fix(make_project):
    [finding] = _prp101(make_project, REWRITTEN)
    assert finding.fix is not None and finding.fix.applicability == "unsafe"


@pytest.mark.parametrize("body", NOT_REWRITTEN.values(), ids=list(NOT_REWRITTEN))
def test_other_shapes_are_reported_without_a_fix(make_project, body):
    [finding] = _prp101(make_project, body)
    assert finding.fix is None, finding.fix
    assert "no automatic fix" in finding.message
