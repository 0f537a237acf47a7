"""The API keeps the contract its OpenAPI document states.

Schemathesis generates requests for every operation of /api/openapi.json (valid ones and invalid
ones) and sends them to the real server on 127.0.0.1, signed in as a workspace's administrator and
with real ids most of the time, so requests get past the look-ups. Every answer must be documented:
no 5xx, a documented status, content type and body. The run is bounded by a number of cases per
operation and by time, and repeats the same cases each run (derandomised), so CI does not flake.
docs/api-errors.md describes the error shape and statuses checked here.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import requests
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from frontdesk.http.openapi import RESPONSE_NAMES
from frontdesk.store import tables as t
from tests.conftest import Server
from tests.factories import make_admin, make_inbox, make_member, receive, token_for

# Per operation, with valid input and with invalid: about 900 requests, the same ones each run.
# A longer hunt for new faults: FRONTDESK_TEST_API_CASES=50 FRONTDESK_TEST_API_SECONDS=1800
# FRONTDESK_TEST_API_RANDOM=1 pytest tests/test_api_contract.py
CASES_PER_MODE = int(os.environ.get("FRONTDESK_TEST_API_CASES", "5"))
TIME_BUDGET_SECONDS = float(os.environ.get("FRONTDESK_TEST_API_SECONDS", "150"))
DERANDOMIZE = os.environ.get("FRONTDESK_TEST_API_RANDOM", "") != "1"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


# ---- the document ----------------------------------------------------------------------------


async def test_every_operation_documents_its_errors_with_the_error_schema(http: httpx.AsyncClient) -> None:
    document = (await http.get("/api/openapi.json")).json()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["Error"]["required"] == ["error"]
    assert schemas["Error"]["properties"]["error"]["required"] == ["code", "message", "field"]
    error_ref = {"$ref": "#/components/schemas/Error"}
    shared = document["components"]["responses"]
    for response in shared.values():
        assert response["content"] == {"application/json": {"schema": error_ref}}
    assert "Retry-After" in shared["RateLimited"]["headers"]
    for path, item in document["paths"].items():
        for method, operation in item.items():
            name = f"{method.upper()} {path}"
            responses = operation["responses"]
            takes_input = bool(operation.get("parameters") or operation.get("requestBody"))
            for status, response in responses.items():
                if status.startswith("4"):
                    assert response == {"$ref": f"#/components/responses/{RESPONSE_NAMES[int(status)]}"}, name
            if takes_input:
                assert "422" in responses, name
            if "{" in path:
                assert "404" in responses, name
            if "requestBody" in operation:
                assert {"400", "413"} <= responses.keys(), name
            signed_in = path.startswith("/api/v1/") and not path.startswith(
                ("/api/v1/auth/login", "/api/v1/auth/password-reset", "/api/v1/invitations/")
            )
            if signed_in:
                assert "401" in responses, name
                assert operation["security"] == [{"apiToken": []}, {"session": []}], name
            else:
                assert "security" not in operation, name
            if path.startswith("/widget/v1/"):
                assert {"410", "429"} <= responses.keys(), name


async def test_every_json_body_has_a_typed_schema(http: httpx.AsyncClient) -> None:
    """A route that returns a plain dict with no response model is documented as any object, and
    the run cannot check its body: each 2xx JSON body names its fields (or its values' type)."""
    document = (await http.get("/api/openapi.json")).json()
    untyped = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema", {})
                if not status.startswith("2") or schema.get("type") != "object":
                    continue
                if "properties" not in schema and not isinstance(schema.get("additionalProperties"), dict):
                    untyped.append(f"{method.upper()} {path} {status}")
    assert not untyped, untyped


def test_every_error_status_is_documented() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "api-errors.md").read_text(encoding="utf-8")
    missing = [f"{s} {name}" for s, name in RESPONSE_NAMES.items() if f"| `{s}` | `{name}` |" not in text]
    assert not missing, f"docs/api-errors.md does not document: {', '.join(missing)}"


# ---- the run ---------------------------------------------------------------------------------


@dataclass
class World:
    """What the run signs in with and the ids it puts into paths."""

    base_url: str
    bearer: str
    visitor: str
    ids: dict[str, Any]
    web_uid: str
    api_uid: str
    keep: dict[str, Any] = field(default_factory=dict)  # ids never to put into a path (ours)
    file_path: dict[str, str] = field(default_factory=dict)  # a stored attachment's year/month/token


async def _first_id(server: Server, table: sa.Table) -> int:
    async with server.services.db.read() as conn:
        found = (await conn.execute(sa.select(sa.func.min(table.c.id)))).scalar()
    assert found is not None, table.name
    return int(found)


async def _website_visitor(http: httpx.AsyncClient, headers: dict[str, str], ws: int) -> tuple[str, str]:
    """A website inbox and a visitor who has written in: the inbox's uid and the visitor token."""
    made = await http.post(
        f"/api/v1/workspaces/{ws}/inboxes",
        headers=headers,
        json={"name": "Website", "channel_type": "web", "settings": {}},
    )
    uid = made.json()["uid"]
    session = await http.post(f"/widget/v1/{uid}/sessions", json={"page": {"url": "https://shop.example/"}})
    visitor = session.json()["visitor_token"]
    sent = await http.post(
        f"/widget/v1/{uid}/messages",
        headers={"Authorization": f"Visitor {visitor}"},
        json={"text": "hi", "client_id": "c-1"},
    )
    assert sent.status_code == 200, sent.text
    return uid, visitor


async def _stored_file(
    server: Server, http: httpx.AsyncClient, conv: str, h: dict[str, str]
) -> dict[str, Any]:
    """A note with a file in the conversation at `conv`: the file's year, month and token."""
    note = await http.post(
        f"{conv}/attachments",
        headers=h,
        data={"private": "true"},
        files={"file": ("hello.txt", b"hello", "text/plain")},
    )
    assert note.status_code == 201, note.text
    async with server.services.db.read() as conn:
        stored = (await conn.execute(sa.select(t.attachments.c.path))).scalar_one()
    year, month, token = stored.split("/")
    return {"year": year, "month": month, "token": token}


async def _world(server: Server, http: httpx.AsyncClient) -> World:
    admin, ws = await make_admin(server, http)
    agent = await make_member(server, http, ws)
    await token_for(http, admin.email)  # a second token, for the run to revoke
    api = await make_inbox(http, admin, ws)
    await receive(http, api, "m-1")
    h = admin.headers
    web_uid, visitor = await _website_visitor(http, h, ws)
    for path, body in (
        ("labels", {"name": "billing"}),
        ("teams", {"name": "Support"}),
        ("canned-responses", {"short_code": "hello", "text": "Hello!"}),
    ):
        made = await http.post(f"/api/v1/workspaces/{ws}/{path}", headers=h, json=body)
        assert made.status_code == 201, made.text
    conversation_id = await _first_id(server, t.conversations)
    conversation = f"/api/v1/workspaces/{ws}/conversations/{conversation_id}"
    file_path = await _stored_file(server, http, conversation, h)
    tokens = (await http.get("/api/v1/me/tokens", headers=h)).json()
    ids = {
        "workspace_id": ws,
        "user_id": agent.user_id,
        "inbox_id": api.id,
        "conversation_id": conversation_id,
        "token_id": tokens[-1]["id"],
        # An entry point's QR code (the API inbox has none: 404 when resolved).
        "number": 0,
        "image_format": "svg",
    }
    for name, table in (
        ("message_id", t.messages),
        ("contact_id", t.contacts),
        ("label_id", t.labels),
        ("team_id", t.teams),
        ("canned_id", t.canned_responses),
        ("visit_id", t.web_visits),
    ):
        ids[name] = await _first_id(server, table)
    return World(
        base_url=server.url,
        bearer=f"Bearer {admin.token}",
        visitor=f"Visitor {visitor}",
        ids=ids,
        web_uid=web_uid,
        api_uid=api.webhook_path.rstrip("/").rsplit("/", 1)[-1],
        keep={"token_id": tokens[0]["id"], "user_id": admin.user_id},
        file_path=file_path,
    )


def _resolve(case: Case, world: World, resolve: bool) -> None:
    """Real ids (most of the time), and never the administrator's own token or membership."""
    path = case.path_parameters or {}
    for name in list(path):
        if path[name] == world.keep.get(name) or (resolve and name in world.ids):
            path[name] = world.ids[name]
    if resolve and case.operation.path == "/files/{year}/{month}/{token}":
        path.update(world.file_path)
    if resolve and "inbox_uid" in path:
        webhook = case.operation.path.startswith("/webhooks/")
        path["inbox_uid"] = world.api_uid if webhook else world.web_uid
        if webhook:
            path["channel_type"] = "api"


@dataclass
class Outcome:
    cases: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    operations: int = 0
    failures: dict[str, str] = field(default_factory=dict)  # one per operation and kind of failure


def _one_operation(
    operation: Any, mode: GenerationMode, world: World, session: requests.Session, out: Outcome
) -> None:
    needs_visitor = operation.path.startswith("/widget/")

    @given(
        case=operation.as_strategy(generation_mode=mode), resolve=st.sampled_from([True, True, True, False])
    )
    @settings(
        max_examples=CASES_PER_MODE,
        deadline=None,
        database=None,
        derandomize=DERANDOMIZE,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Case, resolve: bool) -> None:
        _resolve(case, world, resolve)
        headers = {}
        if needs_visitor and resolve:
            headers["authorization"] = world.visitor
        elif not needs_visitor:
            headers["Authorization"] = world.bearer
        out.cases += 1
        response = case.call(base_url=world.base_url, session=session, headers=headers, timeout=30)
        out.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, FailureGroup) as exc:
            failures = getattr(exc, "exceptions", (exc,))
            for failure in failures:
                key = f"{operation.label} [{mode.value}]: {getattr(failure, 'title', type(failure).__name__)}"
                out.failures.setdefault(
                    key,
                    f"{getattr(failure, 'message', str(failure))}\n{case.as_curl_command(headers=headers)}",
                )

    try:
        run()
    except Unsatisfiable:
        # An operation without inputs (GET /api/v1/me) has no invalid request to make.
        if mode is not GenerationMode.NEGATIVE:
            raise


def _run(document: dict[str, Any], world: World, deadline: float) -> Outcome:
    schema = schemathesis.openapi.from_dict(document)
    operations = [result.ok() for result in schema.get_all_operations()]
    # Deletions last, so the ids the others use exist while they run.
    operations.sort(key=lambda op: op.method.upper() == "DELETE")
    out = Outcome()
    with requests.Session() as session:
        for operation in operations:
            if time.monotonic() > deadline:
                break
            out.operations += 1
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _one_operation(operation, mode, world, session, out)
    return out


async def test_every_operation_answers_as_documented(server: Server, http: httpx.AsyncClient) -> None:
    world = await _world(server, http)
    document = (await http.get("/api/openapi.json")).json()
    started = time.monotonic()
    out = await asyncio.to_thread(_run, document, world, started + TIME_BUDGET_SECONDS)
    total = sum(len(item) for item in document["paths"].values())
    report = "\n\n".join(f"{key}\n{detail}" for key, detail in sorted(out.failures.items()))
    seconds = time.monotonic() - started
    print(f"{out.cases} cases, {out.operations}/{total} operations, {seconds:.0f} s: {dict(out.statuses)}")
    assert not out.failures, f"{len(out.failures)} kinds of failure:\n\n{report}"
    assert out.operations == total, "the time budget ran out before every operation ran"
    assert await _anonymous_answers(http, document, world) == {}


async def _anonymous_answers(
    http: httpx.AsyncClient, document: dict[str, Any], world: World
) -> dict[str, Any]:
    """Each operation the document marks as signed in, asked with no credentials: anything but 401."""
    wrong = {}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if "security" in operation:
                url = path.format(**world.ids)
                status = (await http.request(method.upper(), url)).status_code
                if status != 401:
                    wrong[f"{method.upper()} {path}"] = status
    return wrong


async def test_an_unreadable_form_is_malformed(server: Server, http: httpx.AsyncClient) -> None:
    admin, _ = await make_admin(server, http)
    r = await http.post(
        "/api/v1/me/avatar",
        headers={**admin.headers, "Content-Type": "multipart/form-data"},  # no boundary
        content=b"--x\r\n",
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == "malformed", r.text
