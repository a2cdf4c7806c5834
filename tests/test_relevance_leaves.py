"""HTTP calls that leave the system, judged through more of the code (`docs/relevance.md`, "Calls that leave the
system, followed further"): a caller's URL read where the caller binds it, clients handed to helpers of other
modules, settings with a public fallback, tables of one host's URLs, a session handed to another vendor's SDK
object, and an allow-list guard. Each class has both sides: the shape real code has (no finding) and its twin
that still goes to a service of the system."""

from __future__ import annotations

import pytest


def http_lines(project):
    return [f.line for f in project.check() if f.code.startswith("PRP1")]


def line_of(code: str, text: str) -> int:
    return next(i for i, line in enumerate(code.splitlines(), 1) if text in line)


# --- a caller's URL, read in the caller's function --------------------------------------------------------

SHEETS = (
    "import httpx\n\nSHEETS_API_BASE = 'https://sheets.googleapis.com/v4/spreadsheets'\n\n\n"
    "async def _request_with_retry(method, url, *, headers):\n"
    "    async with httpx.AsyncClient(timeout=10) as client:\n"
    "        return await client.request(method, url, headers=headers)\n\n\n"
    "async def values_get(*, spreadsheet_id, headers):\n"
    "    url = f'{SHEETS_API_BASE}/{spreadsheet_id}'\n"
    "    return await _request_with_retry('GET', url, headers=headers)\n\n\n"
    "async def append(*, spreadsheet_id, headers):\n"
    "    url = f'{SHEETS_API_BASE}/{spreadsheet_id}:append'\n"
    "    return await _request_with_retry('POST', url, headers=headers)\n")


def test_a_url_every_caller_binds_to_a_public_host_is_read_where_it_is_bound(make_project):
    assert http_lines(make_project(SHEETS)) == []


@pytest.mark.parametrize("change", [
    # one caller binds its URL to a service of the system
    ("    url = f'{SHEETS_API_BASE}/{spreadsheet_id}:append'\n", "    url = f'http://orders:8000/{spreadsheet_id}'\n"),
    # a caller passes its own parameter: its callers choose it
    ("async def append(*, spreadsheet_id, headers):\n    url = f'{SHEETS_API_BASE}/{spreadsheet_id}:append'\n",
     "async def append(*, url, headers):\n"),
])
def test_a_url_one_caller_binds_to_the_system_or_leaves_open_is_reported(make_project, change):
    code = SHEETS.replace(*change)
    assert code != SHEETS
    assert http_lines(make_project(code)) == [7]


def test_the_callers_name_is_not_read_in_the_called_function(make_project):
    # the called function binds `url` to a public host before the request; the caller's `url` goes elsewhere
    code = SHEETS.replace("    url = f'{SHEETS_API_BASE}/{spreadsheet_id}:append'\n",
                          "    url = 'http://orders:8000/api'\n")
    assert http_lines(make_project(code)) == [7]


# --- a client handed to helpers of other modules -----------------------------------------------------------

GMAIL_CLIENT = (
    "GMAIL_API_BASE = 'https://gmail.googleapis.com/gmail/v1'\n\n\n"
    "async def get_json(client, url, *, access_token, params=None):\n"
    "    response = await client.get(url, params=params, headers={'Authorization': access_token})\n"
    "    return response.json()\n")
GMAIL = (
    "import httpx\n\nfrom mail import gmail_client\nfrom mail.gmail_client import get_json\n\n"
    "GMAIL_API_BASE = gmail_client.GMAIL_API_BASE\n_get_json = gmail_client.get_json\n\n\n"
    "async def _resolve_label(client, access_token, label):\n"
    "    return await get_json(client, f'{GMAIL_API_BASE}/users/me/labels', access_token=access_token)\n\n\n"
    "async def list_messages(*, access_token, label='INBOX', client=None):\n"
    "    async def _list(client_):\n"
    "        label_id = await _resolve_label(client_, access_token, label)\n"
    "        return await _get_json(client_, f'{GMAIL_API_BASE}/users/me/messages', access_token=access_token,\n"
    "                               params={'labelIds': label_id})\n\n"
    "    if client is None:\n"
    "        async with httpx.AsyncClient(timeout=20.0) as owned_client:\n"
    "            return await _list(owned_client)\n"
    "    return await _list(client)\n")
MAIL = {"mail/__init__.py": "", "mail/gmail_client.py": GMAIL_CLIENT}


def test_a_client_handed_through_helpers_to_another_modules_requests_to_a_public_host_is_not_reported(
        make_project):
    assert http_lines(make_project(GMAIL, {}, {**MAIL, "mail/gmail.py": GMAIL}, path="mail/gmail.py")) == []


@pytest.mark.parametrize("change", [
    # the other module's helper requests a URL of its own that goes to a service of the system
    ("mail/gmail_client.py", "    response = await client.get(url,", "    await client.post('http://audit:8000/log')\n"
                                                                     "    response = await client.get(url,"),
    # the helper hands the client on again: not followed across modules
    ("mail/gmail_client.py", "    return response.json()\n", "    await record(client)\n    return response.json()\n"),
    # the constant the URL starts with names a service of the system
    ("mail/gmail_client.py", "'https://gmail.googleapis.com/gmail/v1'", "'http://mail-proxy:8080/gmail/v1'"),
    # one hand-over in the module passes a URL the caller chose
    ("mail/gmail.py", "f'{GMAIL_API_BASE}/users/me/labels'", "label"),
])
def test_a_client_one_helper_sends_into_the_system_is_reported(make_project, change):
    where, old, new = change
    files = {**MAIL, "mail/gmail.py": GMAIL}
    files[where] = files[where].replace(old, new)
    assert files[where] != {**MAIL, "mail/gmail.py": GMAIL}[where]
    assert http_lines(make_project(files["mail/gmail.py"], {}, files, path="mail/gmail.py")) == [21]


def test_a_client_that_makes_requests_is_also_judged_by_the_helpers_it_is_handed_to(make_project):
    code = ("import httpx\n\n\nasync def _audit(client, event):\n"
            "    await client.post('http://audit:8000/events', json=event)\n\n\n"
            "async def fetch(event):\n    async with httpx.AsyncClient() as client:\n"
            "        await client.get('https://api.github.com/meta')\n        await _audit(client, event)\n")
    assert http_lines(make_project(code)) == [9]
    public = code.replace("'http://audit:8000/events'", "'https://hooks.slack.com/services/T0'")
    assert http_lines(make_project(public)) == []


# --- settings with a public fallback; tables of one host's URLs ---------------------------------------------

DAYTONA = (
    "import os\n\nimport httpx\n\n\ndef snapshots():\n"
    "    api_url = os.getenv('SANDBOX_API_URL') or 'https://app.daytona.io/api'\n"
    "    return httpx.get(f\"{api_url.rstrip('/')}/snapshots\", params={'limit': 100}).json()\n")


def test_a_setting_whose_fallback_is_a_public_host_is_not_reported(make_project):
    assert http_lines(make_project(DAYTONA)) == []


@pytest.mark.parametrize("change", [
    ("'https://app.daytona.io/api'", "'http://sandbox:3000/api'"),  # the fallback is a service of the system
    ("os.getenv('SANDBOX_API_URL')", "settings.SANDBOX_API_URL"),  # not a setting read with no default of its own
])
def test_a_fallback_into_the_system_or_after_something_else_is_reported(make_project, change):
    code = DAYTONA.replace(*change)
    assert code != DAYTONA
    assert http_lines(make_project(code)) == [8]


VIEWS = (
    "import httpx\n\nREGISTRY = 'https://raw.githubusercontent.com/acme/registry/main/views'\n"
    "KNOWN_VIEWS = {\n    'blocks': f'{REGISTRY}/blocks.json',\n    'flows': f'{REGISTRY}/flows.json',\n}\n\n\n"
    "async def view(name):\n    async with httpx.AsyncClient() as client:\n"
    "        return (await client.get(KNOWN_VIEWS[name])).json()\n")


def test_a_table_of_one_public_hosts_urls_is_not_reported(make_project):
    assert http_lines(make_project(VIEWS)) == []


def test_a_table_with_a_url_of_the_system_is_reported(make_project):
    code = VIEWS.replace("f'{REGISTRY}/flows.json'", "'http://flows:8000/views/flows.json'")
    assert http_lines(make_project(code)) == [11]


# --- a session handed to another vendor's SDK object --------------------------------------------------------

STORE = (
    "import aiohttp\nfrom miniopy_async import Minio\n\n\nclass Store:\n"
    "    def _client(self) -> Minio:\n        return Minio('s3.local:9000')\n\n"
    "    async def get_object(self, bucket, key):\n        client = self._client()\n"
    "        async with aiohttp.ClientSession() as session:\n"
    "            resp = await client.get_object(bucket, key, session)\n"
    "            return await resp.content.read()\n")


def test_a_session_handed_to_a_method_of_a_vendor_sdk_object_is_not_reported(make_project):
    assert http_lines(make_project(STORE)) == []
    made = STORE.replace("        client = self._client()\n", "        client = Minio('s3.local:9000')\n")
    assert http_lines(make_project(made)) == []


@pytest.mark.parametrize("change", [
    # the object is the project's own: what it does with the session is not known
    ("    def _client(self) -> Minio:\n        return Minio('s3.local:9000')\n",
     "    def _client(self) -> 'Store':\n        return self\n"),
    # the session also makes a request of its own
    ("            return await resp.content.read()\n",
     "            await session.post('http://audit:8000/events')\n            return await resp.content.read()\n"),
])
def test_a_session_handed_to_the_projects_object_or_used_itself_is_reported(make_project, change):
    code = STORE.replace(*change)
    assert code != STORE
    assert http_lines(make_project(code)) == [11]


# --- an allow-list guard ------------------------------------------------------------------------------------

PAGES = (
    "from urllib.parse import urlparse\n\nimport httpx\n\n"
    "GRAPH_API_BASE = 'https://graph.microsoft.com/v1.0'\n\n\n"
    "def _validated_next_link(raw):\n    if not isinstance(raw, str) or not raw:\n        return None\n"
    "    hostname = urlparse(raw).hostname\n"
    "    if hostname is None or hostname.casefold() != 'graph.microsoft.com':\n        return None\n"
    "    return raw\n\n\n"
    "async def list_messages(token):\n    async with httpx.AsyncClient() as client:\n"
    "        url = f'{GRAPH_API_BASE}/me/messages'\n        out = []\n        while url:\n"
    "            payload = (await client.get(url, headers={'Authorization': token})).json()\n"
    "            out += payload.get('value', [])\n"
    "            url = _validated_next_link(payload.get('@odata.nextLink'))\n        return out\n")


def test_a_next_link_let_through_to_one_public_host_is_not_reported(make_project):
    assert http_lines(make_project(PAGES)) == []


@pytest.mark.parametrize("change", [
    # a deny-list: every other host is let through
    ("hostname.casefold() != 'graph.microsoft.com'", "hostname.casefold() == 'evil.example.com'"),
    # a value returned before the guard
    ("    hostname = urlparse(raw).hostname\n", "    if raw.startswith('/'):\n        return raw\n"
                                               "    hostname = urlparse(raw).hostname\n"),
    # the guard only logs: the link goes through anyway
    ("'graph.microsoft.com':\n        return None\n", "'graph.microsoft.com':\n        print(raw)\n"),
    # the one host let through is a service of the system
    ("'graph.microsoft.com'", "'graph.internal'"),
])
def test_a_guard_that_lets_other_hosts_through_is_reported(make_project, change):
    code = PAGES.replace(*change)
    assert code != PAGES
    assert http_lines(make_project(code)) == [line_of(code, "httpx.AsyncClient()")]


# --- a field of a record a module builder makes -------------------------------------------------------------

DRIVE = (
    "from dataclasses import dataclass\n\nimport httpx\n\n"
    "DRIVE_UPLOAD_API_BASE = 'https://www.googleapis.com/upload/drive/v3'\n\n\n"
    "@dataclass\nclass UploadRequest:\n    target_url: str\n    content: bytes\n\n\n"
    "def build_upload_request(content):\n"
    "    return UploadRequest(target_url=f'{DRIVE_UPLOAD_API_BASE}/files?uploadType=multipart', content=content)\n\n\n"
    "async def _post_with_retry(client, request):\n"
    "    return await client.post(request.target_url, content=request.content)\n\n\n"
    "async def upload_file(content):\n    request = build_upload_request(content)\n"
    "    async with httpx.AsyncClient() as client:\n        return await _post_with_retry(client, request)\n")


def test_a_url_field_of_a_record_every_builder_return_fills_with_a_public_host_is_not_reported(make_project):
    assert http_lines(make_project(DRIVE)) == []


@pytest.mark.parametrize("change", [
    # the builder fills the field with a service of the system
    ("f'{DRIVE_UPLOAD_API_BASE}/files?uploadType=multipart'", "'http://uploads:8000/files'"),
    # the record is the caller's: its field is not known
    ("async def upload_file(content):\n    request = build_upload_request(content)\n",
     "async def upload_file(request):\n"),
    # another field is requested than the builder's keyword
    ("client.post(request.target_url,", "client.post(request.upload_url,"),
])
def test_a_field_not_filled_by_a_builder_with_a_public_host_is_reported(make_project, change):
    code = DRIVE.replace(*change)
    assert code != DRIVE
    assert http_lines(make_project(code)) == [line_of(code, "httpx.AsyncClient()")]
