"""ui_iot: the browser-facing app. Its outbound calls to Keycloak bypass the traced client.

A trailing "expect" comment marks each finding of `proplint check` (tests/test_example_service.py reads them).
"""

import os

import httpx

KEYCLOAK_URL = os.environ.get("KEYCLOAK_URL", "http://keycloak:8080/realms/iot")
CLIENT_ID = os.environ.get("OAUTH_CLIENT_ID", "ui-iot")
TOKEN_URL = f"{KEYCLOAK_URL}/protocol/openid-connect/token"


class AuthError(Exception):
    pass


async def oauth_callback(code: str, redirect_uri: str) -> dict:
    """Exchange the authorization code for tokens."""
    form = {"grant_type": "authorization_code", "code": code, "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri}
    async with httpx.AsyncClient(timeout=10.0) as client:  # expect: PRP101 fix=safe
        response = await client.post(TOKEN_URL, data=form)
    if response.status_code != 200:
        raise AuthError(f"token exchange failed: {response.status_code}")
    return response.json()


async def refresh_token(refresh: str) -> dict:
    form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": CLIENT_ID}
    async with httpx.AsyncClient(timeout=10.0) as client:  # expect: PRP101 fix=safe
        response = await client.post(TOKEN_URL, data=form)
    response.raise_for_status()
    return response.json()


async def healthz() -> dict:
    """Readiness: the app is up and Keycloak's signing keys are reachable."""
    jwks_uri = f"{KEYCLOAK_URL}/protocol/openid-connect/certs"
    try:
        async with httpx.AsyncClient(timeout=2.0) as client:  # expect: PRP101 fix=safe
            r = await client.get(jwks_uri)
        keycloak = "ok" if r.status_code == 200 else f"http {r.status_code}"
    except httpx.HTTPError as exc:
        keycloak = f"unreachable: {type(exc).__name__}"
    return {"status": "ok", "keycloak": keycloak}


async def debug_auth(token: str) -> dict:
    """Dev only: ask Keycloak who the token belongs to (self-signed certificate in dev)."""
    # The factory sets transport=, and httpx ignores verify= once a transport is given: the fix is unsafe.
    async with httpx.AsyncClient(timeout=5.0, verify=False) as client:  # expect: PRP101 fix=unsafe
        r = await client.get(f"{KEYCLOAK_URL}/protocol/openid-connect/userinfo",
                             headers={"Authorization": f"Bearer {token}"})
    return {"status": r.status_code, "userinfo": r.json() if r.status_code == 200 else None}
