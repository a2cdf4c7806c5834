"""The HTTP family's rules, one module per public code (PRP101-PRP104)."""

from __future__ import annotations

from proplint.families.http.rules.prp101_untraced_httpx_async_client import UntracedAsyncClient
from proplint.families.http.rules.prp102_untraced_httpx_client import UntracedSyncHttpx
from proplint.families.http.rules.prp103_untraced_requests import UntracedRequests
from proplint.families.http.rules.prp104_untraced_aiohttp_session import UntracedAiohttp

RULES = (UntracedAsyncClient, UntracedSyncHttpx, UntracedRequests, UntracedAiohttp)
