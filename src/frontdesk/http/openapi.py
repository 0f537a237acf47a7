"""The error half of the OpenAPI document: one Error schema and, per operation, every 4xx it can answer.

Most statuses follow from what an operation takes, read off its dependencies (see statuses_of):
an operation that signs its caller in can answer 401, one with an id in its path 404, one with a
body 400 and 413. What only the code knows (a 409 for a duplicate, a 429 from a rate limit) an
operation declares with `responses=answers(409)`, or a whole router with the same argument.
docs/api-errors.md describes the shape and the statuses; decision 0025 says why it is built here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.routing import BaseRoute

from frontdesk.http.deps import SAFE_METHODS, current_auth, workspace_actor

__all__ = ["DESCRIPTIONS", "RESPONSE_NAMES", "answers", "document_errors", "statuses_of"]

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "description": "Every refusal: a stable machine code, a message for people, and the offending field.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "Machine-readable, e.g. not_found, invalid."},
                "message": {"type": "string", "description": "Says what is wrong, in English."},
                "field": {
                    "anyOf": [{"type": "string"}, {"type": "null"}],
                    "description": "The field, parameter or header at fault (dotted when nested), if any.",
                },
            },
            "required": ["code", "message", "field"],
        }
    },
    "required": ["error"],
}

DESCRIPTIONS = {
    400: "The request cannot be read: the body is not valid JSON, not a readable form, or not what "
    "the channel sends.",
    401: "Not signed in: no session cookie or API token, or an unknown, revoked or expired one (for "
    "the widget: no valid visitor token; for webhooks: a wrong signature).",
    403: "Not allowed: the role does not permit it, the membership is deactivated, the visitor is "
    "blocked, or a cookie session sent no or a wrong X-CSRF-Token header.",
    404: "Not found, or not visible to the caller (an object of another workspace or of an inbox the "
    "agent is not a member of is reported the same way).",
    405: "The method is not allowed here (Allow names the ones that are): a GET on the webhook "
    "address of a channel that has no GET verification.",
    409: "Conflicts with the current state: it already exists, or it cannot happen now.",
    410: "The inbox is disabled: nothing was stored.",
    413: "The body or a file is larger than the limit.",
    422: "Invalid input: a wrong type, a value out of range, a missing or unknown field; `field` names it.",
    429: "Too many requests: try again after the number of seconds in Retry-After.",
}

_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
}

SECURITY_SCHEMES = {
    "apiToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token (POST /api/v1/me/tokens).",
    },
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "frontdesk_session",
        "description": "The dashboard's session (POST /api/v1/auth/login); writes also need the "
        "X-CSRF-Token header.",
    },
}


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """For a route's or a router's `responses=`: the statuses its code can answer beyond those
    that follow from its dependencies."""
    return {status: {"description": DESCRIPTIONS[status]} for status in statuses}


def _calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)


def _has_inputs(dependant: Dependant) -> bool:
    params = (
        dependant.path_params,
        dependant.query_params,
        dependant.header_params,
        dependant.cookie_params,
        dependant.body_params,
    )
    return any(params) or any(_has_inputs(sub) for sub in dependant.dependencies)


def _signs_in(calls: set[Any]) -> bool:
    return current_auth in calls or workspace_actor in calls


def statuses_of(route: APIRoute | RouteContext, method: str) -> set[int]:
    """The 4xx statuses an operation can answer (`route` as included, with its routers' `responses`)."""
    calls = set(_calls(route.dependant))
    found = {int(s) for s in route.responses if str(s).isdigit() and 400 <= int(s) < 500}
    signed_in = _signs_in(calls)
    if signed_in:
        found.add(401)
    if workspace_actor in calls:
        found |= {403, 404}  # a workspace the caller is not (or no longer) a member of
    elif signed_in and method not in SAFE_METHODS:
        found.add(403)  # the CSRF check of cookie sessions
    if route.dependant.path_params:
        found.add(404)
    if any(p.alias.lower() == "authorization" for p in route.dependant.header_params):
        found.add(401)  # the widget's visitor token
    if route.body_field is not None:
        found |= {400, 413}
    if _has_inputs(route.dependant):
        found.add(422)
    return found


# Each status once, under components/responses, and referred to from the operations.
RESPONSE_NAMES = {
    400: "BadRequest",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Gone",
    413: "TooLarge",
    422: "InvalidInput",
    429: "RateLimited",
}


def _error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": DESCRIPTIONS[status],
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status == 429:
        response["headers"] = _RETRY_AFTER
    return response


_FILE = {"*/*": {"schema": {"type": "string", "format": "binary"}}}


def _document(operation: dict[str, Any], statuses: Iterable[int], signed_in: bool, file: bool) -> None:
    responses = operation["responses"]
    if file:
        # A stored file goes back with the content type it was stored with.
        responses["200"] = {"description": "The file, in its own content type.", "content": _FILE}
    for key in [k for k in responses if k.isdigit() and 400 <= int(k) < 500]:
        del responses[key]  # FastAPI's own 422 (HTTPValidationError) and the bare `answers` entries
    for status in sorted(statuses):
        responses[str(status)] = {"$ref": f"#/components/responses/{RESPONSE_NAMES[status]}"}
    if signed_in:
        operation["security"] = [{"apiToken": []}, {"session": []}]


def document_errors(document: dict[str, Any], routes: Iterable[BaseRoute]) -> dict[str, Any]:
    """Rewrite the document FastAPI made: our Error schema for every 4xx, per operation."""
    for route in iter_route_contexts(list(routes)):
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        signed_in = _signs_in(set(_calls(route.dependant)))
        answer = route.response_class
        file = isinstance(answer, type) and issubclass(answer, FileResponse)
        for method in route.methods or ():
            operation = document["paths"].get(route.path_format or "", {}).get(method.lower())
            if operation is not None:
                _document(operation, statuses_of(route, method), signed_in, file)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Error"] = ERROR_SCHEMA
    components["responses"] = {name: _error_response(status) for status, name in RESPONSE_NAMES.items()}
    components["securitySchemes"] = SECURITY_SCHEMES
    return document
