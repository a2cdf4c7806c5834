"""HTTP clients that send no trace context (PRP101-PRP104).

What the family contributes, as data (`FAMILY`); `proplint.registry` collects it.
"""

from __future__ import annotations

from proplint.core.family import Collector, Family
from proplint.families.http import http

FAMILY = Family(
    name="http",
    prefix="PRP1",
    rules=(http.UntracedAsyncClient, http.UntracedSyncHttpx, http.UntracedRequests, http.UntracedAiohttp,),
    checks=(http.HttpClientCheck,),
    roles=(http.HttpClient, http.HttpLibrary,),
)
